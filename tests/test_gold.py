"""Mechanical checks for the evaluation sets eval/gold.jsonl and eval/heldout*.jsonl.

Every evidence quote must be an exact substring of its seed file in seeds/,
every must_include string must occur in one of the record's evidence files,
and unanswerable items carry neither evidence nor must_include.
"""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"

ALLOWED_TYPES = {"fact", "list", "multi", "numeric", "unanswerable"}
REQUIRED = {
    "id": str,
    "question": str,
    "answer": str,
    "must_include": list,
    "evidence": list,
    "type": str,
}
# file name in eval/ -> (minimum records, minimum unanswerable items)
SETS = {
    "gold.jsonl": (60, 6),
    "heldout.jsonl": (30, 8),
    "heldout2.jsonl": (30, 8),
    "heldout3.jsonl": (30, 8),
    "heldout4.jsonl": (30, 8),
}


def _load(name):
    with (ROOT / "eval" / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


DATA = {name: _load(name) for name in SETS}
RECORDS = [rec for recs in DATA.values() for rec in recs]
IDS = [f"{name}:{r.get('id', f'line{i}')}" for name, recs in DATA.items() for i, r in enumerate(recs, 1)]


@pytest.fixture(scope="module")
def seed_texts():
    texts = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
    assert texts, f"no seed files found in {SEEDS}"
    return texts


@pytest.mark.parametrize("name", SETS)
def test_counts(name):
    min_records, min_unanswerable = SETS[name]
    assert len(DATA[name]) >= min_records
    assert sum(1 for r in DATA[name] if r.get("type") == "unanswerable") >= min_unanswerable


def test_ids_unique():
    seen = set()
    dupes = [r.get("id") for r in RECORDS if r.get("id") in seen or seen.add(r.get("id"))]
    assert not dupes, f"duplicate ids: {dupes}"


def test_heldout_questions_new():
    # no question may appear in two sets: each set's questions are new to every earlier one
    seen = {}
    repeats = []
    for name, recs in DATA.items():
        for r in recs:
            if r["question"] in seen and seen[r["question"]] != name:
                repeats.append((seen[r["question"]], name, r["question"]))
            seen.setdefault(r["question"], name)
    assert not repeats, f"questions repeated across sets: {repeats}"


@pytest.mark.parametrize("rec", RECORDS, ids=IDS)
def test_fields_and_types(rec):
    for field, typ in REQUIRED.items():
        assert field in rec, f"missing field {field}"
        assert isinstance(rec[field], typ), f"{field} should be {typ.__name__}"
    assert rec["question"].strip() and rec["answer"].strip()
    assert rec["type"] in ALLOWED_TYPES, rec["type"]
    assert all(isinstance(m, str) and m for m in rec["must_include"])
    assert len(rec["must_include"]) <= 5  # key strings, not the whole answer (a list of five is five)
    for ev in rec["evidence"]:
        assert isinstance(ev, dict)
        assert isinstance(ev.get("doc"), str) and ev["doc"]
        assert isinstance(ev.get("quote"), str) and ev["quote"]


@pytest.mark.parametrize("rec", RECORDS, ids=IDS)
def test_answerability_consistent(rec):
    if rec["type"] == "unanswerable":
        assert rec["evidence"] == [], "unanswerable item must have no evidence"
        assert rec["must_include"] == [], "unanswerable item must have no must_include"
    else:
        assert 1 <= len(rec["evidence"]) <= 3
        assert len(rec["must_include"]) >= 1


@pytest.mark.parametrize("rec", RECORDS, ids=IDS)
def test_evidence_quotes_exact(rec, seed_texts):
    for ev in rec["evidence"]:
        assert ev["doc"] in seed_texts, f"unknown doc {ev['doc']}"
        assert "\n" not in ev["quote"], "quote spans lines"
        assert ev["quote"] in seed_texts[ev["doc"]], f"quote not in {ev['doc']}: {ev['quote']}"


@pytest.mark.parametrize("rec", RECORDS, ids=IDS)
def test_must_include_in_evidence_docs(rec, seed_texts):
    docs = [ev["doc"] for ev in rec["evidence"]]
    for m in rec["must_include"]:
        assert any(m in seed_texts.get(d, "") for d in docs), f"{m!r} not in any evidence doc {docs}"
