"""Reading a request to `python -m rag serve`: its body, bounded in size, time,
JSON nesting and integer length before it is parsed, and the chat completions
fields it must hold (the question, the conversation, whether to stream). Every
error is a `Problem`: a status and a plain Chinese and English message, sent
as OpenAI-style JSON, never a Python internal.

Deliberately not done here: routing, answering or the server itself
(rag/serve.py), or managing documents (rag/serve_documents.py).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re

from starlette.requests import Request
from starlette.responses import JSONResponse

MAX_BODY = 1 << 20  # 1 MiB: far more than any question needs
MAX_DEPTH = 32  # JSON nesting: a chat body needs 4 ({ messages [ { content [ {)
MAX_INT_DIGITS = 20  # any integer a client has reason to send


class Problem(Exception):
    """An error reply: status, a plain message, and whether to close the
    connection (when the rest of the body is not worth reading)."""

    def __init__(self, status: int, message: str, *, close: bool = False, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message = status, message
        self.headers = (headers or {}) | ({"Connection": "close"} if close else {})


def error_body(status: int, message: str) -> dict:
    kind = {500: "server_error", 503: "server_busy"}.get(status, "invalid_request_error")
    return {"error": {"message": message, "type": kind, "code": status}}


def error_response(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, message), status, headers=headers)


class _TooLong(ValueError):
    pass


def _bounded_int(text: str) -> int:
    # Python refuses >4300 digits with a message naming sys.set_int_max_str_digits;
    # nobody has reason to send more than a few.
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _TooLong(text)
    return int(text)


def _no_constant(name: str):
    raise ValueError(name)


_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1
_STRING = re.compile(rb'"[^"]*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(raw: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest, counted without
    parsing: escapes, then strings, are removed, and the brackets left are
    summed (linear time; no regex backtracking on hostile input)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return 0  # too few brackets to nest too deep: the usual case, at no cost
    # Left to right, as JSON reads them: \\ first, so \\" stays a closing quote.
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = _STRING.sub(b"", unescaped).translate(None, _NOT_BRACKETS)
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets)), default=0)


def parse_json(raw: bytes) -> object:
    """The body as JSON, or a Problem with a plain message."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "请求体不是有效的 UTF-8 (the body is not valid UTF-8)") from None
    if json_depth(raw) > MAX_DEPTH:
        raise Problem(400, f"JSON 嵌套过深，最多 {MAX_DEPTH} 层 (JSON nested deeper than {MAX_DEPTH})")
    try:
        return json.loads(text, parse_int=_bounded_int, parse_constant=_no_constant)
    except _TooLong:
        message = f"数字过长，最多 {MAX_INT_DIGITS} 位 (a number has more than {MAX_INT_DIGITS} digits)"
        raise Problem(400, message) from None
    except json.JSONDecodeError as e:
        where = f"line {e.lineno} column {e.colno}"
        raise Problem(400, f"请求体不是有效的 JSON (the body is not valid JSON: {e.msg} at {where})") from None
    except ValueError:  # NaN / Infinity
        raise Problem(400, "JSON 中不允许 NaN 或 Infinity (NaN and Infinity are not JSON)") from None
    except RecursionError:  # not reachable past json_depth; kept so it can never escape
        raise Problem(400, f"JSON 嵌套过深 (JSON nested deeper than {MAX_DEPTH})") from None


def content_text(content, *, strict: bool) -> str:
    """A message's text: a string, or OpenAI content parts ([{"type": "text",
    "text": …}]). With `strict`, anything else is an error, not ignored."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif strict:
                raise Problem(400, "只支持文本内容 (only text content parts are supported)")
        return "".join(texts)
    if strict:
        raise Problem(400, "消息内容必须是文本 (message content must be text or text parts)")
    return ""


def parse_request(body: object) -> tuple[str, list[str], bool]:
    """(question, earlier user questions, stream) from a chat completions body."""
    if not isinstance(body, dict):
        raise Problem(400, "请求体必须是 JSON 对象 (the body must be a JSON object)")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise Problem(400, "'messages' 必须是非空列表 ('messages' must be a non-empty list)")
    users = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        raise Problem(400, "缺少用户消息 (there is no user message)")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise Problem(400, "'stream' 必须是 true 或 false ('stream' must be a boolean)")
    question = content_text(users[-1], strict=True)
    history = [t for u in users[:-1] if (t := content_text(u, strict=False))]
    return question, history, stream


async def read_body(request: Request, timeout: float, limit: int = MAX_BODY) -> bytes:
    """The request body, at most `limit` bytes, read within `timeout` seconds."""
    declared = request.headers.get("content-length")  # h11 has checked it is a number
    too_large = Problem(413, f"请求体过大，最多 {limit} 字节 (the body is over {limit} bytes)", close=True)
    if declared is not None and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []

    async def gather() -> None:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)

    try:
        await asyncio.wait_for(gather(), timeout)
    except TimeoutError:
        raise Problem(408, f"请求体读取超时 (the body took over {timeout:g} s)", close=True) from None
    return b"".join(chunks)
