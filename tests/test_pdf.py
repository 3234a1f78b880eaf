"""PDFs printed by headless Chromium at test time (eval/printed.py): the same
heading paths and metadata as the text they were printed from, pages on the
paragraphs, and a clear message for each PDF that can't be read."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from eval.printed import page_images, print_pdf
from rag.documents import load_document, load_folder, parse
from rag.layout import Line
from rag.ocr import ScriptedRecognizer

from .layouts import (
    NOTICE,
    NOTICE_ATTACHED,
    NOTICE_ATTACHED_PATHS,
    NOTICE_META,
    REGULATION,
    REGULATION_PATHS,
    REGULATION_TITLE,
    check_paths,
    require_printing,
)


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> Path:
    require_printing()
    folder = tmp_path_factory.mktemp("pdf")
    print_pdf(REGULATION, folder / "reg.pdf")
    print_pdf(NOTICE, folder / "notice.pdf")
    return folder


def test_regulation_pdf_gives_the_text_paths_and_pages(printed):
    doc = load_document(printed / "reg.pdf")
    assert doc.title == REGULATION_TITLE
    check_paths(doc, REGULATION_PATHS)
    assert not any("— " in p.text for p in doc.paragraphs)  # page numbers are furniture
    first, last = doc.paragraphs[0], doc.paragraphs[-1]
    assert (
        first.page == 1
        and last.page == 2
        and last.text == "第五条 本办法由市大数据管理局负责解释，自2024年5月1日起施行。"
    )
    long = next(p for p in doc.paragraphs if p.text.startswith("第四条"))
    assert long.text.endswith("并及时更新。") and len(long.text) > 1000  # joined across lines


def test_notice_pdf_metadata(printed):
    doc = load_document(printed / "notice.pdf")
    assert {k: getattr(doc, k) for k in NOTICE_META} == NOTICE_META


def test_a_notice_pdf_with_its_attachment_reads_as_its_text(printed, tmp_path):
    # Longer, so full lines set the right margin: the title, its 发文字号 and the
    # 附件：1.… list each stayed joined to the line above until they started anew.
    print_pdf(NOTICE_ATTACHED, tmp_path / "attached.pdf")
    doc = load_document(tmp_path / "attached.pdf")
    assert [p.text for p in doc.paragraphs] == [p.text for p in parse(NOTICE_ATTACHED, "n.txt").paragraphs]
    assert {k: getattr(doc, k) for k in NOTICE_META} == NOTICE_META
    check_paths(doc, NOTICE_ATTACHED_PATHS)


def test_bad_pdfs_get_a_message_naming_them_and_nothing_else_is_lost(printed, tmp_path):
    import pypdf

    (tmp_path / "good.pdf").write_bytes((printed / "notice.pdf").read_bytes())
    w = pypdf.PdfWriter(clone_from=pypdf.PdfReader(printed / "reg.pdf"))
    w.encrypt("secret")
    w.write(tmp_path / "locked.pdf")
    (tmp_path / "cut.pdf").write_bytes((printed / "reg.pdf").read_bytes()[:2000])
    images = page_images(printed / "reg.pdf", tmp_path / "img", dpi=50)
    Image.open(images[0]).save(tmp_path / "scan.pdf")  # a page with no text layer
    mixed = pypdf.PdfWriter(clone_from=pypdf.PdfReader(printed / "reg.pdf"))
    mixed.append(pypdf.PdfReader(tmp_path / "scan.pdf"))  # a scanned page after the text
    mixed.write(tmp_path / "mixed.pdf")
    docs, problems = load_folder(tmp_path)
    assert [d.id for d in docs] == ["good.pdf", "mixed.pdf"]
    assert [p.text for p in docs[1].paragraphs] == [p.text for p in load_document(printed / "reg.pdf").paragraphs]
    text = "\n".join(problems)
    assert "locked.pdf: encrypted PDF" in text
    assert "cut.pdf: not a readable PDF" in text
    assert "scan.pdf: PDF without a text layer" in text and "OCR is off" in text
    pages = len(pypdf.PdfReader(tmp_path / "mixed.pdf").pages)
    assert f"mixed.pdf: pages {pages} have no text layer" in text and "indexed without them" in text


def test_a_scanned_page_is_read_by_ocr_with_its_page(printed, tmp_path):
    images = page_images(printed / "reg.pdf", tmp_path / "img", dpi=50)
    Image.open(images[0]).save(tmp_path / "scan.pdf", save_all=True, append_images=[Image.open(images[1])])
    ocr = ScriptedRecognizer(
        [
            [Line("郑州市公共数据管理办法", 60, 200, 40, 52, 0), Line("第一章 总则", 60, 130, 60, 72, 0)],
            [Line("第一条 为了规范公共数据管理。", 60, 500, 40, 52, 0)],
        ]
    )
    doc = load_document(tmp_path / "scan.pdf", ocr)
    assert ocr.calls == 2 and doc.title == REGULATION_TITLE
    assert [(p.text, p.path, p.page) for p in doc.paragraphs] == [
        ("第一章 总则", ("第一章 总则",), 1),
        ("第一条 为了规范公共数据管理。", ("第一章 总则", "第一条"), 2),
    ]
    (tmp_path / "page.png").write_bytes(images[0].read_bytes())
    assert (
        load_document(tmp_path / "page.png", ScriptedRecognizer([ocr.pages[0] + ocr.pages[1]])).paragraphs[0].page
        is None
    )
    _, problems = load_folder(tmp_path)
    assert any(m.startswith("page.png: an image needs OCR") for m in problems)


def test_a_pdf_answer_cites_its_page_everywhere(printed, tmp_path, capsys):
    from rag import Pipeline
    from rag.__main__ import _print_answer
    from rag.llms import ScriptedLLM, first_choices
    from rag.serve_response import citations_json, sources_text

    from .conftest import fake_settings

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "reg.pdf").write_bytes((printed / "reg.pdf").read_bytes())
    settings = fake_settings(docs, tmp_path / "index", refuse_below=0.0)
    Pipeline(settings).index  # noqa: B018 - builds and saves it; the next pipeline loads it from disk
    pipe = Pipeline(settings, llm=ScriptedLLM(first_choices(1)))
    saved = pipe.index.documents["reg.pdf"].paragraphs
    assert saved[-1].page == 2 and saved[0].page == 1  # pages survive the saved index
    answer = pipe.ask("本办法由哪个部门负责解释?")
    cited = answer.citations[0]
    page = pipe.index.paragraph("reg.pdf", cited.paragraph).page
    assert cited.page == page is not None
    assert f"{cited.section} · 第{page}页 · 第{cited.paragraph}段" in sources_text(answer)
    assert citations_json(answer)[0]["page"] == page
    _print_answer(answer)
    assert f"第{page}页 · 第{cited.paragraph}段" in capsys.readouterr().out


def test_the_source_card_shows_the_page():
    from chat_view import render_source
    from rag.citations import Citation

    card = render_source(1, 1, Citation("reg.pdf", "办法", "第三章 附则 > 第五条", 13, "第五条 …", page=2))
    assert "第三章 附则 &gt; 第五条 · 第2页 · 第13段" in card
    assert "第2页" not in render_source(1, 1, Citation("a.txt", "计划", "一、总体要求", 3, "…"))
