"""The answer-generalisation issue's examples, asked as a citizen would, with
the bundled models: each answered, or refused with the related passages shown."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.models


def test_a_list_question_gets_the_sentence_naming_the_items(real_pipeline):
    answer = real_pipeline.ask("新乡高新区的四大主导产业是哪些?")
    lead = answer.text.split("[1]")[0]
    for item in ("动力电池与新能源汽车", "生命科学与生物技术", "航空航天", "大数据"):
        assert item in lead, answer.text


def test_both_parts_of_a_question_about_two_years_are_answered(real_pipeline):
    answer = real_pipeline.ask("郑州技术合同成交额2023年是多少?2024年计划多少?")
    assert not answer.refused and "650亿元" in answer.text and "800亿元" in answer.text


@pytest.mark.parametrize(
    "typed",
    [
        "鄭州今年計劃新增城鎮就業多少人?",  # traditional characters
        "郑州今年计划新增城镇就业多少人?[1]",  # a stray citation marker
        "<b>郑州今年</b>计划新增城镇就业多少人?",  # markup
        "郑州２０２４年计划新增城镇就业多少人?",  # full-width digits
    ],
)
def test_questions_typed_as_citizens_type_them_are_answered(real_pipeline, typed):
    answer = real_pipeline.ask(typed)
    assert not answer.refused and "12.65万人" in answer.text, answer.text


def test_an_english_question_is_answered_in_the_documents_words(real_pipeline):
    answer = real_pipeline.ask("How many new urban jobs does Zhengzhou plan to create in 2024?")
    assert not answer.refused and "12.65万人" in answer.text, answer.text
    assert "就业" in answer.translated


def test_english_asking_nothing_is_told_plainly_to_ask_in_chinese(real_pipeline):
    answer = real_pipeline.ask("hello")
    assert answer.refused and "中文" in answer.text and not answer.citations


def test_a_follow_up_chain_never_cites_a_table_fragment(real_pipeline):
    history = ["2024年郑州GDP增长目标是多少?", "那2023年呢?"]
    answer = real_pipeline.ask("固定资产投资呢", history=history)
    assert not answer.refused and "专栏" not in answer.text and " |" not in answer.text
    assert all(not c.quote.startswith("专栏") for c in answer.citations)


def test_close_candidates_are_added_without_the_models_filler(real_pipeline):
    answer = real_pipeline.ask("2024年郑州市地区生产总值预期增长多少?")
    assert "7%左右" in answer.text and "开局之年" not in answer.text
    assert answer.timings["total"] < 30  # no model call; a bound that only a hang breaks


def test_a_near_miss_is_refused_with_the_related_passages(real_pipeline):
    # The plan gives the budget's revenue (收入), never its spending (支出).
    answer = real_pipeline.ask("2024年郑州一般公共预算支出增长多少?")
    assert answer.refused and not answer.citations
    assert answer.related and any("一般公共预算收入" in c.text for c in answer.related)


def test_this_years_plan_is_not_answered_by_what_an_undated_reply_says_was_built(real_pipeline):
    # The reply says 建成5G基站超过4.8万个; the 2024 plan sets no 5G target.
    answer = real_pipeline.ask("今年郑州计划新建多少个5G基站?")
    assert answer.refused and not answer.citations, answer.text
    assert "4.8万个" in real_pipeline.ask("郑州已经建成了多少个5G基站?").text


def test_a_day_the_documents_dont_give_is_refused_with_the_passage_naming_the_event(real_pipeline):
    # The plan says 办好第十二届市运会, never when it opens.
    answer = real_pipeline.ask("第十二届市运会是几月几号开幕?")
    assert answer.refused and any("第十二届市运会" in c.text for c in answer.related)


def test_which_companies_is_answered_with_the_companies_not_a_count(real_pipeline):
    answer = real_pipeline.ask("郑州有哪几家企业入选了河南省碳达峰试点企业?")
    assert not answer.refused and "郑州远东耐火材料有限公司" in answer.text, answer.text


def test_a_person_named_for_another_post_is_no_answer(real_pipeline):
    # One sentence names the two 组长; the 办公室主任 is given only as a post.
    answer = real_pipeline.ask("郑州双碳领导小组办公室主任叫什么名字?")
    assert answer.refused and any("由常务副市长兼任办公室主任" in c.text for c in answer.related)
    assert "安伟" in real_pipeline.ask("郑州双碳领导小组的组长是谁?").text


def test_when_an_event_is_held_is_refused_when_no_sentence_says_when(real_pipeline):
    answer = real_pipeline.ask("第十二届市运会啥时候开幕?")
    assert answer.refused and any("第十二届市运会" in c.text for c in answer.related)
    assert "2024年1月" in real_pipeline.ask("《郑州都市圈发展规划》是啥时候印发的?").text


def test_a_documents_number_and_date_are_answered_from_its_own_lines(real_pipeline):
    answer = real_pipeline.ask("新乡高新区推进黄河流域生态保护那个方案,文号是啥?哪天发布的?")
    assert not answer.refused and "新开〔2020〕26号" in answer.text and "2020-04-02" in answer.text, answer.text
    both = real_pipeline.ask("新乡高新区黄河流域那个实施方案的文号是多少,啥时候印发的")  # one part asking both
    assert "新开〔2020〕26号" in both.text and "2020年3月25日" in both.text, both.text


def test_a_replys_proposal_number_and_a_notices_signature_date(real_pipeline):
    assert "第20230294号" in real_pipeline.ask("九三学社那个低碳产业集聚区的提案,提案号是多少?").text
    assert "第20240289号" in real_pipeline.ask("民建提的中原城市群一体化提案是几号?").text  # a number, not a day
    signed = real_pipeline.ask("新乡高新区印发黄河实施方案的通知,落款日期是哪天?")
    assert signed.text.startswith("2020年3月25日"), signed.text  # the signature's, not the site's 2020-04-02


@pytest.mark.parametrize(
    ("question", "items"),
    [
        # the items follow the sentence that introduces them
        ("去年郑州发展面临哪些困难和挑战?", ("经济微观主体活力不足", "产业核心竞争力偏弱", "风险隐患有待化解")),
        # BM25 finds 抢占预制菜新赛道 three times ahead of the next chunk; e5 ranks it 68th
        ("抢占预制菜新赛道,要依托哪些骨干企业?", ("千味央厨", "三全食品", "锅圈食汇")),
    ],
)
def test_a_list_is_answered_with_all_its_items(real_pipeline, question, items):
    answer = real_pipeline.ask(question)
    for item in items:
        assert item in answer.text, answer.text


def test_a_sentence_with_no_comma_or_figure_can_answer(real_pipeline):
    # read as a title line, it was no evidence, and the question was refused
    answer = real_pipeline.ask("宇通客车那个节能与新能源客车项目拿了个啥奖?")
    assert not answer.refused and "国家科技进步二等奖" in answer.text, answer.text


def test_each_figure_a_long_list_gives_for_the_question(real_pipeline):
    answer = real_pipeline.ask("2024年GDP和规上工业增加值的预期增速分别是多少?")
    assert "7%左右" in answer.text and "9%以上" in answer.text, answer.text
