"""llama.cpp in-process (xllamacpp): the default engine for GGUF files, and a
llama.cpp OpenAI-compatible server for tests and benchmarks of `OpenAILLM`.

Choices become a GBNF grammar. Deliberately not done here: which engine a
setting names (rag/llms/__init__.py).
"""

from __future__ import annotations

import functools
import queue
import threading
from pathlib import Path

from . import LLMError, cpu_threads, gbnf_choices


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
