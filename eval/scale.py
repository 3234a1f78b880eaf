"""Retrieval latency over a large synthetic corpus (`python -m eval scale`, and
the last part of `python -m eval bench`).

Dense index: N random unit vectors of the embedder's size (384 for e5-small),
indexed with `rag.backends.faiss_bm25.make_faiss` once exact (flat) and once as an HNSW
graph; a few hundred random unit queries are searched one at a time for 50
candidates, as the retriever does. Reported: build time, query latency
p50/p95, and the HNSW top 10's recall against the exact top 10. Uniform random
vectors have no neighbourhood structure, the hardest case for a graph index, so
that recall is pessimistic for real embeddings.

Whole retrieval: the seed index's chunks repeated up to N (BM25 over the
repeated texts) on the dense index that `Settings.index_type` picks for N
(HNSW at 100,000), and the gold questions asked through `rag.retrieval.Retriever`:
query embedding, dense and lexical search, fusion, rerank.

Deliberately not done here: retrieval quality at scale (the vectors and the
repeated chunks mean nothing) or asserting a target.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from rag import Pipeline
from rag.backends.faiss_bm25 import FaissBM25, faiss_kind, make_faiss
from rag.index import Index
from rag.lexical import LexicalIndex
from rag.retrieval import _POOL, Retriever

from . import metrics as m


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _ms(seconds: list[float]) -> dict:
    return {"p50": 1000 * m.percentile(seconds, 50), "p95": 1000 * m.percentile(seconds, 95)}


def dense_scale(n: int, queries: int = 300, dim: int = 384, seed: int = 0) -> tuple[dict, dict]:
    """Figures for the flat and the HNSW index over n random vectors, and the indexes."""
    rng = np.random.default_rng(seed)
    vectors = _unit(rng.standard_normal((n, dim), dtype=np.float32))
    qs = _unit(rng.standard_normal((queries, dim), dtype=np.float32))
    figures: dict = {"chunks": n, "queries": queries}
    indexes, top10 = {}, {}
    for kind in ("flat", "hnsw"):
        started = time.perf_counter()
        indexes[kind] = make_faiss(vectors, kind)
        build = time.perf_counter() - started
        latency, top10[kind] = [], []
        for q in qs:
            started = time.perf_counter()
            _, ids = indexes[kind].search(q[None], _POOL)
            latency.append(time.perf_counter() - started)
            top10[kind].append(set(ids[0, :10].tolist()))
        figures[kind] = {"build_s": build, "latency_ms": _ms(latency)}
    figures["hnsw_recall@10"] = m.mean([len(a & b) / 10 for a, b in zip(top10["flat"], top10["hnsw"])])
    return figures, indexes


def retrieval_scale(pipe: Pipeline, dense, questions: list[str]) -> dict:
    """Whole-retrieval latency with the seed chunks repeated to `dense.ntotal`."""
    base = pipe.index
    n = dense.ntotal
    chunks = [replace(c, id=f"{c.id}~{i}") for i, c in enumerate(itertools.islice(itertools.cycle(base.chunks), n))]
    started = time.perf_counter()
    lexical = LexicalIndex.build([c.embed_text for c in chunks])
    lexical_s = time.perf_counter() - started
    search = FaissBM25(dense, lexical, [c.doc for c in chunks])
    big = Index(base.documents, chunks, search, base.sentences, base.sentence_vectors, base.manifest)
    retriever = Retriever(big, pipe.embedder, pipe.settings)
    retriever.retrieve(questions[0])  # models and cached tables load outside the timings
    latency = []
    for q in questions:
        started = time.perf_counter()
        retriever.retrieve(q)
        latency.append(time.perf_counter() - started)
    return {"lexical_build_s": lexical_s, "questions": len(questions), "latency_ms": _ms(latency)}


def _p(ms: dict) -> str:
    return f"p50 {ms['p50']:.2f} ms, p95 {ms['p95']:.2f} ms"


def run_scale(
    pipe: Pipeline,
    n: int = 100_000,
    queries: int = 300,
    questions: list[str] | None = None,
    show: Callable[[str, str], None] | None = None,
) -> dict:
    """Measure, print (label, value) lines through `show`, and return the figures."""
    show = show or (lambda label, value: print(f"{label:<38} {value}", flush=True))
    figures, indexes = dense_scale(
        n, queries, pipe.index.sentence_vectors.shape[1]
    )  # the embedder's size: queries search these too
    for kind in ("flat", "hnsw"):
        f = figures[kind]
        show(
            f"{n:,} chunks, {kind} index",
            f"build {f['build_s']:.1f} s, query {_p(f['latency_ms'])} ({queries} queries)",
        )
    show(f"{n:,} chunks, HNSW recall@10 vs flat", f"{figures['hnsw_recall@10']:.3f} (random vectors: pessimistic)")
    if questions:
        s = pipe.settings
        kind = faiss_kind(n, s.index_type, s.ann_threshold)
        figures["retrieval"] = r = retrieval_scale(pipe, indexes[kind], questions)
        detail = f"{r['questions']} gold questions; BM25 build {r['lexical_build_s']:.1f} s"
        show(f"{n:,} chunks, whole retrieval ({kind})", f"{_p(r['latency_ms'])} ({detail})")
    return figures
