"""Retrieval latency over a large synthetic corpus (`python -m eval scale`, and
the last part of `python -m eval bench`).

Dense index: N random unit vectors of the embedder's size (384 for e5-small),
indexed with `rag.backends.faiss_bm25.make_faiss` once exact (flat) and once as an HNSW
graph, and, with `milvus=` (the `scale` command asks for FLAT and IVF_FLAT),
in a Milvus Lite collection (a local .db, in this process) per index type; a
few hundred random unit queries are searched one at a time for 50 candidates,
as the retriever does. Reported per index: build time (Milvus: insert, index
and load until searchable), memory (this process's resident set grown by the
build; Milvus also its folder on disk), query latency p50/p95, and recall@10
of its top 10 against the exact top 10. Uniform random vectors have no
neighbourhood structure, the hardest case for a graph or a cluster index, so
recall is pessimistic for real embeddings.

Whole retrieval: the seed index's chunks repeated up to N (BM25 over the
repeated texts) on the dense index that `Settings.index_type` picks for N
(HNSW at 500,000), and the gold questions asked through `rag.retrieval.Retriever`:
query embedding, dense and lexical search, fusion, rerank.

Deliberately not done here: retrieval quality at scale (the vectors and the
repeated chunks mean nothing), Milvus's own BM25 (the Milvus backend's
business, rag/), or asserting a target.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np

from rag import Pipeline
from rag.backends.faiss_bm25 import FaissBM25, faiss_kind, make_faiss
from rag.index import Index
from rag.lexical import LexicalIndex
from rag.retrieval import _POOL, Retriever

from . import metrics as m

# Milvus Lite 3.2 accepts HNSW too but searches it exactly: recall@10 1.000 at
# 20,000 random vectors where FAISS's HNSW gives 0.686, so it isn't offered.
MILVUS_TYPES = ("FLAT", "IVF_FLAT")
_INSERT_BATCH = 10_000
# IVF with about 4·sqrt(N) lists, a few dozen probed (Milvus's guidance).
_NPROBE = 32


def _nlist(n: int) -> int:
    return min(65_536, max(16, round(4 * math.sqrt(n))))


def ivf_faiss(vectors: np.ndarray, seed: int = 0) -> faiss.Index:
    """A FAISS IVF index as Milvus's IVF_FLAT is set up here (about 4·sqrt(N)
    lists, `_NPROBE` probed), trained on a sample: it builds in seconds where an
    HNSW graph over a million vectors takes most of an hour on 2 cores."""
    n, dim = vectors.shape
    nlist = _nlist(n)
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(seed).choice(n, min(n, 64 * nlist), replace=False)
    index.train(np.ascontiguousarray(vectors[np.sort(sample)]))
    index.add(np.ascontiguousarray(vectors))
    index.nprobe = min(nlist, _NPROBE)
    return index


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _ms(seconds: list[float]) -> dict:
    return {"p50": 1000 * m.percentile(seconds, 50), "p95": 1000 * m.percentile(seconds, 95)}


def rss_mib() -> float:
    """This process's resident set now (Linux), in MiB; 0 where unknown."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(re.search(r"^VmRSS:\s+(\d+)", status, re.M).group(1)) / 1024
    except (OSError, AttributeError):
        return 0.0


def _timed(search: Callable[[np.ndarray], list[int]], qs: np.ndarray) -> tuple[dict, list[set]]:
    latency, top10 = [], []
    for q in qs:
        started = time.perf_counter()
        ids = search(q)
        latency.append(time.perf_counter() - started)
        top10.append(set(ids[:10]))
    return _ms(latency), top10


def _recall(exact: list[set], found: list[set]) -> float:
    return m.mean([len(a & b) / 10 for a, b in zip(exact, found)])


def milvus_scale(vectors: np.ndarray, qs: np.ndarray, index_type: str, folder: Path) -> tuple[dict, list[set]]:
    """Build a Milvus Lite collection of `index_type` over `vectors` in `folder`,
    time `qs` one at a time for 50 candidates; the figures and each top 10."""
    from pymilvus import DataType, MilvusClient

    # pymilvus asks Lite for timestamps it doesn't serve; Lite's gRPC logs each
    # as a traceback, and the client carries on without them.
    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    n, dim = vectors.shape
    params, search = {}, {}
    if index_type == "IVF_FLAT":
        nlist = _nlist(n)
        params, search = {"nlist": nlist}, {"nprobe": min(nlist, _NPROBE)}
    rss, started = rss_mib(), time.perf_counter()
    client = MilvusClient(str(folder / "scale.db"))
    try:
        schema = client.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("v", DataType.FLOAT_VECTOR, dim=dim)
        index = client.prepare_index_params()
        index.add_index("v", index_type=index_type, metric_type="IP", params=params)
        client.create_collection("chunks", schema=schema, index_params=index)
        for i in range(0, n, _INSERT_BATCH):
            client.insert("chunks", [{"id": j, "v": vectors[j]} for j in range(i, min(n, i + _INSERT_BATCH))])
            if (i // _INSERT_BATCH) % 20 == 19:  # a slow build shows its rate as it goes
                took = time.perf_counter() - started
                print(
                    f"milvus {index_type}: {i + _INSERT_BATCH:,} inserted in {took:.0f} s", file=sys.stderr, flush=True
                )
        client.flush("chunks")
        client.load_collection("chunks")

        def one(q: np.ndarray) -> list[int]:
            hits = client.search("chunks", [q], limit=_POOL, search_params={"params": search})
            return [h["id"] for h in hits[0]]

        one(qs[0])  # searchable: the first search waits for the index
        build = time.perf_counter() - started
        grown = rss_mib() - rss
        latency, top10 = _timed(one, qs)
        disk = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20
        described = client.describe_index("chunks", "v")
    finally:
        client.close()
    figures = {"build_s": build, "rss_mib": grown, "disk_mib": disk, "latency_ms": latency, "params": params | search}
    figures["index_type"] = described.get("index_type", index_type)
    return figures, top10


def dense_scale(
    n: int,
    queries: int = 300,
    dim: int = 384,
    seed: int = 0,
    milvus: tuple[str, ...] = (),
    faiss_kinds: tuple[str, ...] = ("flat", "hnsw"),
    measured: Callable[[str, dict], None] = lambda key, f: None,
) -> tuple[dict, dict]:
    """Figures for FAISS indexes of `faiss_kinds` over n random vectors (and
    Milvus Lite collections of the `milvus` index types), and the FAISS indexes;
    `measured(key, figures)` is called as each index is done (a long run shows
    what it has). The exact top 10 for recall comes from FAISS flat, always built."""
    rng = np.random.default_rng(seed)
    vectors = _unit(rng.standard_normal((n, dim), dtype=np.float32))
    qs = _unit(rng.standard_normal((queries, dim), dtype=np.float32))
    figures: dict = {"chunks": n, "queries": queries}
    indexes, top10 = {}, {}
    for kind in ("flat", *(k for k in faiss_kinds if k != "flat")):
        rss, started = rss_mib(), time.perf_counter()
        indexes[kind] = ivf_faiss(vectors, seed) if kind == "ivf" else make_faiss(vectors, kind)
        build = time.perf_counter() - started
        grown = rss_mib() - rss
        latency, top10[kind] = _timed(lambda q, i=indexes[kind]: i.search(q[None], _POOL)[1][0].tolist(), qs)
        figures[kind] = {"build_s": build, "rss_mib": grown, "latency_ms": latency}
        if kind != "flat":
            figures[kind]["recall@10"] = _recall(top10["flat"], top10[kind])
        measured(kind, figures[kind])
    for index_type in milvus:
        folder = Path(tempfile.mkdtemp(prefix="scale-milvus-"))
        try:
            f, found = milvus_scale(vectors, qs, index_type, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        f["recall@10"] = _recall(top10["flat"], found)
        figures[key := f"milvus {index_type}"] = f
        measured(key, f)
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


_LABELS = {
    "flat": "FAISS flat (exact)",
    "hnsw": "FAISS HNSW (M 32, efSearch 128)",
    "ivf": f"FAISS IVF (about 4·sqrt(N) lists, nprobe {_NPROBE})",
}


def dense_table(figures: dict) -> list[str]:
    """The dense figures as a Markdown table, one row per index."""
    n = figures["chunks"]
    rows = [
        f"| {n:,} random 384-d chunks | build | memory | query p50 | query p95 | recall@10 vs flat |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, f in figures.items():
        if not isinstance(f, dict) or "build_s" not in f:
            continue
        label = _LABELS.get(key)
        if label is None:
            shown = ", ".join(f"{k} {v}" for k, v in f["params"].items())
            label = f"Milvus Lite {key.split(' ', 1)[1]}" + (f" ({shown})" if shown else "")
        memory = f"{f['rss_mib']:,.0f} MiB" + (f" (+{f['disk_mib']:,.0f} MiB disk)" if "disk_mib" in f else "")
        recall = f"{f['recall@10']:.3f}" if "recall@10" in f else "1 (exact)"
        ms = f["latency_ms"]
        latency = f"{ms['p50']:.2f} ms | {ms['p95']:.2f} ms"
        rows.append(f"| {label} | {f['build_s']:.1f} s | {memory} | {latency} | {recall} |")
    return rows


def run_scale(
    pipe: Pipeline,
    n: int = 100_000,
    queries: int = 300,
    questions: list[str] | None = None,
    show: Callable[[str, str], None] | None = None,
    milvus: tuple[str, ...] = (),
    faiss_kinds: tuple[str, ...] = ("flat", "hnsw"),
) -> dict:
    """Measure, print (label, value) lines through `show`, and return the figures.
    The whole retrieval runs on the FAISS index the settings pick for n, or on
    flat when that one wasn't built."""
    show = show or (lambda label, value: print(f"{label:<38} {value}", flush=True))

    def measured(key: str, f: dict) -> None:
        recall = f", recall@10 {f['recall@10']:.3f}" if "recall@10" in f else ""
        show(
            f"{n:,} chunks, {key}",
            f"build {f['build_s']:.1f} s, +{f['rss_mib']:,.0f} MiB, query {_p(f['latency_ms'])}{recall}",
        )

    # The embedder's size: the whole-retrieval queries search these too.
    figures, indexes = dense_scale(
        n, queries, pipe.index.sentence_vectors.shape[1], milvus=milvus, faiss_kinds=faiss_kinds, measured=measured
    )
    if questions:
        s = pipe.settings
        kind = faiss_kind(n, s.index_type, s.ann_threshold)
        kind = kind if kind in indexes else "flat"
        figures["retrieval"] = r = retrieval_scale(pipe, indexes[kind], questions)
        detail = f"{r['questions']} gold questions; BM25 build {r['lexical_build_s']:.1f} s"
        show(f"{n:,} chunks, whole retrieval ({kind})", f"{_p(r['latency_ms'])} ({detail})")
    return figures
