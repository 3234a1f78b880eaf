"""An OpenAI-compatible endpoint of our own: `python -m rag serve`.

`POST /v1/chat/completions` takes the usual `messages` (the last user message
is the question, earlier user messages are the conversation) and answers with
the checked, cited answer: the message content is the answer text followed by
its sources, and a `citations` field carries them as structured data.
`"stream": true` streams the checked sentences as server-sent events.
`GET /v1/models` and `GET /health` exist for clients that probe them.

Built on the standard library's threading HTTP server: one thread a request,
answers themselves take turns on the model. Requests are bounded (body size,
question length); bad requests get a 400 with a readable message.

Deliberately not done here: authentication, TLS, or running several models.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .answering import Answer
from .pipeline import Pipeline

log = logging.getLogger("rag")

MAX_BODY = 1 << 20  # 1 MiB: far more than any question needs
MODEL_NAME = "govrag"


def sources_text(answer: Answer) -> str:
    if not answer.citations:
        return ""
    lines = [f"[{i}] {c.title} · {c.section or '正文'} · 第{c.paragraph}段" for i, c in enumerate(answer.citations, 1)]
    return "\n\n出处:\n" + "\n".join(lines)


def citations_json(answer: Answer) -> list[dict]:
    return [
        {
            "marker": i,
            "doc": c.doc,
            "title": c.title,
            "section": c.section,
            "paragraph": c.paragraph,
            "text": c.text,
            "quote": c.quote,
        }
        for i, c in enumerate(answer.citations, 1)
    ]


def parse_request(body: dict) -> tuple[str, list[str], bool]:
    """(question, earlier user questions, stream) from a chat completions body."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValueError("'messages' must be a non-empty list")
    users = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not users or not isinstance(users[-1], str):
        raise ValueError("the last user message must have text content")
    history = [u for u in users[:-1] if isinstance(u, str)]
    return users[-1], history, bool(body.get("stream"))


def make_handler(pipe: Pipeline):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            log.debug("serve: " + fmt, *args)

        def _json(self, status: int, payload: dict) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str) -> None:
            self._json(status, {"error": {"message": message, "type": "invalid_request_error"}})

        def do_GET(self):
            if self.path.rstrip("/") in ("/health", ""):
                self._json(200, {"status": "ok"})
            elif self.path.rstrip("/") == "/v1/models":
                self._json(200, {"object": "list", "data": [{"id": MODEL_NAME, "object": "model"}]})
            else:
                self._error(404, f"no such path: {self.path}")

        def do_POST(self):
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._error(404, f"no such path: {self.path}")
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                return self._error(400, "bad Content-Length")
            if length <= 0 or length > MAX_BODY:
                return self._error(413 if length > MAX_BODY else 400, "request body missing or too large")
            try:
                body = json.loads(self.rfile.read(length).decode("utf-8"))
                if not isinstance(body, dict):
                    raise ValueError("the body must be a JSON object")
                question, history, stream = parse_request(body)
                items = pipe.ask_stream(question, history=history)
                first = next(items)  # validation errors surface here, before any reply
            except (ValueError, UnicodeDecodeError) as e:
                return self._error(400, str(e))
            rid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
            if stream:
                self._stream(rid, first, items)
            else:
                *_, answer = [first, *items]
                self._json(200, self._completion(rid, answer))

        def _completion(self, rid: str, answer: Answer) -> dict:
            return {
                "id": rid,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": MODEL_NAME,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer.text + sources_text(answer)},
                        "finish_reason": "stop",
                    }
                ],
                "citations": citations_json(answer),
                "refused": answer.refused,
            }

        def _stream(self, rid: str, first, items) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True

            def event(payload: dict) -> None:
                self.wfile.write(f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode())
                self.wfile.flush()

            def chunk(delta: dict, finish=None, **extra) -> dict:
                return {
                    "id": rid,
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": MODEL_NAME,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                } | extra

            try:
                event(chunk({"role": "assistant"}))
                for item in _chain(first, items):
                    if isinstance(item, Answer):
                        event(
                            chunk(
                                {"content": sources_text(item)},
                                "stop",
                                citations=citations_json(item),
                                refused=item.refused,
                            )
                        )
                    else:
                        event(chunk({"content": item}))
                self.wfile.write(b"data: [DONE]\n\n")
            except (BrokenPipeError, ConnectionResetError):
                log.info("serve: client went away mid-stream")

    return Handler


def _chain(first, rest):
    yield first
    yield from rest


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 resets connections under a burst of clients


def serve(pipe: Pipeline, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A server bound and ready; call `.serve_forever()` (or run it in a thread)."""
    return _Server((host, port), make_handler(pipe))
