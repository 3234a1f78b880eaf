from pathlib import Path

import pytest

from rag.documents import DocumentError, load_document, load_folder, parse
from rag.headings import heading_level
from rag.sources import read_text

from .conftest import SEEDS


def doc(name_prefix: str):
    path = next(SEEDS.glob(f"{name_prefix}_*.txt"))
    return load_document(path)


def find(d, start: str):
    return next(p for p in d.paragraphs if p.text.startswith(start))


def test_bullet_header_metadata():
    d = doc("000")
    assert d.index_no == "005252100/2023-00189"
    assert d.agency == "郑州市发展和改革委员会"
    assert d.category == "政协提案,提案"
    assert d.date == "2023-07-20"
    assert d.title == "关于加快低碳产业集聚区建设 助力郑州高质量发展的对策及建议的提案的答复"
    assert d.addressee == "九三学社郑州市委员会"


def test_enumeration_heading_path():
    p = find(doc("000"), "二是健全方案体系")
    assert p.path == ("一、稳妥推进,探索开展碳达峰碳中和工作", "二是健全方案体系")


def test_letter_without_title_takes_proposal_name():
    d = doc("001")
    assert d.addressee == "董建山委员"
    assert d.title == "关于加快产业结构调整推进高质量发展的提案的答复"
    p = find(d, "每年组织各开发区")
    assert p.path == ("一、郑州市工业转型升级情况", "(一)定期排查,依法依规淘汰落后产能")


def test_notice_with_published_line_and_numbered_items():
    d = doc("003")
    assert d.date == "2020-04-02"
    assert d.doc_no == "新开〔2020〕26号"
    assert d.agency == "新乡高新区管委会"
    assert d.title.startswith("新乡高新区管委会关于印发")
    p = find(d, "2.持续推进植树造林")
    assert p.path == ("三、重点工作", "(一)加强生态保护修复", "2.持续推进植树造林和绿化建设")
    # indentation of full-width spaces is stripped, the words are verbatim
    assert p.text in read_text(d_path("003"))


def d_path(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*.txt"))


def test_plan_title_signature_and_paragraph_numbers():
    d = doc("004")
    assert d.title == "郑州市2024年国民经济和社会发展计划"
    assert d.agency == "郑州市人民政府"
    assert d.date == "2024-03-14"
    gdp = next(p for p in d.paragraphs if "地区生产总值增长7%左右" in p.text)
    assert gdp.number == 10
    assert gdp.path == ("二、2024年经济社会发展的总体要求和主要预期目标",)
    assert [p.number for p in d.paragraphs] == list(range(1, len(d.paragraphs) + 1))


def test_footers_are_not_content():
    for prefix in ("000", "002", "003"):
        texts = [p.text for p in doc(prefix).paragraphs]
        assert not any(t.startswith("主办单位") or t == "关闭" for t in texts)


def test_every_paragraph_is_verbatim_from_its_file():
    for path in SEEDS.glob("*.txt"):
        raw = read_text(path)
        for p in load_document(path).paragraphs:
            assert p.text in raw


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("第一章 总则", 1),
        ("第二节　项目管理", 2),
        ("第十二条 市财政局负责资金监管。", 3),
        ("一、基本思路", 4),
        ("（一）加强生态保护修复", 5),
        ("(二)实施环境污染治理", 5),
        ("1.优化国土空间开发保护格局。", 6),
        ("2、推进重点项目", 6),
        ("（1）细化任务", 7),
        ("三是开展试点示范。", 8),
        ("第20230294号提案", 0),
        ("第一条款的规定", 0),
        ("2023年是全面贯彻党的二十大精神的开局之年", 0),
        ("1.5万吨的产能", 0),
    ],
)
def test_heading_levels(line, level):
    assert heading_level(line) == level


def test_unknown_layout_loads_as_plain_paragraphs():
    d = parse("第一行文字。\n\n第二行文字。\n", "plain.txt")
    assert [p.text for p in d.paragraphs] == ["第一行文字。", "第二行文字。"]
    assert all(p.path == () for p in d.paragraphs)
    assert d.title == "plain"


def test_encodings_and_bad_files(tmp_path):
    (tmp_path / "gbk.txt").write_bytes("一、总则\n郑州市今年新增绿地100公顷。".encode("gbk"))
    (tmp_path / "bom.txt").write_bytes("\ufeff一、总则\n带BOM的文件。".encode())
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02garbage")
    (tmp_path / "empty.txt").write_text("  \n\u3000\n", encoding="utf-8")
    docs, problems = load_folder(tmp_path)
    assert sorted(d.id for d in docs) == ["bom.txt", "gbk.txt"]
    gbk = next(d for d in docs if d.id == "gbk.txt")
    assert gbk.paragraphs[1].text == "郑州市今年新增绿地100公顷。"
    assert any("binary.txt" in m for m in problems)
    assert any("empty.txt" in m for m in problems)
    with pytest.raises(DocumentError, match=r"binary\.txt"):
        load_document(tmp_path / "binary.txt")


def test_markdown_html_docx_keep_headings_and_numbering(tmp_path):
    import docx

    (tmp_path / "a.md").write_text(
        "# 郑州市公园建设方案\n\n## 一、总体目标\n\n新增公园**20个**[。](http://x)\n\n- 绿地率达到40%\n",
        encoding="utf-8",
    )
    (tmp_path / "b.html").write_text(
        "<html><head><title>郑州市公园建设方案</title><script>alert(1)</script></head><body>"
        "<h1>郑州市公园建设方案</h1><h2>一、总体目标</h2><p>新增公园20个。</p><ul><li>绿地率达到40%</li></ul>"
        "</body></html>",
        encoding="utf-8",
    )
    d = docx.Document()
    d.add_paragraph("郑州市公园建设方案", style="Title")
    d.add_paragraph("一、总体目标", style="Heading 1")
    d.add_paragraph("新增公园20个。")
    d.add_paragraph("绿地率达到40%")
    d.save(tmp_path / "c.docx")

    docs, problems = load_folder(tmp_path)
    assert len(docs) == 1 and len(problems) == 2  # the three carry the same text: one is kept
    for name in ("a.md", "b.html", "c.docx"):
        doc = load_document(tmp_path / name)
        texts = [p.text for p in doc.paragraphs]
        assert texts[-2].startswith("新增公园20个"), (name, texts)
        assert texts[-1] == "绿地率达到40%"
        assert doc.paragraphs[-1].path == ("一、总体目标",)
        assert doc.paragraphs[-1].number == len(doc.paragraphs)
        assert not any("alert" in t for t in texts)
    assert load_document(tmp_path / "b.html").title == "郑州市公园建设方案"
    assert load_document(tmp_path / "c.docx").title == "郑州市公园建设方案"


def test_bad_documents_are_skipped_with_their_names(tmp_path):
    seed = next(SEEDS.glob("000_*.txt"))
    (tmp_path / "orig.txt").write_bytes(seed.read_bytes())
    (tmp_path / "copy.txt").write_bytes(seed.read_bytes())
    (tmp_path / "huge.txt").write_text("一、大文件\n" + "郑州市新增公园。" * 400_000, encoding="utf-8")
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "noheadings.txt").write_text("第一段没有标题。\n第二段也没有。", encoding="utf-8")
    docs, problems = load_folder(tmp_path, max_bytes=2_000_000)
    assert sorted(d.id for d in docs) == ["copy.txt", "noheadings.txt"]
    text = "\n".join(problems)
    for name in ("orig.txt", "huge.txt", "broken.docx"):
        assert name in text
    assert "MB" in text and "same text" in text


def test_a_plans_box_is_a_titled_section_of_items():
    text = (
        "郑州市2024年国民经济和社会发展计划\n三、主要任务\n一是抓实重大项目谋划建设。加强项目谋划储备。\n"
        "专栏1:2024年固定资产投资 |\n▲工业和产业园投资领域。加快推进比亚迪项目建设。\n▲基础设施投资领域。加快建设。\n"
        "二是持续激发消费潜能。扩大消费。\n"
    )
    doc = parse(text, "plan.txt")
    box, first, second, after = doc.paragraphs[2:6]
    assert box.is_heading and box.path[-1] == "专栏1:2024年固定资产投资"
    assert first.path == second.path == ("三、主要任务", "一是抓实重大项目谋划建设", "专栏1:2024年固定资产投资")
    assert after.path == ("三、主要任务", "二是持续激发消费潜能")  # the box ends with its items
    seed = load_document(SEEDS / "004_7c7b9bfef2df6a5e.txt")
    boxes = [p for p in seed.paragraphs if p.text.startswith("专栏")]
    assert len(boxes) == 4 and all(p.is_heading and p.path[-1].startswith("专栏") for p in boxes)
