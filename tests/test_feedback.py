"""Votes land as JSON lines in the index folder, one per vote, nothing else."""

from __future__ import annotations

import json

import pytest

from rag.citations import Citation
from rag.feedback import FILE, record

GDP = "地区生产总值增长7%左右。"
CITE = Citation("004.txt", "郑州市2024年计划", "一、目标", 3, GDP, quote=GDP)


def test_each_vote_is_appended_as_one_line(tmp_path):
    path = record(tmp_path, "GDP增长多少?", "地区生产总值增长7%左右。[1]", [CITE], "up", short="增长7%左右[1]")
    record(tmp_path, "GDP增长多少?", "地区生产总值增长7%左右。[1]", [CITE], "down")
    assert path == tmp_path / FILE
    first, second = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    assert first["vote"] == "up" and second["vote"] == "down"
    assert first["question"] == "GDP增长多少?" and first["short"] == "增长7%左右[1]"
    assert first["citations"] == [
        {"marker": 1, "doc": "004.txt", "title": "郑州市2024年计划", "paragraph": 3, "quote": CITE.quote}
    ]
    assert first["time"].endswith("+00:00")


def test_an_unknown_vote_is_refused_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match="vote"):
        record(tmp_path, "问", "答", [], "maybe")
    assert not (tmp_path / FILE).exists()
