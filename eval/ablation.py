"""`python -m eval ablation`: what each part of retrieval is worth, step by step.

The gold set is run retrieval-only (eval/harness.py's `evaluate`) once per step
of `STEPS`, each step switching on one more part: dense and lexical alone, both
fused by reciprocal rank (1:1), then the title and heading path in what is
matched, query expansion, and last the default settings (local rerank, RRF
1:2). One table of evidence recall@1/5/10 and MRR is printed and written to
`eval/reports/<timestamp>-ablation/` (report.json, report.md).

The steps without structure use their own index under
`cache_dir/ablation/`, so the main index folder is never rebuilt for them.

Deliberately not done here: answering, or choosing settings from the figures.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from rag import Pipeline, Settings

from .harness import GOLD, REPORTS, evaluate, load_gold, summarize
from .report import fmt, mark_latest, new_folder
from .systems import Ours

# Everything off but the two rankings; each step below names its changes from Settings.
_BARE = {"structure": False, "expand_queries": False, "rerank": "none", "dense_weight": 1.0, "lexical_weight": 1.0}
STEPS: list[tuple[str, dict]] = [
    ("dense only (e5)", _BARE | {"lexical_weight": 0.0}),
    ("lexical only (BM25, jieba words + bigrams)", _BARE | {"dense_weight": 0.0}),
    ("fused, RRF 1:1", _BARE),
    ("+ structure (title, heading path)", _BARE | {"structure": True}),
    ("+ query handling (synonyms, 今年)", _BARE | {"structure": True, "expand_queries": True}),
    ("+ local rerank, RRF 1:2 (the defaults)", {}),
]
COLUMNS = [("recall@1", "R@1"), ("recall@5", "R@5"), ("recall@10", "R@10"), ("mrr", "MRR")]


def step_settings(base: Settings, changes: dict) -> Settings:
    s = base.with_(**changes)
    if s.structure != base.structure:  # the other variant's index lives apart
        s = s.with_(index_dir=base.cache_dir / "ablation" / f"structure-{s.structure}")
    return s


def ablation_table(steps: list[dict]) -> list[str]:
    lines = ["| step | " + " | ".join(label for _, label in COLUMNS) + " |", "|---|" + "---:|" * len(COLUMNS)]
    for step in steps:
        lines.append(f"| {step['step']} | " + " | ".join(fmt(step["retrieval"][k]) for k, _ in COLUMNS) + " |")
    return lines


def run_ablation(
    settings: Settings | None = None,
    gold: Path = GOLD,
    top_k: int | None = None,
    sample: int | None = None,
    out: Path = REPORTS,
    progress: bool = True,
) -> tuple[dict, Path]:
    settings = settings or Settings()
    top_k = top_k or settings.top_k
    items = load_gold(gold, sample)
    embedder = Pipeline(settings).embedder  # one model for every step
    report: dict = {
        "kind": "ablation",
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "gold": str(gold),
        "sample": sample,
        "top_k": top_k,
        "steps": [],
    }
    for name, changes in STEPS:
        system = Ours(Pipeline(step_settings(settings, changes), embedder=embedder))
        system.warm(False)
        records = evaluate(system, items, top_k, retrieval_only=True, progress=progress)
        figures = summarize(records, retrieval_only=True)
        report["steps"].append(
            {
                "step": name,
                "changes": changes,
                "retrieval": figures["retrieval"],
                "items": figures["answerable"],
                "records": records,
            }
        )
    folder = new_folder(Path(out), "-ablation")
    (folder / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    answerable = report["steps"][0]["items"]
    md = [
        f"# Retrieval ablation, {report['created']}",
        "",
        f"Gold file `{gold}`, {answerable} answerable items"
        + (f" (seeded sample of {sample})" if sample else "")
        + f", retrieval only, top_k={top_k}; embedder `{settings.embedder}`. Each step adds to the one above;"
        " dense and lexical alone have no structure.",
        "",
        *ablation_table(report["steps"]),
        "",
    ]
    (folder / "report.md").write_text("\n".join(md), encoding="utf-8")
    mark_latest(folder)
    return report, folder
