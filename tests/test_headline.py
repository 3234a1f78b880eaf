"""The short answer: one verbatim clause of an answer sentence, checked like it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from rag.citations import claims, markers, strip_markers, supports
from rag.headline import headline
from rag.question import read
from rag.synonyms import Synonyms

ROOT = Path(__file__).resolve().parents[1]
SYN = Synonyms("地区生产总值 主导产业 新能源汽车", year=2024)
GDP = "2024年的经济社会发展主要预期目标是:地区生产总值增长7%左右,规模以上工业增加值增长8%左右。"
CARS = "加快企业项目投产达效,力争新能源汽车产量超过70万辆,带动汽车产量突破140万辆。"
INDUSTRIES = "紧紧围绕动力电池与新能源汽车、生命科学与生物技术、航空航天、大数据等四大主导产业,持续开展精准招商。"


def short(question: str, *sentences: str):
    return headline(read(question, SYN), sentences)


def test_a_figure_question_gets_the_clause_with_the_figure_asked_for():
    assert short("2024年郑州市地区生产总值预期增长多少?", GDP) == ("地区生产总值增长7%左右", 0)
    assert short("郑州今年新能源车产量目标是多少?", CARS) == ("力争新能源汽车产量超过70万辆", 0)


def test_a_figure_without_its_subject_keeps_the_clause_before_it():
    sentence = "全市新能源汽车产量,到2025年达到140万辆,带动相关产业发展。"
    assert short("新能源汽车产量到2025年达到多少?", sentence) == ("全市新能源汽车产量,到2025年达到140万辆", 0)


def test_an_items_question_gets_the_list():
    line, n = short("新乡高新区的四大主导产业是哪些?", "始终把招商引资作为关键抓手。", INDUSTRIES)
    assert n == 1 and line.startswith("紧紧围绕动力电池") and line.endswith("四大主导产业")


def test_no_line_when_nothing_shorter_says_it():
    assert short("郑州为什么要发展新能源汽车?", CARS) is None  # asks neither a figure nor items
    assert short("地区生产总值增长多少?", "地区生产总值增长7%左右。") is None  # already one clause
    assert short("地区生产总值增长多少?", "全面推进改革开放。") is None  # no figure at all


def test_every_short_answer_on_the_gold_set_is_verbatim_and_cited(fake_pipeline):
    """Over the gold set's questions: the line is a piece of the answer, and each
    of its figures, titles and organisations is in the paragraph it cites."""
    pipe = fake_pipeline()
    items = [json.loads(line) for line in (ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    shown = 0
    for item in items:
        answer = pipe.ask(item["question"])
        if not answer.short:
            continue
        shown += 1
        piece = strip_markers(answer.short)
        assert piece in strip_markers(answer.text), item["id"]
        (n,) = markers(answer.short)
        paragraph = answer.citations[n - 1].text
        assert supports(piece, paragraph), item["id"]
        for number in re.findall(r"\d+(?:\.\d+)?", " ".join(claims(piece))):
            assert number in paragraph, (item["id"], number)
    assert shown >= len(items) // 3  # most figure and items questions get one
