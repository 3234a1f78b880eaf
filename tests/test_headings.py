import pytest

from rag.documents import load_document, parse

from .layouts import (
    NOTICE,
    NOTICE_ATTACHED,
    NOTICE_ATTACHED_PATHS,
    REGULATION,
    REGULATION_PATHS,
    REGULATION_TITLE,
    REPLY,
    REPLY_PATHS,
    check_paths,
    write_docx,
    write_html,
)


def written(text: str, path):
    """The text as a file of the format its suffix names."""
    writers = {".txt": lambda t, p: p.write_text(t, encoding="utf-8"), ".docx": write_docx, ".html": write_html}
    writers[path.suffix](text, path)
    return path


@pytest.mark.parametrize("fmt", ["txt", "docx", "html"])
def test_regulation_chapters_sections_articles(tmp_path, fmt):
    doc = load_document(written(REGULATION, tmp_path / f"reg.{fmt}"))
    assert doc.title == REGULATION_TITLE
    check_paths(doc, REGULATION_PATHS)


def test_reply_headings_and_notice_attachments_are_not_headings():
    check_paths(parse(REPLY, "reply.txt"), REPLY_PATHS)
    notice = parse(NOTICE, "notice.txt")
    signed = next(p for p in notice.paragraphs if p.text == "郑州市人民政府")
    listed = next(p for p in notice.paragraphs if p.text.startswith("2.郑州市"))
    assert signed.path == listed.path == () and not listed.is_heading


@pytest.mark.parametrize("fmt", ["txt", "docx", "html"])
def test_an_attachment_printed_after_a_notice_is_a_section_titled_by_it(tmp_path, fmt):
    doc = load_document(written(NOTICE_ATTACHED, tmp_path / f"notice.{fmt}"))
    check_paths(doc, NOTICE_ATTACHED_PATHS)
    listed = next(p for p in doc.paragraphs if p.text.startswith("附件：1."))
    assert listed.path == () and not listed.is_heading  # the list the notice names is no attachment


def test_an_items_label_names_what_its_sentences_are_about():
    from rag.headings import item_labels

    paragraph = "▲基础设施投资领域。加快推进60个项目;新开工54个项目。 ▲公共设施领域。新开工26个项目。总计如此。"
    labels = item_labels(paragraph)
    assert labels == {
        "加快推进60个项目;": "▲基础设施投资领域。",
        "新开工54个项目。": "▲基础设施投资领域。",
        "新开工26个项目。": "▲公共设施领域。",
        "总计如此。": "▲公共设施领域。",
    }
    assert item_labels("一是经济微观主体活力不足、信心不够强劲的问题依然存在。二是风险。") == {}


def test_a_label_is_no_evidence_unless_it_lists_things():
    from rag.headings import is_label

    assert is_label("二是持续推进碧水工程。") and is_label("▲创新工作机制。")
    assert is_label("二是推进泰祥电厂、东风电厂关停工作。")  # two things: the sentences after it say them
    assert not is_label("二是推进泰祥电厂、东风电厂、郑东热电和荣奇(俱进)电厂关停工作。")
    assert not is_label("宇通客车的“节能与新能源客车关键技术研发及产业化”项目获国家科技进步二等奖。")


def test_a_headings_numbering_is_read_as_its_level_reads_it():
    from rag.headings import numbering

    assert numbering("四、保障措施") == "四、"
    assert numbering("(二)强化顶层设计") == "(二)"
    assert numbering("二是强化整治资金保障") == "二是"
    assert numbering("专栏3:2024年轨道交通 |") == "专栏3:"
    assert numbering("2024年郑州计划") == ""  # a year is no numbering
    assert numbering("存在的问题") == ""
