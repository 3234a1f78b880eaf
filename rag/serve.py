"""An OpenAI-compatible endpoint of our own: `python -m rag serve`.

`POST /v1/chat/completions` takes the usual `messages` (the last user message
is the question, earlier user messages are the conversation; content is text or
OpenAI text parts) and answers with the checked, cited answer: the message
content is the answer text followed by its sources, and a `citations` field
carries them as structured data. `"stream": true` streams the checked sentences
as server-sent events. `GET /v1/models` and `GET /health` exist for clients
that probe them.

Built on uvicorn (h11) and starlette rather than the standard library's
`http.server`, because they do what a public server must and `http.server`
doesn't: h11 frames every request by its length, so a body left unread is
discarded, never parsed as the next request; connections live on one asyncio
loop, so a thousand idle clients cost no threads; keep-alive connections time
out. What uvicorn doesn't bound, a client trickling its request head, is
bounded here (`_Protocol`), and so is reading the body.

Answers run in a bounded pool (`AnswerPool`: `workers` threads, at most `queue`
answers waiting); beyond that a request gets 503 with `Retry-After` at once
rather than a long wait. A client that goes away stops its answer between
sentences. Every error is JSON with a plain Chinese and English message,
never a Python internal; the body is limited in size, JSON nesting and
integer length before it is parsed.

Reading a request (its body's bounds, the fields it must hold, the JSON
errors) is rag/serve_request.py; the shapes of a response (a completion, a
stream's chunks, citations as JSON) are rag/serve_response.py; managing
documents (`/v1/documents`, behind an admin token) is rag/serve_documents.py.

Deliberately not done here: user authentication, TLS, or running several models.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import socket
import threading
import uuid
from collections.abc import AsyncIterator

import h11
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from .answer_pool import END, AnswerPool, Job
from .answering import Answer
from .pipeline import Pipeline
from .question import validate_question
from .serve_request import Problem, error_body, error_response, parse_json, parse_request, read_body
from .serve_response import MODEL_NAME, chunk, citations_json, completion, related_json, sources_text, sse

log = logging.getLogger("rag")

BUSY = "服务繁忙，请稍后重试 (busy, retry later)"


# ---------------------------------------------------------------- errors


_HTTP_MESSAGES = {
    404: "没有这个地址 (no such path)",
    405: "不支持此请求方法 (method not allowed)",
}


async def _on_problem(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return error_response(exc.status, exc.message, exc.headers)


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = _HTTP_MESSAGES.get(exc.status_code, f"请求无效 (HTTP {exc.status_code})")
    if exc.status_code == 404:
        message = f"{message}: {request.url.path}"
    return error_response(exc.status_code, message, exc.headers)


async def _on_crash(_request: Request, exc: Exception) -> Response:
    log.error("serve: request failed", exc_info=exc)
    return error_response(500, "服务器内部错误 (internal server error)")


# ---------------------------------------------------------------- answering


class _Gone(Exception):
    """The client disconnected."""


async def _until_disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def next_item(job: Job, request: Request):
    """The job's next item; raises _Gone (and cancels the job) if the client leaves first."""
    get = asyncio.ensure_future(job.items.get())
    gone = asyncio.ensure_future(_until_disconnect(request))
    try:
        done, _ = await asyncio.wait({get, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if get in done:
        return get.result()
    get.cancel()
    job.cancel()
    raise _Gone


def _failure(item: Exception) -> Problem:
    """What a client is told of a failed answer: the pipeline's own message
    about the question, or a plain 500 (the details go to the log)."""
    if isinstance(item, ValueError):
        return Problem(400, str(item))
    log.error("serve: answering failed", exc_info=item)
    return Problem(500, "回答失败，服务器内部错误 (answering failed: internal server error)")


async def events(rid: str, first, job: Job) -> AsyncIterator[bytes]:
    """The answer as server-sent events; starlette stops iterating (and the
    `finally` cancels the job) when the client disconnects."""
    try:
        yield sse(chunk(rid, {"role": "assistant"}))
        item = first
        while item is not END:
            if isinstance(item, Exception):
                problem = _failure(item)
                yield sse(error_body(problem.status, problem.message))
                return  # no [DONE]: the answer did not finish
            if isinstance(item, Answer):
                extra = {
                    "citations": citations_json(item),
                    "refused": item.refused,
                    "related": related_json(item),
                    "short": item.short,
                    "contact": item.contact,
                    "asked_as": item.translated,
                    "read_as": item.read_as,
                }
                yield sse(chunk(rid, {"content": sources_text(item)}, "stop", **extra))
            else:
                yield sse(chunk(rid, {"content": item}))
            item = await job.items.get()
        yield b"data: [DONE]\n\n"
    finally:
        job.cancel()


async def chat_completions(request: Request) -> Response:
    state = request.app.state
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise Problem(415, "Content-Type 必须是 application/json (Content-Type must be application/json)")
    try:
        raw = await read_body(request, state.body_timeout)
    except ClientDisconnect:
        return Response(status_code=400)  # nobody to tell
    question, history, stream = parse_request(parse_json(raw))
    pool: AnswerPool = state.pool
    try:  # here, not only in the pipeline: a bad question is a 400 however busy the pool
        validate_question(question, pool.pipe.settings.max_question_chars)
    except ValueError as e:
        raise Problem(400, str(e)) from None
    job = pool.submit(question, history)
    if job is None:
        raise Problem(503, BUSY, headers={"Retry-After": str(pool.retry_after())})
    try:
        first = await next_item(job, request)  # a bad question fails here, before any reply
        if isinstance(first, Exception):
            raise _failure(first)
        if first is END:
            raise Problem(500, "回答失败 (answering failed)")
        rid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if stream:
            headers = {"Cache-Control": "no-cache"}
            return StreamingResponse(events(rid, first, job), media_type="text/event-stream", headers=headers)
        item = first
        while not isinstance(item, Answer):
            item = await next_item(job, request)
            if isinstance(item, Exception):
                raise _failure(item)
            if item is END:
                raise Problem(500, "回答失败 (answering failed)")
        return JSONResponse(completion(rid, item))
    except _Gone:
        log.info("serve: client went away; answer stopped")
        return Response(status_code=499)  # never delivered
    except BaseException:
        job.cancel()
        raise


async def models(_request: Request) -> Response:
    return JSONResponse({"object": "list", "data": [{"id": MODEL_NAME, "object": "model"}]})


async def health(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def make_app(pool: AnswerPool, body_timeout: float = 10.0, admin_token: str = "") -> Starlette:
    """The ASGI app over an answer pool; /v1/documents only with an admin token."""
    from .serve_documents import document_routes

    app = Starlette(
        routes=[
            *document_routes(admin_token),
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/chat/completions/", chat_completions, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Route("/", health, methods=["GET"]),
        ],
        exception_handlers={Problem: _on_problem, HTTPException: _on_http_exception, Exception: _on_crash},
    )
    app.state.pool = pool
    app.state.body_timeout = body_timeout
    app.state.admin_token = admin_token
    return app


# ---------------------------------------------------------------- the connection


class _Protocol(H11Protocol):
    """uvicorn's h11 protocol, plus a deadline for each request head: uvicorn
    times out idle keep-alive connections, but a client that keeps sending a
    byte of headers now and then would hold its connection for ever. Also its
    own 400 (a malformed request) as JSON, like every other error."""

    def __init__(self, *args, head_timeout: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.head_timeout = head_timeout
        self._head_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_late)

    def _head_late(self) -> None:
        # Only between requests (waiting for a head, or draining a body the app
        # didn't read): a request in the app has its own body deadline.
        between = self.cycle is None or self.cycle.response_complete
        if between and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        data = json.dumps(error_body(400, "无效的 HTTP 请求 (invalid HTTP request)"), ensure_ascii=False).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(data)).encode()),
            (b"connection", b"close"),
        ]
        try:
            for event in (h11.Response(status_code=400, headers=headers), h11.Data(data=data), h11.EndOfMessage()):
                self.transport.write(self.conn.send(event))
        except h11.LocalProtocolError:  # a response had already begun: nothing more to say
            pass
        self.transport.close()


class Server:
    """The endpoint, bound and listening: `serve_forever()` runs it in the
    calling thread, `shutdown()` (from another) stops it."""

    def __init__(
        self,
        pipe: Pipeline,
        host: str,
        port: int,
        *,
        workers: int,
        queue: int,
        max_wait: float,
        head_timeout: float,
        body_timeout: float,
        keep_alive: float,
        admin_token: str = "",
    ):
        self.pool = AnswerPool(pipe, workers, queue, max_wait)
        self.socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.socket.listen(2048)  # connections wait in the kernel until the loop runs
        self.server_port = self.socket.getsockname()[1]
        config = uvicorn.Config(
            make_app(self.pool, body_timeout, admin_token),
            http=functools.partial(_Protocol, head_timeout=head_timeout),
            lifespan="off",
            log_config=None,  # the application's logging, not uvicorn's
            access_log=False,
            proxy_headers=False,
            server_header=False,
            timeout_keep_alive=keep_alive,
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._stopped = threading.Event()

    def serve_forever(self) -> None:
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self.pool.close()
            self._stopped.set()

    def shutdown(self, timeout: float = 15.0) -> None:
        self._server.should_exit = True
        self._stopped.wait(timeout)


def serve(
    pipe: Pipeline,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    workers: int = 2,
    queue: int = 16,
    max_wait: float = 8.0,
    head_timeout: float = 5.0,
    body_timeout: float = 10.0,
    keep_alive: float = 5.0,
    admin_token: str = "",
) -> Server:
    """A server bound and ready; call `.serve_forever()` (or run it in a thread).

    `workers` answers run at once (the model takes turns anyway; the second
    retrieves and checks meanwhile) and `queue` more wait, as long as the wait
    looks shorter than `max_wait` seconds; a request beyond that gets 503 with
    Retry-After. A client must send its request head within
    `head_timeout` seconds and its body within `body_timeout`; an idle
    keep-alive connection is closed after `keep_alive`. With an `admin_token`
    (else `Settings.admin_token`), /v1/documents manages the documents
    (rag/serve_documents.py); without one it is 404 for everyone."""
    timeouts = {"head_timeout": head_timeout, "body_timeout": body_timeout, "keep_alive": keep_alive}
    token = admin_token or pipe.settings.admin_token
    return Server(pipe, host, port, workers=workers, queue=queue, max_wait=max_wait, admin_token=token, **timeouts)
