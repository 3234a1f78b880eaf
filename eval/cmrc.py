"""CMRC 2018 as an external knowledge base: retrieval and answers on Wikipedia.

Every passage of a SQuAD-style CMRC file becomes one document
(`<passage id>_<title>.txt`, the Wikipedia title as its first line; the parser
doesn't take a Wikipedia title for a document title, so the file name carries it
into every chunk), written once to `<cache_dir>/cmrc/<file hash>/docs/` and
indexed beside it. Then:

- passage recall@1/@5 over all questions: a hit counts when its document is
  the question's passage (the parser may split a passage into paragraphs and
  chunks; any of them counts);
- for a seeded sample (default 300), `ask()`: the share of answers containing a
  reference answer, and EM/F1 as CMRC 2018 defines them (eval/metrics.py).

Data: CMRC 2018, Cui et al. 2019, CC BY-SA 4.0 (see the SOURCE.md beside the
data); the report repeats this attribution.

Deliberately not done here: any tuning on the dev set (develop on trial).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
import time
from pathlib import Path

from rag import Pipeline, Settings

from . import metrics as m
from .report import write_report

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "cmrc2018" / "cmrc2018_dev.json"


def load(path: Path) -> tuple[list[dict], list[dict]]:
    """(passages, questions): passages as {id, title, context}; questions as
    {id, question, passage, references}."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    passages, questions = [], []
    for article in data["data"]:
        for p in article["paragraphs"]:
            passages.append({"id": p["id"], "title": article["title"], "context": p["context"]})
            for qa in p["qas"]:
                if not qa["question"].strip():
                    continue  # the trial file has two blank questions
                refs = list(dict.fromkeys(a["text"] for a in qa["answers"] if a["text"].strip()))
                questions.append({"id": qa["id"], "question": qa["question"], "passage": p["id"], "references": refs})
    return passages, questions


def doc_name(passage: dict) -> str:
    safe = re.sub(r"[\\/:*?\"<>|\s]+", "_", passage["title"]).strip("._")[:60]
    return f"{passage['id']}_{safe}.txt"


def write_docs(path: Path, passages: list[dict], cache_dir: Path) -> Path:
    """The passages as .txt files in a cache folder keyed by the data file's hash."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    docs = Path(cache_dir) / "cmrc" / digest / "docs"
    if docs.is_dir() and len(list(docs.glob("*.txt"))) == len(passages):
        return docs
    docs.mkdir(parents=True, exist_ok=True)
    for p in passages:
        (docs / doc_name(p)).write_text(f"{p['title']}\n{p['context']}\n", encoding="utf-8")
    return docs


def settings_for(path: Path, passages: list[dict], base: Settings) -> Settings:
    docs = write_docs(path, passages, base.cache_dir)
    return base.with_(docs_dir=docs, index_dir=docs.parent / "index")


def run_cmrc(
    path: Path = DEFAULT,
    base: Settings | None = None,
    sample: int = 300,
    seed: int = 0,
    top_k: int | None = None,
    out: Path | None = None,
    progress: bool = True,
) -> tuple[dict, Path]:
    from .harness import REPORTS

    passages, questions = load(path)
    pipe = Pipeline(settings_for(path, passages, base or Settings()))
    top_k = top_k or pipe.settings.top_k
    names = {p["id"]: doc_name(p) for p in passages}

    started = time.perf_counter()
    index = pipe.index  # built here on first use
    build_s = index.manifest.get("build_seconds", time.perf_counter() - started)

    ranks, retrieval_s = [], []
    for n, q in enumerate(questions, start=1):
        t = time.perf_counter()
        docs = [h.doc for h in pipe.retrieve(q["question"], 5)]
        retrieval_s.append(time.perf_counter() - t)
        ranks.append(docs.index(names[q["passage"]]) + 1 if names[q["passage"]] in docs else None)
        if progress and n % 200 == 0:
            print(f"  [cmrc retrieval {n}/{len(questions)}]", file=sys.stderr, flush=True)

    chosen = random.Random(seed).sample(questions, min(sample, len(questions)))
    records, answer_s = [], []
    for n, q in enumerate(chosen, start=1):
        t = time.perf_counter()
        a = pipe.ask(q["question"], top_k)
        answer_s.append(time.perf_counter() - t)
        text = "" if a.refused else m.strip_markers(a.text)
        records.append(
            {
                "id": q["id"],
                "question": q["question"],
                "references": q["references"],
                "answer": a.text,
                "refused": a.refused,
                "support": a.support,
                "cited_passage": any(c.doc == names[q["passage"]] for c in a.citations),
                "contains_reference": m.contains_reference(text, q["references"]),
                "em": m.cmrc_em(text, q["references"]),
                "f1": m.cmrc_f1(text, q["references"]),
            }
        )
        if progress:
            print(f"  [cmrc answers {n}/{len(chosen)}] {q['id']} {answer_s[-1]:.1f}s", file=sys.stderr, flush=True)

    figures = {
        "passages": len(passages),
        "questions": len(questions),
        "recall@1": m.mean([float(r == 1) for r in ranks]),
        "recall@5": m.mean([float(r is not None) for r in ranks]),
        "sample": len(records),
        "contains_reference": m.mean([float(r["contains_reference"]) for r in records]),
        "em": m.mean([r["em"] for r in records]),
        "f1": m.mean([r["f1"] for r in records]),
        "refused": m.mean([float(r["refused"]) for r in records]),
        "cited_passage": m.mean([float(r["cited_passage"]) for r in records]),
        "index_build_s": build_s,
        "latency_s": {
            "retrieval": {"p50": m.percentile(retrieval_s, 50), "p95": m.percentile(retrieval_s, 95)},
            "answer": {"p50": m.percentile(answer_s, 50), "p95": m.percentile(answer_s, 95)},
        },
    }
    report = {
        "kind": "cmrc",
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "path": str(path),
        "seed": seed,
        "top_k": top_k,
        "settings": {k: str(v) for k, v in vars(pipe.settings).items()},
        "figures": figures,
        "records": records,
    }
    return report, write_report(report, out or REPORTS)
