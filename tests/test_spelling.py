"""A wrong character typed by pinyin, put right against the documents' words."""

import pytest

from rag.spelling import Spelling

CORPUS = (
    "加快低碳产业集聚区建设。单位工业增加值能耗降低4%以上。规划建设加氢站55座。"
    "登封市刚玉企业由原来的42家整合为13家。郑州都市圈发展规划。水管网改造。"
    "蜜雪冰城全球总部。城镇新增就业12.65万人。一是加强领导。七是强化保障。"
)


@pytest.fixture(scope="module")
def spelling() -> Spelling:
    return Spelling(CORPUS)


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("低炭产业集聚区提案的编号是多少?", "低碳产业集聚区提案的编号是多少?"),
        ("单位工业增加值能号每年要降多少?", "单位工业增加值能耗每年要降多少?"),  # 能 / 号, two words together
        ("登封钢玉企业整合后剩几家?", "登封刚玉企业整合后剩几家?"),
        ("郑州都市圈发展规化是什么时候印发的?", "郑州都市圈发展规划是什么时候印发的?"),
        ("今年计划建多少座加轻站?", "今年计划建多少座加氢站?"),  # cut 座加 / 轻站: the slip spans both
    ],
)
def test_a_word_the_documents_never_write_is_read_as_theirs_that_sounds_alike(spelling, typed, meant):
    assert spelling.correct(typed)[0] == meant


@pytest.mark.parametrize(
    "question",
    [
        "今年城镇新增就业多少人?",  # 年城 sounds like 冰城 but is no word of the question
        "这个方案督查归谁管?",  # 谁管 is no slip for 水管
        "那些企业都是哪里的?",  # nor 都是 for 都市
        "规划期是哪些年?",  # 七是 is a piece of a list (一是, 二是), not a term
        "郑州地铁票价会涨吗?",  # words of the language stay, though the documents lack them
    ],
)
def test_words_of_the_question_that_are_no_slips_stay(spelling, question):
    assert spelling.correct(question) == (question, ())


def test_what_was_put_right_is_said(spelling):
    assert spelling.correct("低炭产业的能号是多少?")[1] == (("低炭", "低碳"), ("能号", "能耗"))
    assert spelling.correct("建多少座加轻站?")[1] == (("加轻", "加氢"),)


def test_the_question_answered_is_the_one_put_right_unless_spelling_is_off(fake_pipeline):
    typed = "郑州单位工业增加值能号每年要降多少?"
    answer = fake_pipeline().ask(typed)
    assert "能耗" in answer.resolved_question and answer.read_as == "按「能耗」理解「能号」"
    answer = fake_pipeline(spelling=False).ask(typed)
    assert "能号" in answer.resolved_question and not answer.respelt and not answer.read_as
