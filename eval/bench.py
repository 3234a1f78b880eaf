"""`python -m eval bench`: how fast the system is on this machine, printed.

Measures index build time (the seeds, paired with the naive recipe's build of
them in the same process, and the CMRC passages, each into a temporary index
folder), time to load an existing index, cold start to a first
answer (a fresh subprocess), retrieval latency, time to first text and to the
whole answer, the LLM's tokens per second, peak memory (RSS), and last
retrieval latency over 100,000 synthetic chunks (eval/scale.py).

Deliberately not done here: asserting anything; the figures depend on the
machine and on whatever else runs on it (load is printed alongside).
"""

from __future__ import annotations

import base64
import contextlib
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rag import Pipeline, Settings
from rag.answering import build_prompt
from rag.embeddings import Embedder
from rag.evidence import gather_evidence
from rag.index import load, load_or_build

from . import cmrc
from . import metrics as m
from .harness import GOLD, load_gold
from .scale import run_scale
from .systems import naive_index

ROOT = Path(__file__).resolve().parents[1]
# A fresh process with the bench's settings (pickled, base64, in argv[1]):
# seconds to the first answer, then to the model loaded as well (most answers
# don't need the model, so the first one may not load it).
_COLD = (
    "import base64, pickle, sys, time; t = time.perf_counter(); from rag import Pipeline; "
    "p = Pipeline(pickle.loads(base64.b64decode(sys.argv[1]))); "
    "a = p.ask('2024年郑州市地区生产总值预期增长多少?'); answered = time.perf_counter() - t; "
    "list(p.llm.stream('你好', max_tokens=1)); print(answered, time.perf_counter() - t)"
)


@contextlib.contextmanager
def backend_settings(settings: Settings, backend: str | None, base_url: str | None = None):
    """The settings for timing one LLM backend. For "openai" with no server
    given, a llama.cpp server on the bundled GGUF runs in this process, so the
    figures compare the same model in-process and over HTTP."""
    if backend is None:
        yield settings
        return
    settings = settings.with_(llm_backend=backend)
    if backend != "openai" or base_url:
        yield settings.with_(openai_base_url=base_url) if base_url else settings
        return
    from rag.llms import bundled_gguf
    from rag.llms.llamacpp import llama_server

    server, url = llama_server(bundled_gguf(), threads=settings.llm_threads)
    try:
        yield settings.with_(openai_base_url=url)
    finally:
        del server


def _build_seconds(settings: Settings, embedder: Embedder) -> float:
    """Parse, chunk, embed and save into an empty temporary index folder."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        load_or_build(settings.with_(index_dir=Path(tmp)), embedder, progress=False)
        return time.perf_counter() - started


def paired_build(settings: Settings, embedder: Embedder, repeats: int = 3) -> dict:
    """Our build of the docs folder beside the naive recipe's (eval/systems.py:
    500-character chunks, the same embedder, FAISS flat), alternating which goes
    first, in this process: median wall and CPU seconds of each, and ours ÷ naive.
    CPU seconds count every thread and hardly move with other load on the machine."""
    runs = {
        "ours": lambda: _build_seconds(settings, embedder),
        "naive": lambda: naive_index(settings.docs_dir, embedder),
    }
    wall: dict[str, list[float]] = {"ours": [], "naive": []}
    cpu: dict[str, list[float]] = {"ours": [], "naive": []}
    for i in range(repeats):
        for name in ("ours", "naive") if i % 2 == 0 else ("naive", "ours"):
            w, c = time.perf_counter(), time.process_time()
            runs[name]()
            wall[name].append(time.perf_counter() - w)
            cpu[name].append(time.process_time() - c)
    out = {f"{k}_{name}_s": statistics.median(v[name]) for k, v in (("wall", wall), ("cpu", cpu)) for name in runs}
    out["wall_ratio"] = out["wall_ours_s"] / out["wall_naive_s"]
    out["cpu_ratio"] = out["cpu_ours_s"] / out["cpu_naive_s"]
    out["repeats"] = repeats
    return out


def build_lines(f: dict) -> list[str]:
    return [
        f"{'index build, seeds (ours)':<38} {f['wall_ours_s']:.1f} s wall, {f['cpu_ours_s']:.1f} s CPU"
        f" (median of {f['repeats']})",
        f"{'index build, seeds (naive recipe)':<38} {f['wall_naive_s']:.1f} s wall, {f['cpu_naive_s']:.1f} s CPU",
        f"{'index build, ours / naive':<38} {f['wall_ratio']:.2f}x wall, {f['cpu_ratio']:.2f}x CPU",
    ]


def _model_step(pipe: Pipeline, questions: list[str]) -> tuple[list[float], list[float]]:
    """Time to the first piece and to the end of the model's constrained choice
    among a question's second to fourth evidence sentences, after the lead."""
    first, total = [], []
    for question in questions:
        evidence = gather_evidence(question, pipe.retrieve(question), pipe.index, pipe.embedder)[:4]
        if len(evidence) < 2:
            continue
        choices = [f"{e.sentence}[{i}]" for i, e in enumerate(evidence, start=1)]
        prompt = build_prompt(question, [e.sentence for e in evidence]) + choices[0]
        t = time.perf_counter()
        f = None
        for _ in pipe.llm.stream(prompt, max_tokens=pipe.settings.max_new_tokens, choices=choices[1:], max_choices=2):
            f = f or time.perf_counter() - t
        total.append(time.perf_counter() - t)
        first.append(f or total[-1])
    return first, total


def _p(values: list[float]) -> str:
    return f"p50 {m.percentile(values, 50):.3f} s, p95 {m.percentile(values, 95):.3f} s (n={len(values)})"


def run_bench(
    settings: Settings | None = None,
    questions: int = 10,
    cmrc_path: Path | None = cmrc.DEFAULT,
    gold: Path = GOLD,
    scale: int = 100_000,
    build_repeats: int = 3,
) -> dict:
    settings = settings or Settings()
    pipe = Pipeline(settings)
    out: dict = {}

    def show(label: str, value: str) -> None:
        print(f"{label:<38} {value}", flush=True)

    show("machine", f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    pipe.embedder.embed(["预热"], "query")  # model load is not build time

    out["build_seeds"] = paired_build(settings, pipe.embedder, build_repeats)
    out["build_seeds_s"] = out["build_seeds"]["wall_ours_s"]
    print("\n".join(build_lines(out["build_seeds"])), flush=True)
    if cmrc_path and Path(cmrc_path).exists():
        passages, _ = cmrc.load(cmrc_path)
        out["build_cmrc_s"] = _build_seconds(cmrc.settings_for(cmrc_path, passages, settings), pipe.embedder)
        show(f"index build, CMRC ({len(passages)} passages)", f"{out['build_cmrc_s']:.1f} s")

    pipe.index  # noqa: B018 (builds it if missing, so the load below finds it)
    started = time.perf_counter()
    load(settings.index_dir)
    out["load_index_s"] = time.perf_counter() - started
    show("load existing index", f"{out['load_index_s']:.2f} s")

    argv = [base64.b64encode(pickle.dumps(settings)).decode()]
    cold = subprocess.run([sys.executable, "-c", _COLD, *argv], cwd=ROOT, capture_output=True, text=True, check=False)
    if cold.returncode == 0:
        out["cold_start_s"], out["cold_start_model_s"] = map(float, cold.stdout.split()[-2:])
        show("cold start to first answer", f"{out['cold_start_s']:.1f} s")
        show("cold start, model loaded too", f"{out['cold_start_model_s']:.1f} s")
    else:
        show("cold start to first answer", f"failed: {cold.stderr[-300:]}")

    items = load_gold(gold, questions)
    retrieval, first, total = [], [], []
    started = time.perf_counter()
    list(pipe.llm.stream("你好", max_tokens=1))  # load the model outside the timings
    out["llm_load_s"] = time.perf_counter() - started
    show(f"LLM load ({pipe.llm.name})", f"{out['llm_load_s']:.1f} s")
    for item in items:
        t = time.perf_counter()
        pipe.retrieve(item["question"])
        retrieval.append(time.perf_counter() - t)
    for item in items:
        t = time.perf_counter()
        f = None
        for piece in pipe.ask_stream(item["question"]):
            if isinstance(piece, str) and f is None:
                f = time.perf_counter() - t
        total.append(time.perf_counter() - t)
        first.append(f if f is not None else total[-1])
    out["retrieval"], out["first_text"], out["answer"] = retrieval, first, total
    show("retrieval latency", _p(retrieval))
    show("time to first text", _p(first))
    show("whole answer", _p(total))

    # The model step alone, on every question: it adds up to two of three
    # evidence sentences to the lead (rag/answering.py), a constrained copy.
    step_first, step_total = _model_step(pipe, [it["question"] for it in items])
    out["model_first_token"], out["model_step"] = step_first, step_total
    show("model step, first token", _p(step_first))
    show("model step, whole", _p(step_total))

    prompt = "以下是郑州市2024年政府工作报告的摘要:\n"
    t = time.perf_counter()
    n = sum(1 for _ in pipe.llm.stream(prompt, max_tokens=100))  # llama.cpp streams one piece per token
    out["tokens_per_s"] = n / (time.perf_counter() - t)
    show("LLM tokens per second", f"{out['tokens_per_s']:.1f} ({n} tokens, prompt included in the time)")

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out["peak_rss_mib"], out["cold_start_peak_rss_mib"] = peak, child
    show("peak memory (RSS)", f"{peak:.0f} MiB this process, {child:.0f} MiB the cold-start one")

    if scale:  # last, so its vectors don't count in the peak memory above
        out["scale"] = run_scale(pipe, scale, questions=[it["question"] for it in load_gold(gold)], show=show)
    return out
