"""The shapes of the endpoint's responses, as OpenAI clients read them: a chat
completion, a stream's chunks and their server-sent event framing, with our
own fields beside them (citations and related passages as JSON, the short
answer, whom to ask, how the question was read).

Deliberately not done here: serving them (rag/serve.py), or reading requests
(rag/serve_request.py).
"""

from __future__ import annotations

import json
import time

from .answering import Answer

MODEL_NAME = "govrag"


def sources_text(answer: Answer) -> str:
    if not answer.citations:
        return ""
    lines = [f"[{i}] {c.title} · {c.section or '正文'} · {c.place}" for i, c in enumerate(answer.citations, 1)]
    return "\n\n出处:\n" + "\n".join(lines)


def _citation_json(c) -> dict:
    return {
        "doc": c.doc,
        "title": c.title,
        "agency": c.agency,
        "section": c.section,
        "paragraph": c.paragraph,
        "page": c.page,
        "text": c.text,
        "quote": c.quote,
    }


def citations_json(answer: Answer) -> list[dict]:
    return [{"marker": i} | _citation_json(c) for i, c in enumerate(answer.citations, 1)]


def related_json(answer: Answer) -> list[dict]:
    """For a refusal: the closest passages, related text and not an answer."""
    return [_citation_json(c) for c in answer.related]


def completion(rid: str, answer: Answer) -> dict:
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
        "related": related_json(answer),
        "short": answer.short,
        "contact": answer.contact,
        "asked_as": answer.translated,
        "read_as": answer.read_as,
    }


def chunk(rid: str, delta: dict, finish=None, **extra) -> dict:
    return {
        "id": rid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": MODEL_NAME,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    } | extra


def sse(payload: dict) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()
