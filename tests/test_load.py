"""16 concurrent clients on 127.0.0.1 against the serve endpoint and against
the chat page (through gradio_client): each gets its own answer, memory stays
bounded, and p50/p95 are printed. Bounded in requests and time; each test
stops its server itself."""

import json
import resource
import socket
import statistics
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor, wait

import pytest
from gradio_client import Client

import app
from rag import Pipeline
from rag.llms import ScriptedLLM, first_choices
from rag.serve import serve

from .conftest import fake_settings, free_port

QUESTIONS = [
    "2024年郑州市地区生产总值预期增长多少?",
    "新乡高新区植树造林有什么安排?",
    "郑州碳达峰方案体系是什么?",
    "郑州淘汰了多少家独立铝用碳素企业?",
    "2023年郑州服务业增加值是多少?",
    "郑州建成了多少个5G基站?",
    "新乡高新区的基本思路是什么?",
    "郑州市碳达峰碳中和工作领导小组由谁担任组长?",
]
CLIENTS = 16
ROUNDS = 4  # requests per client
DEADLINE_S = 180  # the whole page run; generous for two busy cores


def ask(url: str, question: str) -> tuple[str, float]:
    body = json.dumps({"messages": [{"role": "user", "content": question}]}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        text = json.load(r)["choices"][0]["message"]["content"]
    return text, time.perf_counter() - started


def test_sixteen_concurrent_clients_each_get_their_own_answer(fake_pipeline):
    pipe = fake_pipeline()
    expected = {q: pipe.ask(q) for q in QUESTIONS}  # one at a time, for reference
    srv = serve(pipe, "127.0.0.1", 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_port}/v1/chat/completions"
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        jobs = [QUESTIONS[(c + r) % len(QUESTIONS)] for c in range(CLIENTS) for r in range(ROUNDS)]
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(lambda q: (q, *ask(url, q)), jobs))
    finally:
        srv.shutdown()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    errors = 0
    for question, text, _ in results:
        if not text.startswith(expected[question].text):
            errors += 1
    report("serve", len(results), errors, [t for _, _, t in results], rss_before, rss_after)
    assert errors == 0 and len(results) == CLIENTS * ROUNDS
    assert rss_after - rss_before < 300 * 1024  # KB: no growth per request


def report(what: str, requests: int, errors: int, latencies: list[float], rss_before: int, rss_after: int) -> None:
    """Printed (pytest -s), never asserted: timings depend on the machine."""
    latencies = sorted(latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"\nload ({what}): {CLIENTS} clients, {requests} requests, {errors} errors, "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"peak RSS {rss_after / 1024:.0f} MB (+{(rss_after - rss_before) / 1024:.0f} MB)"
    )


# ---------------------------------------------------------------- the chat page


@pytest.fixture
def page():
    """Launch the page for a pipeline on 127.0.0.1 (Gradio serves it from its own
    thread); yields a function returning a fresh client; closes the server after."""
    demos = []

    def launch(pipe: Pipeline):
        demos.append(app.serve(pipe, "127.0.0.1", free_port(), prevent_thread_lock=True, quiet=True))
        url = demos[-1].local_url
        return lambda: Client(url, verbose=False, analytics_enabled=False, download_files=False)

    yield launch
    for demo in demos:
        demo.close()


def chat(client: Client, question: str) -> tuple[str, str]:
    """(the user's message, the final answer's HTML) as the page returns them."""
    messages, _ = client.predict(question, [], app.ALL_DOCS, 5, api_name="/chat")
    return app._content_text(messages[0]["content"]), app._content_text(messages[-1]["content"])


def test_sixteen_concurrent_page_clients_each_get_their_own_answer(fake_pipeline, page):
    pipe = fake_pipeline()
    expected = {q: app.render_answer(1, pipe.ask(q)) for q in QUESTIONS}
    assert len(set(expected.values())) == len(QUESTIONS)  # so a swapped answer would show
    connect = page(pipe)
    chat(connect(), QUESTIONS[0])  # start-up costs (warm-up, first routes) aren't load
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def one_client(c: int) -> list[tuple[str, str, str, float]]:
        client, done = connect(), []
        for r in range(ROUNDS):  # distinct questions per client
            question = QUESTIONS[(c + r) % len(QUESTIONS)]
            started = time.perf_counter()
            done.append((question, *chat(client, question), time.perf_counter() - started))
        return done

    pool = ThreadPoolExecutor(CLIENTS)
    try:
        finished, late = wait([pool.submit(one_client, c) for c in range(CLIENTS)], timeout=DEADLINE_S)
    finally:  # no waiting for stuck clients: closing the server (fixture) ends their requests
        pool.shutdown(wait=False, cancel_futures=True)
    assert not late, f"{len(late)} clients not done in {DEADLINE_S} s"
    failures = [f.exception() for f in finished if f.exception()]
    results = [row for f in finished if not f.exception() for row in f.result()]
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    wrong = [q for q, asked, answer, _ in results if asked != q or answer != expected[q]]
    errors = len(failures) + len(wrong)
    report("page", len(results), errors, [t for *_, t in results], rss_before, rss_after)
    assert not failures, failures[0]
    assert not wrong, wrong[:3]
    assert len(results) == CLIENTS * ROUNDS
    assert rss_after - rss_before < 300 * 1024  # KB, the 16 clients' own included: no growth per request


class GatedPipeline(Pipeline):
    """A fake pipeline that holds a gated question until its gate opens, like a
    slow answer; `entered` is set once it holds a queue slot."""

    def __init__(self, *args, gates: dict[str, threading.Event], **kwargs):
        super().__init__(*args, **kwargs)
        self.gates = gates
        self.entered = {q: threading.Event() for q in gates}

    def ask_stream(self, question, *args, **kwargs):
        if question in self.gates:
            self.entered[question].set()
            self.gates[question].wait(timeout=DEADLINE_S)
        return super().ask_stream(question, *args, **kwargs)


def test_a_slow_answer_leaves_the_second_queue_slot_free(fake_index_dir, page):
    """The queue runs 2 answers at once: beside one slow answer the others go on;
    beside two, the next one waits its turn."""
    docs, index_dir = fake_index_dir
    slow, slower, fast = QUESTIONS[0], QUESTIONS[1], QUESTIONS[2:6]
    gates = {slow: threading.Event(), slower: threading.Event()}
    pipe = GatedPipeline(fake_settings(docs, index_dir), llm=ScriptedLLM(first_choices(1)), gates=gates)
    expected = {q: app.render_answer(1, pipe.ask(q)) for q in fast}
    connect = page(pipe)
    client = connect()
    try:
        held = client.submit(slow, [], app.ALL_DOCS, 5, api_name="/chat")
        assert pipe.entered[slow].wait(30)
        for q in fast:  # one after another, each through the free slot
            assert chat(client, q)[1] == expected[q]
        assert not held.done()

        second = client.submit(slower, [], app.ALL_DOCS, 5, api_name="/chat")
        assert pipe.entered[slower].wait(30)
        queued = client.submit(fast[0], [], app.ALL_DOCS, 5, api_name="/chat")
        time.sleep(2)
        assert not queued.done()  # both slots are held: it waits in the queue
        gates[slow].set()
        assert app._content_text(queued.result(timeout=30)[0][-1]["content"]) == expected[fast[0]]
        gates[slower].set()
        for job in (held, second):
            assert 'class="govrag answered"' in app._content_text(job.result(timeout=30)[0][-1]["content"])
    finally:
        for gate in gates.values():  # never leave a worker blocked
            gate.set()


def test_a_thousand_idle_connections_cost_no_threads(fake_pipeline):
    """Silent connections live on the server's event loop: the process's
    threads don't grow past the answer pool (which starts lazily, 2 at most),
    the server still answers meanwhile, and it drops them at the head deadline."""
    srv = serve(fake_pipeline(), "127.0.0.1", 0, head_timeout=3)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_port}/v1/chat/completions"
    sockets = []
    try:
        ask(url, QUESTIONS[0])  # the pool's threads exist now
        before = threading.active_count()
        for _ in range(1000):
            sockets.append(socket.create_connection(("127.0.0.1", srv.server_port), timeout=5))
        assert ask(url, QUESTIONS[1])[0]  # answered beside them
        during = threading.active_count()
        print(f"\nidle: 1000 connections, threads {before} before, {during} while open")
        assert during <= before
        time.sleep(4)
        for s in sockets[:50]:  # the server has closed them: a read sees the end
            s.settimeout(2)
            assert s.recv(1) == b""
    finally:
        for s in sockets:
            s.close()
        srv.shutdown()
