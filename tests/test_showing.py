"""How an answer's sentences are shown: a long list at the items asked, streamed text regrouped."""

from rag.lexical import question_weights
from rag.question import topic_weights
from rag.showing import focus, sentences
from rag.synonyms import Synonyms


def test_sentences_regrouping():
    assert list(sentences(iter(["甲。", "[", "1", "][2]乙", "；[3]丙"]))) == ["甲。[1][2]", "乙；[3]", "丙"]


TARGETS = (
    "2024年的经济社会发展主要预期目标是:地区生产总值增长7%左右,固定资产投资增长8%以上,"
    "规模以上工业增加值增长9%以上,建筑业总产值增长10%以上,社会消费品零售总额增长8%以上,"
    "全社会研发投入强度达到2.8%,城镇新增就业12.65万人,城镇调查失业率5.5%左右,节能减排降碳完成国家和省定目标。"
)


def topic_of(question: str):
    return topic_weights(question_weights(question))


def test_a_long_list_is_shown_at_the_items_asked_about():
    shown = focus(TARGETS, topic_of("今年郑州能新增多少就业岗位?失业率控制在多少?"))
    assert shown == "2024年的经济社会发展主要预期目标是:……城镇新增就业12.65万人,城镇调查失业率5.5%左右……"
    assert all(part in TARGETS for part in shown.split("……"))
    assert focus(TARGETS, topic_of("地区生产总值增长多少")).endswith("地区生产总值增长7%左右……")


def test_each_thing_a_question_names_gets_its_item():
    # 地区生产总值 (GDP) covers less of the question than 规模以上工业增加值, but
    # only its item names it
    topic = topic_weights(question_weights("2024年GDP和规上工业增加值的预期增速分别是多少?", Synonyms(TARGETS)))
    assert (
        focus(TARGETS, topic)
        == "2024年的经济社会发展主要预期目标是:地区生产总值增长7%左右……规模以上工业增加值增长9%以上……"
    )
    # a word the opening words name (目标) brings no item of its own
    assert "节能减排" not in focus(TARGETS, topic_of("今年全社会研发投入强度目标是多少?"))


def test_other_sentences_are_shown_whole():
    no_intro = "力争新能源汽车产量超过70万辆," * 6 + "2025年达到140万辆。"
    assert focus(no_intro, topic_of("新能源车产量目标多少")) == no_intro
    assert focus("目标是:地区生产总值增长7%左右。", topic_of("地区生产总值")) == "目标是:地区生产总值增长7%左右。"
    # every item about the question: nothing to cut
    assert focus(TARGETS, topic_of("增长目标")) == TARGETS
