"""Chat completions streamed (SSE) from an OpenAI-compatible server: vLLM, a
llama.cpp server, Ollama.

Choices are sent as a llama.cpp-style grammar (servers differ in honouring
it; the answer is checked afterwards either way). Deliberately not done here:
which engine a setting names (rag/llms/__init__.py).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator

from ..endpoints import connection
from . import LLMError, gbnf_choices


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
