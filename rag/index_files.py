"""A build's own files: its documents, chunks and evidence sentences as JSON
lines, and the sentences' vectors as .npy (the layout is in rag/index.py).

Deliberately not done here: the search engine's files (each engine writes and
reads its own, rag/backends/), the manifest and its checksums, and making a
build live (rag/builds.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .chunks import Chunk
from .documents import Document, Paragraph

REQUIRED = ("documents.jsonl", "chunks.jsonl", "sentences.jsonl", "sentences.npy")


def write(
    folder: Path,
    documents: Iterable[Document],
    chunks: Iterable[Chunk],
    sentences: Iterable[tuple[str, int, str]],
    sentence_vectors: np.ndarray,
) -> None:
    _write_jsonl(folder / "documents.jsonl", (asdict(d) for d in documents))
    _write_jsonl(folder / "chunks.jsonl", (asdict(c) for c in chunks))
    _write_jsonl(folder / "sentences.jsonl", sentences)
    np.save(folder / "sentences.npy", sentence_vectors)


def read(folder: Path) -> tuple[list[Document], list[Chunk], list[tuple[str, int, str]], np.ndarray]:
    """What `write` wrote: (documents, chunks, sentences, sentence vectors)."""
    docs = [_document(o) for o in _read_jsonl(folder / "documents.jsonl")]
    chunks = [Chunk(**{**o, "paragraphs": tuple(o["paragraphs"])}) for o in _read_jsonl(folder / "chunks.jsonl")]
    sentences = [tuple(row) for row in _read_jsonl(folder / "sentences.jsonl")]
    return docs, chunks, sentences, np.load(folder / "sentences.npy")


def _document(obj: dict) -> Document:
    paragraphs = tuple(
        Paragraph(p["number"], p["text"], tuple(p["path"]), p["is_heading"], p["page"]) for p in obj.pop("paragraphs")
    )
    return Document(paragraphs=paragraphs, attachments=tuple(obj.pop("attachments")), **obj)


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
