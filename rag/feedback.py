"""Readers' votes on answers, kept on this machine for the operator.

`record(folder, …)` appends one JSON line (question, answer, short answer,
citations, vote, time) to `feedback.jsonl` in the index folder
(`Settings.index_dir`): a file the operator reads with any text tool.

Deliberately not done here: sending votes anywhere, or reading them back:
answers never depend on them (same question, same answer).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from .citations import Citation

FILE = "feedback.jsonl"
VOTES = ("up", "down")
_lock = threading.Lock()  # two votes at once must not interleave their lines


def record(folder: Path, question: str, answer: str, citations: Sequence[Citation], vote: str, short: str = "") -> Path:
    """Append one vote; returns the file. `vote` is "up" or "down"."""
    if vote not in VOTES:
        raise ValueError(f"vote must be one of {VOTES}, not {vote!r}")
    entry = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "vote": vote,
        "question": question,
        "short": short,
        "answer": answer,
        "citations": [
            {"marker": n, "doc": c.doc, "title": c.title, "paragraph": c.paragraph, "quote": c.quote}
            for n, c in enumerate(citations, start=1)
        ],
    }
    path = Path(folder) / FILE
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    with _lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(line)
    return path
