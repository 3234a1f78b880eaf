"""The embedded engine: a FAISS index and a bm25s index, files inside the build.

Dense search is exact inner product over the chunks' passage vectors below
`ann_threshold` of them and an HNSW graph above it, each chunk scoring its best
passage; `dense_owners.npy` names the chunk of every FAISS row (a chunk's rows
are consecutive). Lexical search is BM25 over jieba words, numbers and
character bigrams (rag/lexical.py). Both are rebuilt whole on an update, from
the vectors and tokens they already hold plus the new chunks':
re-adding stored vectors to a flat FAISS index and recomputing BM25 statistics
over stored tokens cost little beside embedding (`python -m eval incremental`
prints both), and a rebuilt engine is the same as a fresh build's.

Deliberately not done here: embedding, fusion, the build folder's other files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import faiss
import numpy as np

from ..chunks import Chunk
from ..documents import Document
from ..lexical import LexicalIndex, text_tokens


def faiss_kind(size: int, index_type: str = "auto", threshold: int = 500_000) -> str:
    """What `make_faiss` builds for `size` vectors: "flat" or "hnsw"."""
    if index_type == "auto":
        return "flat" if size < threshold else "hnsw"
    return index_type


def make_faiss(vectors: np.ndarray, index_type: str = "auto", threshold: int = 500_000) -> faiss.Index:
    """Exact inner-product search for small corpora, an HNSW graph for large ones."""
    dim = vectors.shape[1]
    kind = faiss_kind(len(vectors), index_type, threshold)
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128  # measured: recall@10 vs exact rises with it, latency stays < 1 ms
    else:
        raise ValueError(f"unknown index_type {index_type!r} (flat, hnsw or auto)")
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


class FaissBM25:
    name = "faiss"

    def __init__(
        self,
        dense: faiss.Index,
        owners: np.ndarray,
        lexical: LexicalIndex | None,
        docs: Sequence[str],
        index_type: str = "auto",
        threshold: int = 500_000,
    ):
        owners = np.asarray(owners, dtype=np.int64)
        if len(owners) != dense.ntotal or (len(owners) and (np.diff(owners) < 0).any()):
            raise ValueError(f"inconsistent engine ({dense.ntotal} vectors, {len(owners)} owners, not in chunk order)")
        if lexical is not None and not lexical.size == len(docs) == len(np.unique(owners)):
            raise ValueError(f"inconsistent engine ({lexical.size} texts, {len(docs)} chunks with passages)")
        self.dense_index = dense
        self.owners = owners  # the chunk row of each FAISS row
        self.lexical_index = lexical
        self._docs = np.asarray(docs, dtype=object)
        self._index_type, self._threshold = index_type, threshold

    @classmethod
    def empty(cls, dim: int, index_type: str = "auto", threshold: int = 500_000) -> FaissBM25:
        dense = make_faiss(np.zeros((0, dim), np.float32), index_type, threshold)
        return cls(dense, np.zeros(0, np.int64), None, [], index_type, threshold)

    @classmethod
    def load(cls, folder: Path, chunks: Sequence[Chunk], index_type: str = "auto", threshold: int = 500_000):
        dense = faiss.read_index(str(folder / "dense.faiss"))
        owners = np.load(folder / "dense_owners.npy")
        lexical = LexicalIndex.load(folder / "lexical")
        return cls(dense, owners, lexical, [c.doc for c in chunks], index_type, threshold)

    def _in(self, doc: str | None, rows: np.ndarray) -> np.ndarray:
        return rows if doc is None else rows[self._docs[rows] == doc]

    def dense(self, query: np.ndarray, k: int, doc: str | None = None) -> dict[int, float]:
        # A chunk's best passage comes first; search deeper until k chunks have
        # come up. Within one document, rank all and keep its rows.
        total = self.dense_index.ntotal
        depth = min(total if doc else 4 * k, total)
        while True:
            scores, ids = self.dense_index.search(query.reshape(1, -1), depth)
            found = ids[0] >= 0
            rows, scores = self.owners[ids[0][found]], scores[0][found]
            if doc is not None:
                keep = self._docs[rows] == doc
                rows, scores = rows[keep], scores[keep]
            _, first = np.unique(rows, return_index=True)
            if len(first) >= k or depth == total:
                # Chunks sharing a sentence tie: the lower row first, as every engine orders them.
                best = sorted(((float(scores[i]), int(rows[i])) for i in first), key=lambda t: (-t[0], t[1]))
                return {row: score for score, row in best[:k]}
            depth = min(4 * depth, total)

    def lexical(self, query: str, k: int, doc: str | None = None) -> dict[int, float]:
        scores = self.lexical_index.scores(query)
        top = self._in(doc, np.argsort(-scores))[:k]
        return {int(i): float(scores[i]) for i in top if scores[i] > 0}

    def passages(self, rows: Sequence[int]) -> list[np.ndarray]:
        starts = np.searchsorted(self.owners, rows, side="left")
        ends = np.searchsorted(self.owners, rows, side="right")
        return [self.dense_index.reconstruct_n(int(a), int(b - a)) for a, b in zip(starts, ends)]

    def updated(
        self,
        chunks: Sequence[Chunk],
        old_rows: Sequence[int | None],
        new_passages: Sequence[np.ndarray],
        documents: Mapping[str, Document],
    ) -> FaissBM25:
        old = iter(self.passages([r for r in old_rows if r is not None]))
        new = iter(new_passages)
        vectors: list[np.ndarray] = []
        tokens: list[list[str]] = []
        known: dict[str, list[str]] = {}  # boilerplate repeats: segment a text once
        for c, r in zip(chunks, old_rows):
            if r is None:
                vectors.append(next(new))
                t = c.embed_text
                tokens.append(known[t] if t in known else known.setdefault(t, text_tokens(t)))
            else:
                vectors.append(next(old))
                tokens.append(self.lexical_index.tokens[r])
        owners = np.repeat(np.arange(len(vectors)), [len(v) for v in vectors])
        stacked = np.concatenate(vectors) if vectors else np.zeros((0, self.dense_index.d), np.float32)
        dense = make_faiss(stacked, self._index_type, self._threshold)
        lexical = LexicalIndex.from_tokens(tokens)
        return FaissBM25(dense, owners, lexical, [c.doc for c in chunks], self._index_type, self._threshold)

    def save(self, folder: Path) -> dict:
        faiss.write_index(self.dense_index, str(folder / "dense.faiss"))
        np.save(folder / "dense_owners.npy", self.owners)
        self.lexical_index.save(folder / "lexical")
        return {"engine": self.name}

    def published(self) -> None:
        return None
