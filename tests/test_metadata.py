import pytest

from rag.documents import load_document, parse
from rag.metadata import iso_date, signature

from .layouts import NOTICE, NOTICE_META, REPLY, REPLY_META, write_docx, write_html


@pytest.mark.parametrize(("text", "expected"), [(NOTICE, NOTICE_META), (REPLY, REPLY_META)])
@pytest.mark.parametrize("fmt", ["txt", "docx", "html"])
def test_layout_metadata_in_every_format(tmp_path, fmt, text, expected):
    path = tmp_path / f"doc.{fmt}"
    {"txt": lambda t, p: p.write_text(t, encoding="utf-8"), "docx": write_docx, "html": write_html}[fmt](text, path)
    doc = load_document(path)
    assert {k: getattr(doc, k) for k in expected} == expected


def test_labelled_lines_and_other_brackets():
    doc = parse(
        "郑州市人民政府办公厅关于做好防汛工作的通知\n发文机关：郑州市人民政府办公厅\n发文字号：郑政办〔2023〕12号\n"
        "成文日期：2023-05-08\n发布日期：2023-05-10\n各区县（市）人民政府：\n一、压实责任\n落实防汛责任制。\n",
        "n.txt",
    )
    assert (doc.agency, doc.doc_no, doc.written, doc.date) == (
        "郑州市人民政府办公厅",
        "郑政办〔2023〕12号",
        "2023-05-08",
        "2023-05-10",
    )
    assert parse("郑政﹝2020﹞8号\n一、总则\n正文。", "x.txt").doc_no == "郑政﹝2020﹞8号"


def test_signature_is_read_only_at_the_end():
    body = ["市发展改革委", "2020年1月2日", *["正文。"] * 8]
    assert signature(body) == ("", "")
    assert signature([*body, "郑州市发展和改革委员会", "2023年6月20日"]) == ("郑州市发展和改革委员会", "2023-06-20")
    assert iso_date("2024年3月14日") == "2024-03-14" and iso_date("2024年的计划") == ""


def test_seed_001_has_no_signature_so_no_agency_is_made_up(seeds_copy):
    doc = load_document(next(seeds_copy.glob("001_*.txt")))
    assert (doc.agency, doc.date, doc.written) == ("", "", "")
