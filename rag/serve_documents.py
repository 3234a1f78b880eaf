"""Managing documents over HTTP, on `python -m rag serve`: /v1/documents.

- `GET /v1/documents`: the indexed documents (file, title, agency, date,
  chunks, when added);
- `POST /v1/documents`: multipart/form-data upload of one or more files (any
  field name), added and indexed before the reply (201);
- `DELETE /v1/documents/{name}`: removes one document.

All go through rag/library.py and need `Authorization: Bearer <admin token>`;
a wrong or missing token is 403. Without a token configured the routes don't
exist (404 for everyone). The new index is swapped into the pipeline when it
is live, so the next question sees the change without a restart and questions
already being answered finish on the index they began with.

An upload's body is bounded (`MAX_UPLOAD`, well above one document's
`max_doc_bytes`, far below what would hurt) and read within `UPLOAD_TIMEOUT`
seconds; it is parsed by starlette's multipart parser from those bytes.
Embedding runs on a worker thread, never on the event loop.

Deliberately not done here: users or roles (one token), the chat endpoint (rag/serve.py).
"""

from __future__ import annotations

import asyncio
import hmac

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import library
from .pipeline import Pipeline
from .serve_request import Problem, read_body

MAX_UPLOAD = 32 << 20  # 32 MiB: a batch of documents of up to max_doc_bytes (2 MB) each
MAX_FILES = 64
UPLOAD_TIMEOUT = 120.0  # seconds to send an upload's body


def _entry_json(e: library.Entry) -> dict:
    return {"file": e.file, "title": e.title, "agency": e.agency, "date": e.date, "chunks": e.chunks, "added": e.added}


def _authorised(request: Request) -> Pipeline:
    given = request.headers.get("authorization", "")
    token = request.app.state.admin_token
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise Problem(403, "需要管理员令牌 (an admin token is required: Authorization: Bearer …)")
    return request.app.state.pool.pipe


async def list_documents(request: Request) -> Response:
    pipe = _authorised(request)
    index = await asyncio.to_thread(lambda: pipe.index)
    return JSONResponse({"object": "list", "data": [_entry_json(e) for e in library.entries(index)]})


async def _uploads(request: Request) -> list[tuple[str, bytes]]:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "multipart/form-data":
        raise Problem(415, "Content-Type 必须是 multipart/form-data (upload files as multipart/form-data)")
    try:
        raw = await read_body(request, UPLOAD_TIMEOUT, MAX_UPLOAD)
    except ClientDisconnect:
        raise Problem(400, "上传中断 (the upload was cut off)") from None

    async def once():
        yield raw

    parser = MultiPartParser(request.headers, once(), max_files=MAX_FILES, max_fields=16)
    try:
        form = await parser.parse()
    except MultiPartException as e:
        raise Problem(400, f"无法解析上传内容 (malformed multipart body: {e.message})") from None
    files = [(v.filename or "", await v.read()) for _, v in form.multi_items() if isinstance(v, UploadFile)]
    await form.close()
    if not files:
        raise Problem(400, "没有上传文件 (no file in the upload)")
    return files


async def add_documents(request: Request) -> Response:
    pipe = _authorised(request)
    files = await _uploads(request)
    try:
        change = await asyncio.to_thread(
            library.applied, pipe, lambda: library.add_bytes(pipe.settings, files, pipe.embedder)
        )
    except ValueError as e:
        raise Problem(400, str(e)) from None
    body = {"added": list(change.done), "skipped": list(change.skipped), "documents": len(change.index.documents)}
    return JSONResponse(body, status_code=201)


async def remove_document(request: Request) -> Response:
    pipe = _authorised(request)
    name = request.path_params["name"]
    try:
        change = await asyncio.to_thread(
            library.applied, pipe, lambda: library.remove(pipe.settings, [name], pipe.embedder)
        )
    except library.UnknownDocument as e:
        raise Problem(404, str(e)) from None
    except ValueError as e:
        raise Problem(400, str(e)) from None
    return JSONResponse({"removed": list(change.done), "documents": len(change.index.documents)})


def document_routes(admin_token: str) -> list[Route]:
    """The /v1/documents routes when a token is configured, else none."""
    if not admin_token:
        return []
    return [
        Route("/v1/documents", list_documents, methods=["GET"]),
        Route("/v1/documents", add_documents, methods=["POST"]),
        Route("/v1/documents/{name:path}", remove_document, methods=["DELETE"]),
    ]
