"""Reading the question: validation, as citizens type it, follow-ups, parts, content."""

import pytest

from rag.question import (
    has_content,
    is_chinese,
    names_own_subject,
    normalise,
    question_parts,
    question_pieces,
    read,
    resolve_follow_up,
    validate_question,
)

Q = "2024年郑州市地区生产总值预期增长多少?"


def test_follow_up_resolution():
    assert resolve_follow_up("那2023年呢?", ["2024年郑州市地区生产总值预期增长多少?"]) == (
        "2023年郑州市地区生产总值预期增长多少?"
    )
    resolved = resolve_follow_up("这些企业在哪个区?", ["郑州有哪些碳达峰试点园区?"])
    assert resolved.startswith("郑州有哪些碳达峰试点园区?") and resolved.endswith("这些企业在哪个区?")
    assert resolve_follow_up("新乡高新区植树造林有什么安排?", [Q]) == "新乡高新区植树造林有什么安排?"
    assert resolve_follow_up("那2023年呢?", []) == "那2023年呢?"


def test_validate_question():
    for bad in ["", "   ", "\u3000\n", None, 42]:
        with pytest.raises(ValueError):
            validate_question(bad, 2000)
    with pytest.raises(ValueError, match="过长"):
        validate_question("问" * 2001, 2000)
    assert validate_question("郑州\x00GDP\x07?", 2000) == "郑州GDP?"
    assert validate_question("\ud800郑州", 2000) == "郑州"


def test_question_parts():
    assert question_parts("郑州技术合同成交额去年多少?今年目标多少?") == [
        "郑州技术合同成交额去年多少?",
        "郑州技术合同成交额,今年目标多少?",
    ]
    assert question_parts("战略性新兴产业到2030年、2035年要占工业多少?") == [
        "战略性新兴产业到2030年要占工业多少?",
        "战略性新兴产业到2035年要占工业多少?",
    ]
    # a later part counting from the first part's year (比上年) keeps it
    assert question_parts("2023年郑州GDP总量是多少?比上年增长了多少?")[1] == "2023年郑州GDP总量是,比上年增长了多少?"
    assert question_parts(Q) == [Q]
    # ... and the pieces as asked, each on its own
    assert question_pieces("新郑机场旅客吞吐量目标多少?中欧班列开多少班") == [
        "新郑机场旅客吞吐量目标多少?",
        "中欧班列开多少班?",
    ]
    # a clause that asks is a piece too, with the clauses setting it up
    assert question_pieces("今年高耗能产业比重要控制在多少以下,煤炭产能稳定在多少") == [
        "今年高耗能产业比重要控制在多少以下?",
        "煤炭产能稳定在多少?",
    ]
    # figures asked side by side are two pieces; other asks joined so share what follows
    assert question_pieces("工业领域有多少个续建项目、多少个新开工项目?") == [
        "工业领域有多少个续建项目?",
        "多少个新开工项目?",
    ]
    assert question_pieces("市运会在哪里、什么时候举办?") == ["市运会在哪里、什么时候举办?"]
    assert question_pieces("规上工业增加值、固定资产投资分别增长多少?") == ["规上工业增加值、固定资产投资分别增长多少?"]
    # a later piece that neither asks nor names a subject asks to hear the first: no piece
    assert question_pieces("郑州面临哪些困难和挑战?能不能说说") == ["郑州面临哪些困难和挑战?"]
    assert question_pieces("新能源车能造多少辆?汽车一共呢?") == ["新能源车能造多少辆?", "汽车一共呢?"]
    one_ask = "新乡高新区工业用地弹性出让,在多少年期基础上增加了几年期?"  # one clause asks: one piece
    assert question_pieces(one_ask) == question_parts(one_ask) == [one_ask]
    # a piece is read as asked only when it names a subject of its own
    assert names_own_subject("中欧班列开多少班?") and names_own_subject("机场旅客吞吐量目标多少?")
    assert not names_own_subject("今年目标几家?") and not names_own_subject("有名单吗?")


def test_what_a_question_asks_for():
    from rag.lexical import question_weights

    assert read("领导小组的组长是谁?", None).person and read("办公室主任叫什么名字?", None).person
    assert not read("谁来牵头?", None).person  # a department answers that
    assert not read("哪几家企业入选了试点?", None).numeric and read("入选了几家企业?", None).numeric
    # words holding a question word are never in an answer, so they don't dilute coverage
    words = [alts[0] for alts, _ in question_weights("都市圈规划里说的是哪几个地方?")]
    assert "规划" in words and not any(w in words for w in ("哪几", "哪几个", "几个"))
    assert question_parts("方案是哪天发布的?文号是多少?")[1] == "方案是发布的,文号是多少?"


def test_questions_are_read_as_citizens_type_them():
    assert normalise("鄭州今年計劃新增城鎮就業多少人?") == "郑州今年计划新增城镇就业多少人?"
    assert normalise("２０２４年郑州ＧＤＰ增长多少？") == "2024年郑州GDP增长多少?"
    assert normalise("<b>郑州</b>地铁[1]今年&lt;i&gt;通车&lt;/i&gt;多少公里") == "郑州 地铁 今年 通车 多少公里?"
    assert normalise("郑州地区生产总值增长多少?") == "郑州地区生产总值增长多少?"  # simplified text unchanged


@pytest.mark.parametrize(
    "typed",
    [
        "郑州GDP增长多少",
        "郑州GDP增长多少??",
        "郑州GDP增长多少~",
        "郑州GDP增长多少！！",
        "郑州GDP增长多少…",
        "请问一下，郑州GDP增长多少？",
        "请问：郑州GDP增长多少",
    ],
)
def test_how_a_question_ends_or_opens_politely_changes_nothing(typed):
    assert normalise(typed) == "郑州GDP增长多少?"


def test_the_marks_between_parts_and_a_subjects_comma_stay():
    assert normalise("去年多少？？今年目标多少!!") == "去年多少?今年目标多少?"
    assert normalise("技术合同成交额,今年目标多少") == "技术合同成交额,今年目标多少?"
    assert normalise("增长7.5%还是7%") == "增长7.5%还是7%?"


def test_a_question_must_say_what_it_asks(tmp_path):
    from rag.synonyms import Synonyms

    synonyms = Synonyms("地区生产总值 居民消费价格")
    for empty in ["郑", "郑州", "2024", "今年", "？？？", "郑州2024年"]:
        assert not has_content(empty, synonyms), empty
    for asks in ["郑州GDP", "天气怎么样", "地铁票价", "What is the GDP target?"]:
        assert has_content(asks, synonyms), asks
    assert is_chinese("2024年GDP") and not is_chinese("What is Zhengzhou's GDP growth target for 2024?")


def test_this_year_and_last_are_years_an_answer_must_be_about():
    from rag.synonyms import Synonyms

    synonyms = Synonyms("地区生产总值", year=2024)
    assert read("今年郑州计划新建多少个5G基站?", synonyms).terms == {"2024", "郑州"}
    assert "2023" in read("去年开了多少班中欧班列", synonyms).terms
    assert read("今年新建多少个5G基站?", Synonyms("地区生产总值")).terms == set()  # no year known
    # a year naming a document (in the 2024 plan) is not the year asked about; a year planned for is
    assert read("郑州2024年计划里说,发展面临哪些困难?", synonyms).years == frozenset()
    assert read("2024年计划新增多少家企业?", synonyms).years == {"2024"}


def test_question_parts_are_bounded():
    assert len(question_parts("郑州?" * 1000)) == 4
    assert len(question_parts("郑州?" * 1000, most=2)) == 2
    years = "、".join(f"{y}年" for y in range(2020, 2031))
    assert len(question_parts(f"地区生产总值{years}各是多少")) == 4
