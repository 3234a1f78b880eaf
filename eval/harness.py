"""Run the gold set through a system and sum up the figures.

`evaluate(system, items, …)` asks every item's question (retrieval top 10 for
recall@1/5/10 and MRR, then the full answer unless retrieval-only) and returns
one record per item with its scores; `summarize(records)` turns those into the
report's figures. `run_gold(…)` does both for ours (and the baseline when
asked) and writes the report.

Deliberately not done here: the metric definitions (eval/metrics.py) and the
report's layout (eval/report.py).
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from rag import Pipeline

from . import metrics as m
from .report import write_report
from .systems import Baseline, Ours

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "eval" / "gold.jsonl"
REPORTS = ROOT / "eval" / "reports"
RECALL_KS = (1, 5, 10)


def load_gold(path: Path = GOLD, sample: int | None = None, seed: int = 0) -> list[dict]:
    """The gold records; if asked, a seeded random sample of them (in file order)
    that keeps the share of unanswerable items, so refusals are always measured."""
    with open(path, encoding="utf-8") as f:
        items = [json.loads(line) for line in f if line.strip()]
    if sample and sample < len(items):
        rng = random.Random(seed)
        una = [i for i, it in enumerate(items) if not answerable(it)]
        ans = [i for i, it in enumerate(items) if answerable(it)]
        n_una = min(len(una), max(1 if una else 0, round(sample * len(una) / len(items))))
        chosen = set(rng.sample(una, n_una)) | set(rng.sample(ans, min(len(ans), sample - n_una)))
        items = [it for i, it in enumerate(items) if i in chosen]
    return items


def answerable(item: dict) -> bool:
    return item["type"] != "unanswerable"


def evaluate(system, items: list[dict], top_k: int, retrieval_only: bool = False, progress: bool = True) -> list[dict]:
    """One record per item: what was retrieved and answered, and its scores."""
    records = []
    depth = max(max(RECALL_KS), top_k)
    for n, item in enumerate(items, start=1):
        quotes = [e["quote"] for e in item["evidence"]]
        must = item["must_include"]
        started = time.perf_counter()
        texts = system.retrieve(item["question"], depth)
        rec: dict = {
            "id": item["id"],
            "type": item["type"],
            "question": item["question"],
            "gold": item["answer"],
            "must_include": must,
            "retrieval_s": time.perf_counter() - started,
        }
        if answerable(item):
            rec |= {f"recall@{k}": m.evidence_recall(quotes, texts, k) for k in RECALL_KS}
            rec["first_rank"] = m.first_rank(quotes, texts)
            rec["rr"] = m.reciprocal_rank(quotes, texts)
        if not retrieval_only:
            r = system.answer(item["question"], top_k)
            cited = [c.text for c in r.cited]
            rec |= {
                "answer": r.text,
                "refused": r.refused,
                "citations": [{"doc": c.doc, "paragraph": c.paragraph, "text": c.text} for c in r.cited],
                "dropped": r.dropped,
                "error": r.error,
                "support": r.support,
                "first_text_s": r.first_text,
                "answer_s": r.total,
                "numbers": m.numbers(r.text),
                "unsupported_numbers": m.unsupported_numbers(r.text, cited),
            }
            if answerable(item):
                rec |= {
                    "must_include_recall": m.must_include_recall(must, r.text),
                    "missing": [s for s in must if not m.contains(m.strip_markers(r.text), s)],
                    "correct": m.fully_correct(must, r.text, r.refused),
                    "char_f1": m.char_f1(r.text, item["answer"]),
                    "citation_recall": m.citation_recall(quotes, cited),
                    "citation_precision": m.citation_precision(quotes, must, cited),
                }
        records.append(rec)
        if progress:
            status = "" if retrieval_only else (" refused" if rec["refused"] else f" {rec['answer_s']:.1f}s")
            print(f"  [{system.name} {n}/{len(items)}] {item['id']}{status}", file=sys.stderr, flush=True)
    return records


def _latency(values: list[float]) -> dict:
    return {"p50": m.percentile(values, 50), "p95": m.percentile(values, 95)}


def summarize(records: list[dict], retrieval_only: bool = False) -> dict:
    """The report's figures for one system's records."""
    ans = [r for r in records if r["type"] != "unanswerable"]
    una = [r for r in records if r["type"] == "unanswerable"]
    figures: dict = {
        "items": len(records),
        "answerable": len(ans),
        "unanswerable": len(una),
        "retrieval": {f"recall@{k}": m.mean([r[f"recall@{k}"] for r in ans]) for k in RECALL_KS}
        | {"mrr": m.mean([r["rr"] for r in ans])},
        "latency_s": {"retrieval": _latency([r["retrieval_s"] for r in records])},
    }
    if retrieval_only:
        return figures
    unsupported = sum(len(r["unsupported_numbers"]) for r in records)
    figures |= {
        "answers": {
            "must_include_recall": m.mean([r["must_include_recall"] for r in ans]),
            "fully_correct": m.mean([float(r["correct"]) for r in ans]),
            "char_f1": m.mean([r["char_f1"] for r in ans]),
        },
        # Over answerable items; a refusal cites nothing, so its recall is 0.
        # Precision is over the items that cite something.
        "citations": {
            "recall": m.mean([r["citation_recall"] for r in ans]),
            "precision": m.mean([r["citation_precision"] for r in ans]),
        },
        "faithfulness": {
            "numbers": sum(len(r["numbers"]) for r in records),
            "unsupported_numbers": unsupported,
            "items_with_unsupported_numbers": sum(bool(r["unsupported_numbers"]) for r in records),
        },
        "refusals": {
            "unanswerable_refused": m.mean([float(r["refused"]) for r in una]),
            "answerable_refused": sum(r["refused"] for r in ans),
        },
    }
    figures["latency_s"] |= {
        "first_text": _latency([r["first_text_s"] for r in records]),
        "answer": _latency([r["answer_s"] for r in records]),
    }
    supports_a = [r["support"] for r in ans if r.get("support") is not None]
    supports_u = [r["support"] for r in una if r.get("support") is not None]
    if supports_a:
        figures["support"] = {
            "answerable": sorted(round(s, 4) for s in supports_a),
            "unanswerable": sorted(round(s, 4) for s in supports_u),
            "suggested": m.suggest_threshold(supports_a, supports_u),
        }
    return figures


def failed(record: dict) -> list[str]:
    """Why an item counts as failed (empty when it passed)."""
    reasons = []
    if record["type"] != "unanswerable" and record.get("recall@5", 1.0) < 1.0:
        reasons.append(f"evidence recall@5 {record['recall@5']:.2f}")
    if "answer" in record:
        if record["type"] == "unanswerable" and not record["refused"]:
            reasons.append("unanswerable but answered")
        if record["type"] != "unanswerable":
            if record["refused"]:
                reasons.append("answerable but refused")
            elif not record["correct"]:
                reasons.append("missing " + "、".join(record["missing"]))
        if unsupported := list(dict.fromkeys(record["unsupported_numbers"])):
            shown = ", ".join(n[:20] for n in unsupported[:10]) + (" …" if len(unsupported) > 10 else "")
            reasons.append(f"{len(record['unsupported_numbers'])} numbers in no cited paragraph: {shown}")
    return reasons


def run_gold(
    pipe: Pipeline,
    gold: Path = GOLD,
    top_k: int | None = None,
    sample: int | None = None,
    retrieval_only: bool = False,
    baseline: bool = False,
    out: Path = REPORTS,
    progress: bool = True,
) -> tuple[dict, Path]:
    """Evaluate ours (and the baseline) on the gold set; write and return the report."""
    top_k = top_k or pipe.settings.top_k
    items = load_gold(gold, sample)
    systems = [Ours(pipe)] + ([Baseline(pipe)] if baseline else [])
    report: dict = {
        "kind": "gold",
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "gold": str(gold),
        "sample": sample,
        "top_k": top_k,
        "retrieval_only": retrieval_only,
        "settings": {k: str(v) for k, v in vars(pipe.settings).items()},
        "systems": {},
        "records": {},
    }
    for system in systems:
        system.warm(not retrieval_only)
        records = evaluate(system, items, top_k, retrieval_only, progress)
        report["systems"][system.name] = summarize(records, retrieval_only)
        report["records"][system.name] = records
    folder = write_report(report, out)
    return report, folder
