"""OCR with the real rapidocr models (inside its wheel, nothing downloaded): a
page image of a signed reply, printed by Chromium, reads back as its text."""

from __future__ import annotations

import re

import pytest
from rapidfuzz.distance import Levenshtein

from eval.printed import page_images, print_pdf
from rag.documents import load_document
from rag.ocr import RapidRecognizer, visual_lines
from rag.pdf import OCR_DPI

from .layouts import REPLY, REPLY_META, require_printing


def test_boxes_side_by_side_are_one_line():
    boxes = [("第二段", 10, 60, 40, 52), ("文字", 70, 100, 41, 53), ("第一段", 10, 60, 10, 22)]
    assert [(ln.text, ln.x0, ln.x1) for ln in visual_lines(boxes, 1)] == [("第一段", 10, 60), ("第二段文字", 10, 100)]


@pytest.mark.models
def test_a_page_image_reads_back_with_its_signature(tmp_path):
    require_printing()
    pdf = print_pdf(REPLY, tmp_path / "reply.pdf")
    (image,) = page_images(pdf, tmp_path, OCR_DPI)
    doc = load_document(image, RapidRecognizer())
    read = re.sub(r"\s", "", "".join(p.text for p in doc.paragraphs))
    truth = re.sub(r"\s", "", REPLY)
    assert 1 - Levenshtein.distance(truth, read) / len(truth) >= 0.95
    assert (doc.agency, doc.date) == (REPLY_META["agency"], REPLY_META["date"])
    assert all(p.page is None for p in doc.paragraphs)
