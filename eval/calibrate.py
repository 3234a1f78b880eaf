"""The refusal threshold from a pool of question sets: `python -m eval calibrate`.

Asks every question of the pooled sets (by default the held-out sets h17, h18,
h19 and h25: 1014 questions written by people who never saw the system, none
used to choose how evidence is scored; h15 and h16, and before them h2-h4 and
eval/calibration.jsonl, have since chosen rules), prints the support scores of answerable
and unanswerable items side by side, and the thresholds that refuse the most
unanswerable items while refusing at most 1 answerable item in 20, and 1 in 10.

Deliberately not done here: changing `Settings.refuse_below` (a person reads the
figures and decides), or scoring answers (`python -m eval` does).
"""

from __future__ import annotations

from pathlib import Path

from rag import Pipeline

from .harness import load_gold
from .metrics import percentile, suggest_threshold

HERE = Path(__file__).resolve().parent
POOL = tuple(HERE / f"heldout{n}.jsonl" for n in (17, 18, 19, 25))


def supports(pipe: Pipeline, paths) -> tuple[list[float], list[float]]:
    """Support scores of the answerable and of the unanswerable items. A
    question the pipeline rejects (a hint, ValueError) counts as support 0."""
    answerable, unanswerable = [], []
    for path in paths:
        for item in load_gold(Path(path)):
            try:
                support = pipe.ask(item["question"]).support
            except ValueError:
                support = 0.0
            (unanswerable if item["type"] == "unanswerable" else answerable).append(support)
    return answerable, unanswerable


def calibration_lines(answerable: list[float], unanswerable: list[float], current: float) -> list[str]:
    lines = ["| support | answerable | unanswerable |", "|---|---:|---:|"]
    lines.append(f"| items | {len(answerable)} | {len(unanswerable)} |")
    for q in (0, 10, 25, 50, 75, 90, 100):
        a, u = percentile(answerable, q), percentile(unanswerable, q)
        lines.append(f"| p{q} | {a:.3f} | {u:.3f} |")
    refused = (sum(s < current for s in answerable), sum(s < current for s in unanswerable))
    lines.append(f"\ncurrent refuse_below {current}: refuses {refused[0]} answerable, {refused[1]} unanswerable")
    for share, name in ((0.05, "1 in 20"), (0.10, "1 in 10")):
        best = suggest_threshold(answerable, unanswerable, share)
        if best:
            lines.append(
                f"at most {name} answerable refused: refuse_below = {best['threshold']} "
                f"(refuses {best['answerable_refused']} answerable, {best['unanswerable_refused']} unanswerable)"
            )
    return lines
