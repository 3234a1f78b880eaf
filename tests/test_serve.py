import asyncio
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from rag import Pipeline
from rag.answer_pool import AnswerPool
from rag.llms import ScriptedLLM, first_choices
from rag.serve import BUSY, serve
from rag.serve_request import MAX_BODY

from .conftest import fake_settings

Q = "2024年郑州市地区生产总值预期增长多少?"


def post(url, body, timeout=30):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url + "/v1/chat/completions", data=data, headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(req, timeout=timeout)


def test_chat_completion_with_citations(server):
    with post(server, {"model": "govrag", "messages": [{"role": "user", "content": Q}]}) as r:
        body = json.load(r)
    content = body["choices"][0]["message"]["content"]
    assert "7%左右" in content and "[1]" in content and "出处" in content
    assert body["citations"][0]["paragraph"] == 10 and body["refused"] is False


def test_streaming_chat_completion(server):
    with post(server, {"messages": [{"role": "user", "content": Q}], "stream": True}) as r:
        events = [line[6:] for line in r.read().decode().splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "7%左右" in text
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["citations"]


def test_follow_up_uses_earlier_user_messages(server):
    messages = [
        {"role": "user", "content": "2024年郑州市固定资产投资预期增长多少?"},
        {"role": "assistant", "content": "…"},
        {"role": "user", "content": "那地区生产总值呢?"},
    ]
    with post(server, {"messages": messages}) as r:
        assert "地区生产总值" in json.load(r)["choices"][0]["message"]["content"]


@pytest.mark.parametrize(
    "body",
    [
        {"messages": []},
        {"messages": [{"role": "user", "content": "   "}]},
        {"messages": [{"role": "user", "content": "问" * 2001}]},
        {"messages": [{"role": "assistant", "content": "hi"}]},
        {"prompt": "no messages"},
        b"{not json",
        b"[1, 2]",
    ],
)
def test_bad_requests_get_a_clear_400(server, body):
    with pytest.raises(urllib.error.HTTPError) as e:
        post(server, body)
    assert e.value.code == 400
    assert json.load(e.value)["error"]["message"]


def test_models_and_health(server):
    with urllib.request.urlopen(server + "/v1/models", timeout=5) as r:
        assert json.load(r)["data"][0]["id"] == "govrag"
    with urllib.request.urlopen(server + "/health", timeout=5) as r:
        assert json.load(r)["status"] == "ok"


# ---------------------------------------------------------------- a server that can't be tied up


@pytest.fixture
def start():
    """start(pipe, **serve options) -> base URL, port; every server stops after the test."""
    servers = []

    def launch(pipe, **options):
        srv = serve(pipe, "127.0.0.1", 0, **options)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_port}", srv.server_port

    yield launch
    for srv in servers:
        srv.shutdown()


def raw(port: int, data: bytes, wait: float = 3.0) -> bytes:
    """Everything the server sends back on one connection for `data`, until it
    closes the connection or `wait` seconds pass in silence."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(data)
        received = b""
        try:
            while chunk := s.recv(65536):
                received += chunk
        except TimeoutError:
            pass
    return received


def responses(received: bytes) -> list[tuple[int, dict]]:
    """(status, JSON body) of each HTTP response in a raw byte stream."""
    found = []
    for part in re.split(rb"(?=HTTP/1\.1 \d{3})", received):
        if part:
            head, _, body = part.partition(b"\r\n\r\n")
            found.append((int(head[9:12]), json.loads(body)))
    return found


def test_a_client_trickling_its_headers_is_dropped(start, fake_pipeline):
    _, port = start(fake_pipeline(), head_timeout=1)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        closed = False
        try:
            for _ in range(40):  # a header byte every 0.25 s: 10 s if never dropped
                s.sendall(b"X")
                time.sleep(0.25)
        except OSError:
            closed = True
        if not closed:
            closed = s.recv(100) == b""
        assert closed and time.monotonic() - started < 4  # 1 s allowed, generously


@pytest.mark.parametrize(
    "first",
    [
        b"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n",  # 404
        b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n",  # a GET with a body
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n",
    ],
)
def test_an_unread_body_is_not_parsed_as_the_next_request(start, fake_pipeline, first):
    _, port = start(fake_pipeline(), keep_alive=1)
    hidden = b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"
    got = responses(raw(port, first % len(hidden) + hidden))
    assert len(got) == 1 and got[0][0] in (200, 404, 415) and "data" not in got[0][1]


def test_a_body_that_never_comes_gets_408_and_the_connection_closed(start, fake_pipeline):
    _, port = start(fake_pipeline(), body_timeout=1)
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"
    started = time.monotonic()
    [(status, body)] = responses(raw(port, head, wait=10))  # raw() returns once the server closes
    assert status == 408 and body["error"]["message"] and time.monotonic() - started < 4


def test_a_body_over_the_limit_is_refused_and_the_connection_closed(start, fake_pipeline):
    _, port = start(fake_pipeline())
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    got = raw(port, head + b"Content-Length: %d\r\n\r\n" % (MAX_BODY + 1) + b"{" * 1000)
    [(status, body)] = responses(got)
    assert status == 413 and "过大" in body["error"]["message"]


def test_a_pipelined_request_after_a_read_body_is_answered(start, fake_pipeline):
    _, port = start(fake_pipeline(), keep_alive=1)
    body = json.dumps({"messages": [{"role": "user", "content": Q}]}).encode()
    post_ = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    got = responses(raw(port, post_ + b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert [s for s, _ in got] == [200, 200] and got[1][1]["data"][0]["id"] == "govrag"


DEEP = b'{"messages": [{"role": "user", "content": "q"}], "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
BAD_INPUTS = {
    "deep nesting": (DEEP, "嵌套"),
    "deep nesting in strings is fine, deep in arrays isn't": (
        b'{"messages": [{"role": "user", "content": "[[[[\\"[[["}], "x": ' + b"[" * 40 + b"]" * 40 + b"}",
        "嵌套",
    ),
    "huge integer": (b'{"messages": [{"role": "user", "content": "q"}], "n": ' + b"9" * 5000 + b"}", "数字过长"),
    "NaN": (b'{"messages": [{"role": "user", "content": "q"}], "t": NaN}', "NaN"),
    "invalid UTF-8": (b'{"messages": [{"role": "user", "content": "\xff\xfe"}]}', "UTF-8"),
    "stream as a string": (json.dumps({"messages": [{"role": "user", "content": Q}], "stream": "false"}), "stream"),
    "image part": (
        json.dumps({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}),
        "文本",
    ),
    "content a number": (json.dumps({"messages": [{"role": "user", "content": 5}]}), "文本"),
    "not an object": (b'"hello"', "对象"),
    "truncated": (b'{"messages": [', "JSON"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_inputs_get_a_plain_json_400_the_same_twice(server, name):
    body, says = BAD_INPUTS[name]
    seen = []
    for _ in range(2):
        with pytest.raises(urllib.error.HTTPError) as e:
            post(server, body if isinstance(body, bytes) else body.encode())
        assert e.value.code == 400 and e.value.headers["Content-Type"] == "application/json"
        message = json.load(e.value)["error"]["message"]
        assert says in message
        for internal in ("sys.", "Traceback", "codec", "Error:", "set_int_max_str_digits"):
            assert internal not in message
        seen.append(message)
    assert seen[0] == seen[1]


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/nope", {}, 404),
        ("GET", "/v1/chat/completions", {}, 405),
        ("DELETE", "/v1/models", {}, 405),
        ("POST", "/v1/chat/completions", {"Content-Type": "text/plain"}, 415),
    ],
)
def test_every_error_is_json(server, method, path, headers, status):
    req = urllib.request.Request(server + path, data=b"{}" if method == "POST" else None, method=method)
    for k, v in headers.items():
        req.add_header(k, v)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == status and json.load(e.value)["error"]["message"]


def test_a_malformed_request_line_gets_a_json_400(start, fake_pipeline):
    _, port = start(fake_pipeline())
    [(status, body)] = responses(raw(port, b"NOT HTTP AT ALL\r\n\r\n"))
    assert status == 400 and body["error"]["message"]


def test_openai_content_parts_are_read(server):
    parts = [{"type": "text", "text": "2024年郑州市"}, {"type": "text", "text": "地区生产总值预期增长多少?"}]
    with post(server, {"messages": [{"role": "user", "content": parts}]}) as r:
        by_parts = json.load(r)["choices"][0]["message"]["content"]
    with post(server, {"messages": [{"role": "user", "content": Q}]}) as r:
        assert by_parts == json.load(r)["choices"][0]["message"]["content"]
    with post(server, {"messages": [{"role": "user", "content": Q}], "stream": False}) as r:
        assert r.headers["Content-Type"] == "application/json"


class HeldPipeline(Pipeline):
    """A fake pipeline whose answers wait for `gate` after their first sentence;
    `closed` is set when an answer's generator is closed before its end."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)
        self.closed = threading.Event()
        self.finished = threading.Event()

    def ask_stream(self, question, *args, **kwargs):
        items = super().ask_stream(question, *args, **kwargs)
        try:
            yield next(items)
            self.started.release()
            self.gate.wait(30)
            yield from items
            self.finished.set()
        except GeneratorExit:
            self.closed.set()
            raise


@pytest.fixture
def held(fake_index_dir):
    docs, index_dir = fake_index_dir
    pipe = HeldPipeline(fake_settings(docs, index_dir), llm=ScriptedLLM(first_choices(1)))
    yield pipe
    pipe.gate.set()  # never leave a worker blocked


def test_beyond_the_queue_a_request_gets_503_busy_with_retry_after(start, held):
    url, _ = start(held, workers=1, queue=1)
    body = {"messages": [{"role": "user", "content": Q}]}
    with ThreadPoolExecutor(2) as pool:
        running = pool.submit(post, url, body)
        assert held.started.acquire(timeout=10)  # one runs (held); the next waits in the queue
        queued = pool.submit(post, url, body)
        time.sleep(0.5)
        with pytest.raises(urllib.error.HTTPError) as e:
            post(url, body)
        assert e.value.code == 503 and int(e.value.headers["Retry-After"]) >= 1
        assert json.load(e.value)["error"]["message"] == BUSY
        held.gate.set()
        for job in (running, queued):  # those admitted are answered
            assert "7%左右" in json.load(job.result(timeout=30))["choices"][0]["message"]["content"]


@pytest.mark.parametrize("stream", [True, False])
def test_a_client_that_leaves_stops_its_answer(start, held, stream):
    _, port = start(held)
    body = json.dumps({"messages": [{"role": "user", "content": Q}], "stream": stream}).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        assert held.started.acquire(timeout=10)
        received = b""
        while stream and b"data: " not in received:  # the first sentence came
            received += s.recv(65536)
    time.sleep(0.5)  # the server sees the connection close
    held.gate.set()
    assert held.closed.wait(10) and not held.finished.is_set()


def test_the_queue_is_shorter_when_answers_are_slow(held):
    """A queue of 16 at 10 s an answer would be a 160 s wait: past `max_wait`
    of waiting at the recent pace, a request is turned away at once too."""

    async def admitted() -> list[bool]:
        pool = AnswerPool(held, workers=1, queue=16, max_wait=8)
        pool.mean_s = 10.0
        try:
            return [pool.submit(Q, []) is not None for _ in range(2)]
        finally:
            held.gate.set()
            pool.close()

    assert asyncio.run(admitted()) == [True, False]  # the free worker takes one; the wait would be 10 s


def test_brackets_inside_strings_are_not_nesting(server):
    question = Q + "[" * 50 + '\\"' + "{" * 50
    with post(server, {"messages": [{"role": "user", "content": question}], "tags": [[["ok"]]]}) as r:
        assert r.status == 200 and "7%左右" in json.load(r)["choices"][0]["message"]["content"]


def test_the_short_answer_comes_first_in_the_json(server):
    with post(server, {"messages": [{"role": "user", "content": Q}]}) as r:
        reply = json.load(r)
    assert reply["short"] == "地区生产总值增长7%左右[1]" and reply["contact"] == "" and reply["asked_as"] == ""
    assert reply["read_as"] == ""
    with post(server, {"messages": [{"role": "user", "content": "2024年郑州城镇新增就叶多少人?"}]}) as r:
        assert json.load(r)["read_as"] == "按「就业」理解「就叶」"


def test_a_refusal_carries_the_related_passages(server):
    with post(server, {"messages": [{"role": "user", "content": "郑州地铁6号线一期的票价是多少钱?"}]}) as r:
        reply = json.load(r)
    assert reply["refused"] and reply["citations"] == []
    assert reply["related"] and all(r["text"] and r["doc"].endswith(".txt") for r in reply["related"])
    assert reply["contact"] in {r["agency"] for r in reply["related"]} and reply["short"] == ""


# ---------------------------------------------------------------- replicas


def _serve_process(docs, index_dir) -> tuple:
    """`python -m rag serve` on fakes and a free port; (process, base URL) once it listens."""
    import subprocess
    import sys

    from .conftest import ROOT

    sets = {"docs_dir": docs, "index_dir": index_dir, "embedder": "hash", "llm": "scripted", "refuse_below": 0.2}
    args = [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag", "serve", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = proc.stdout.readline()  # the first line says where it listens, or it exited
    found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not found:
        proc.kill()
        raise AssertionError(f"rag serve did not start: {line!r}, exit {proc.wait()}")
    return proc, f"http://127.0.0.1:{found.group(1)}"


def test_two_serve_processes_answer_from_one_index_folder_at_once(fake_index_dir):
    docs, index_dir = fake_index_dir
    before = {p: p.stat().st_mtime_ns for p in index_dir.rglob("*")}
    questions = [Q, "新乡高新区植树造林有什么安排?", "郑州建成了多少个5G基站?"]
    procs = []
    try:
        with ThreadPoolExecutor(2) as pool:  # started together, both loading the folder at once
            procs = list(pool.map(lambda _: _serve_process(docs, index_dir), range(2)))
        jobs = [(url, q) for q in questions for _, url in procs] * 2
        with ThreadPoolExecutor(len(jobs)) as pool:
            ask = lambda url, q: json.load(post(url, {"messages": [{"role": "user", "content": q}]}))  # noqa: E731
            replies = list(pool.map(lambda job: ask(*job), jobs))
    finally:
        for proc, _ in procs:
            proc.terminate()
            proc.wait(30)
    by_question: dict = {}
    for (_, q), reply in zip(jobs, replies):
        message = reply["choices"][0]["message"]
        by_question.setdefault(q, []).append((message["content"], reply["citations"]))
    expected = Pipeline(fake_settings(docs, index_dir), llm=ScriptedLLM(first_choices(1))).ask(Q)
    assert all(len(set(map(json.dumps, answers))) == 1 for answers in by_question.values())  # 4 identical each
    assert expected.text in by_question[Q][0][0] and by_question[Q][0][1]
    assert {p: p.stat().st_mtime_ns for p in index_dir.rglob("*")} == before  # read only: nothing written
