import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag import Pipeline
from rag.llms import LLMError, ScriptedLLM, gbnf_choices
from rag.llms.openai_compatible import OpenAILLM
from rag.llms.transformers_lm import _Trie

from .conftest import fake_settings


def test_gbnf_choices_escapes_and_repeats():
    g = gbnf_choices(['说"是"。[1]', "第二句。[2]"], 3)
    assert "root ::= choice? choice? choice?" in g  # nothing is a valid answer too
    assert '"说\\"是\\"。[1]"' in g


def test_trie_allows_only_choices_then_eos_or_next():
    trie = _Trie([[1, 2, 3], [1, 4]], eos=0, max_choices=2)
    assert sorted(trie.allowed([])) == [0, 1]  # a choice, or nothing
    assert sorted(trie.allowed([1])) == [2, 4]
    assert sorted(trie.allowed([1, 4])) == [0, 1]  # end, or start the second choice
    assert sorted(trie.allowed([1, 4, 1, 2, 3])) == [0]  # two choices used up
    assert trie.allowed([1, 4, 0]) == [0]


def test_scripted_llm_streams_and_can_fail():
    llm = ScriptedLLM("一二三四五六七八九十")
    assert "".join(llm.stream("p", max_tokens=10)) == "一二三四五六七八九十"
    failing = ScriptedLLM("一二三四五六七八九十", fail_after=4)
    with pytest.raises(LLMError):
        list(failing.stream("p", max_tokens=10))


class _Handler(BaseHTTPRequestHandler):
    mode = "ok"

    def log_message(self, *args):
        pass

    def piece(self, text: str) -> None:
        self.wfile.write(f'data: {{"choices":[{{"delta":{{"content":"{text}"}}}}]}}\n\n'.encode())
        self.wfile.flush()

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.mode == "slow":
            threading.Event().wait(3)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        if self.mode == "garbage":
            self.wfile.write(b"data: {not json\n\n")
            return
        if self.mode == "dies":  # killed after its first piece: the connection just ends
            return self.piece("地区")
        try:
            if self.mode == "trickle":  # a piece every 0.3 s, for 9 s
                for _ in range(30):
                    self.piece("地")
                    time.sleep(0.3)
            for piece in ["地区", "生产总值"]:
                self.piece(piece)
            self.wfile.write(b"data: [DONE]\n\n")
        except OSError:  # the client gave up on us
            pass


@pytest.fixture
def fake_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def test_openai_client_streams(fake_server):
    _Handler.mode = "ok"
    llm = OpenAILLM(f"http://127.0.0.1:{fake_server.server_port}/v1", "m", timeout=5)
    assert "".join(llm.stream("q", max_tokens=5)) == "地区生产总值"


def test_openai_client_garbage_and_timeouts(fake_server):
    url = f"http://127.0.0.1:{fake_server.server_port}/v1"
    _Handler.mode = "garbage"
    with pytest.raises(LLMError, match="malformed"):
        list(OpenAILLM(url, "m", timeout=5).stream("q", max_tokens=5))
    _Handler.mode = "slow"
    with pytest.raises(LLMError):
        list(OpenAILLM(url, "m", timeout=0.5).stream("q", max_tokens=5))
    with pytest.raises(LLMError, match="unreachable"):
        list(OpenAILLM("http://127.0.0.1:9/v1", "m", timeout=2).stream("q", max_tokens=5))


def test_openai_server_dying_mid_answer_is_an_error(fake_server):
    _Handler.mode = "dies"
    llm = OpenAILLM(f"http://127.0.0.1:{fake_server.server_port}/v1", "m", timeout=5)
    pieces = []
    with pytest.raises(LLMError, match="before the answer was finished"):
        pieces.extend(llm.stream("q", max_tokens=5))
    assert pieces == ["地区"]  # what came is passed on; the caller is told it is cut


def test_openai_server_dying_mid_answer_sets_the_answer_error(fake_server, fake_index_dir, all_offered):
    _Handler.mode = "dies"
    docs, index_dir = fake_index_dir
    llm = OpenAILLM(f"http://127.0.0.1:{fake_server.server_port}/v1", "m", timeout=5)
    pipe = Pipeline(fake_settings(docs, index_dir, compose="model"), llm=llm)
    answer = pipe.ask("2024年郑州市地区生产总值预期增长多少?")
    assert "before the answer was finished" in answer.error
    assert "回答生成中断" in answer.text  # the reader sees it, not only the field


def test_openai_timeout_bounds_the_whole_call(fake_server):
    """A server sending a piece every 0.3 s never trips a per-read timeout of 1 s;
    the whole call must still end at about 1 s, not after the server's 9 s."""
    _Handler.mode = "trickle"
    llm = OpenAILLM(f"http://127.0.0.1:{fake_server.server_port}/v1", "m", timeout=1)
    started = time.monotonic()
    with pytest.raises(LLMError, match="did not finish within 1 s"):
        list(llm.stream("q", max_tokens=5))
    assert time.monotonic() - started < 3


@pytest.fixture(scope="module")
def llama_server():
    """A real llama.cpp server (xllamacpp) on 127.0.0.1 with the bundled GGUF."""
    from rag.llms import bundled_gguf
    from rag.llms.llamacpp import llama_server as start

    server, url = start(bundled_gguf(), n_ctx=2048)
    yield url
    del server


CHOICES = ["地区生产总值增长7%左右。[1]", "固定资产投资增长8%以上。[2]"]
PROMPT = "资料:[1] 地区生产总值增长7%左右。[2] 固定资产投资增长8%以上。\n问题:地区生产总值增长多少?\n回答:"


@pytest.mark.models
def test_openai_client_against_real_llama_server(llama_server):
    llm = OpenAILLM(llama_server, "gemma", timeout=120)
    pieces = list(llm.stream(PROMPT, max_tokens=30, choices=CHOICES))
    assert len(pieces) > 1  # streamed, not one block
    assert "".join(pieces) in CHOICES
    free = "".join(OpenAILLM(llama_server, "gemma", timeout=120).stream(PROMPT, max_tokens=8))
    assert free  # unconstrained generation works too


@pytest.mark.models
def test_llamacpp_in_process_obeys_choices():
    from rag.llms import bundled_gguf
    from rag.llms.llamacpp import LlamaCppLLM

    llm = LlamaCppLLM(bundled_gguf())
    out = "".join(llm.stream(PROMPT, max_tokens=40, choices=CHOICES, max_choices=2))
    assert out.startswith(tuple(CHOICES)) and out.replace(CHOICES[0], "").replace(CHOICES[1], "") == ""


@pytest.mark.models
def test_closing_a_llamacpp_stream_stops_its_generation():
    from rag.llms import bundled_gguf
    from rag.llms.llamacpp import LlamaCppLLM

    llm = LlamaCppLLM(bundled_gguf())
    stream = llm.stream("郑州市的发展历史是", max_tokens=2000)
    next(stream)
    stream.close()
    # 2,000 tokens take ~25 s on 2 cores; a stopped generation frees the model at once.
    assert llm._lock.acquire(timeout=5)
    llm._lock.release()


def test_reading_the_contract_loads_no_model_library():
    # make_llm imports an engine only when a setting names it: the page and
    # the eval harness start without llama.cpp, torch or transformers loaded.
    import subprocess
    import sys

    code = "import sys, rag.llms; print(sorted(m for m in ('xllamacpp', 'torch', 'transformers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
