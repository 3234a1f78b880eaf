from rag.retrieval import Hit
from rag.sections import section_parts

PLAN = "003_747546d740942ae9.txt"  # 新乡高新区…黄河…实施方案
REPLY = "001_eb7bb886356183f4.txt"  # the reply to 董建山's proposal
GDP = "004_7c7b9bfef2df6a5e.txt"


def hits_on(index, doc: str, text: str) -> list[Hit]:
    """The chunks of a document holding the text, as retrieval would return them."""
    return [Hit(c, 1.0, 1.0, 0.0) for c in index.chunks if c.doc == doc and text in c.text]


def texts(parts) -> list[str]:
    return [text for _, _, text in parts]


def test_a_named_section_is_answered_by_its_sub_sections_headings_in_order(fake_pipeline):
    index = fake_pipeline().index
    parts = section_parts("这个实施方案的保障措施有哪几条?", hits_on(index, PLAN, "强化资金保障"), index)
    assert texts(parts) == [
        "(一)建立工作推进机制",
        "(二)强化顶层设计",
        "(三)强化重大项目支撑引领作用",
        "(四)强化资金保障",
        "(五)强化实施跟踪问效",
    ]
    # each cited where its text is
    assert all(text in index.paragraph(doc, n).text for doc, n, text in parts)


def test_a_box_is_answered_by_its_items(fake_pipeline):
    index = fake_pipeline().index
    parts = section_parts("专栏3轨道交通包括哪几方面工作?", hits_on(index, GDP, "四期规划编制"), index)
    assert texts(parts) == ["▲加快轨道交通四期规划编制。", "▲加快城市轨道交通建设。", "▲加快低运量轨道交通建设。"]


def test_a_section_of_one_paragraph_is_answered_by_its_sentences(fake_pipeline):
    index = fake_pipeline().index
    parts = section_parts("答复里说还存在哪些问题?", hits_on(index, REPLY, "高耗能产业占比仍然较高"), index)
    assert texts(parts)[0] == "高耗能产业占比仍然较高;"
    assert len(parts) == 3


def test_a_section_the_question_only_partly_names_is_not_answered_by_its_parts(fake_pipeline):
    index = fake_pipeline().index
    # 措施 alone is not 保障措施
    assert section_parts("有哪些措施?", hits_on(index, PLAN, "强化资金保障"), index) == []


def test_parts_of_another_kind_than_the_items_asked_are_no_answer(fake_pipeline):
    index = fake_pipeline().index
    # the box's ▲ items are pieces of work, not the lines asked for
    assert section_parts("轨道交通在建的有哪几条线?", hits_on(index, GDP, "四期规划编制"), index) == []
