"""The search engine behind an index: the contract, and which engine a setting names.

An `Index` (rag/index.py) keeps its documents, paragraphs, sentences and
sentence vectors itself, in its build folder: they are small, read per answer
and must be the same whatever engine searches. What an engine does is search
the chunks, densely and lexically, and take chunks in and out:

- `SearchBackend.dense` / `.lexical`: the best rows for a query vector / text,
  optionally within one document (rows are positions in `Index.chunks`);
- `.vectors(rows)`: stored chunk vectors (the cosine of a lexical-only hit,
  and what an update reuses instead of embedding again);
- `.updated(chunks, old_rows, new_vectors, documents)`: the engine over a new
  list of chunks, each either one of this engine's rows or newly embedded; the
  engine it is called on keeps answering unchanged (questions in flight finish
  on it), so a build is made live by swapping one object;
- `.save(folder)` writes what the build folder must hold and returns manifest
  fields; `.published()` runs once the build is live (CURRENT names it), to
  drop what no live build uses any more.

Engines, one file each: `faiss_bm25` (FAISS + bm25s files inside the build,
the embedded default) and `milvus` (one Milvus collection; a `.db` path runs
Milvus Lite in-process, an http:// URI a Milvus server).

Deliberately not done here: fusing the two rankings (rag/retrieval.py), what a
build holds and when it is rebuilt (rag/index.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from ..chunks import Chunk
from ..documents import Document
from ..settings import Settings

BACKENDS = ("faiss", "milvus")


class SearchBackend(Protocol):
    name: str  # the engine, recorded in the manifest ("engine"): a build loads with its own

    def dense(self, query: np.ndarray, k: int, doc: str | None = None) -> dict[int, float]:
        """Up to k rows by cosine with the unit query vector, best first."""
        ...

    def lexical(self, query: str, k: int, doc: str | None = None) -> dict[int, float]:
        """Up to k rows with a positive BM25 score for the query, best first."""
        ...

    def vectors(self, rows: Sequence[int]) -> np.ndarray:
        """The stored unit vectors of these rows, in this order."""
        ...

    def updated(
        self,
        chunks: Sequence[Chunk],
        old_rows: Sequence[int | None],
        new_vectors: np.ndarray,
        documents: Mapping[str, Document],
    ) -> SearchBackend:
        """An engine over `chunks`: chunk i is this engine's row old_rows[i], or,
        where that is None, the next row of new_vectors. This one is unchanged."""
        ...

    def save(self, folder: Path) -> dict:
        """Write the engine's part of a build into `folder`; manifest fields."""
        ...

    def published(self) -> None:
        """The build holding this engine is live: forget what only older ones used."""
        ...


def backend_identity(settings: Settings) -> str:
    """The engine part of a build's identity: another engine or server is another build."""
    if settings.index_backend == "milvus":
        return f"milvus:{milvus_uri(settings)}:{settings.milvus_lexical}"
    return settings.index_backend


def milvus_uri(settings: Settings) -> str:
    """A server URI as given; a Milvus Lite file as an absolute path."""
    uri = settings.milvus_uri
    return uri if "://" in uri else str(Path(uri).expanduser().resolve())


def required_files(backend: str) -> tuple[str, ...]:
    """Files of a build folder that the engine needs (checked against the manifest)."""
    return ("dense.faiss", "lexical/") if backend == "faiss" else ()


def empty_backend(settings: Settings, dim: int) -> SearchBackend:
    """An engine holding nothing yet, of the kind the settings name."""
    if settings.index_backend == "faiss":
        from .faiss_bm25 import FaissBM25

        return FaissBM25.empty(dim, settings.index_type, settings.ann_threshold)
    if settings.index_backend == "milvus":
        from .milvus import MilvusBackend

        return MilvusBackend.empty(settings, dim)
    raise ValueError(f"unknown index_backend {settings.index_backend!r} (one of: {', '.join(BACKENDS)})")


def load_backend(folder: Path, manifest: dict, chunks: Sequence[Chunk]) -> SearchBackend:
    """The engine of a saved build, as its manifest describes it."""
    if manifest.get("engine") == "faiss":
        from .faiss_bm25 import FaissBM25

        return FaissBM25.load(folder, chunks, manifest["index_type"], manifest["ann_threshold"])
    if manifest.get("engine") == "milvus":
        from .milvus import MilvusBackend

        return MilvusBackend.load(manifest, chunks)
    raise ValueError(f"unknown engine {manifest.get('engine')!r}")
