"""Printed lines back into the paragraphs they were typeset from.

A page, read from a PDF's text layer or by OCR, comes as visual lines with
their boxes. A paragraph wider than the page was wrapped into several of them,
and every page carries furniture: a running header, a page number (— 3 —,
第3页, 3/12). This module drops the furniture and joins the wrapped lines, so
that a PDF gives the same paragraphs, and so the same heading paths, as the
text it was printed from:

- furniture: among the first and last two lines of each page, a page number,
  a line set smaller than the body (running headers are), or a line that
  recurs (digits aside) on at least half of the pages;
- a line continues the paragraph above when that one reaches the right margin
  (within two characters: a line can't start with a comma, so one may end a
  character short; where few lines reach one right edge, as on a short page,
  the margin mirrors the left one) and this one isn't indented; except that a document
  number, and after a sentence end a numbered heading (not 一是…, which runs on
  inside paragraphs) or a 附件 line, start anew.

Deliberately not done here: reading PDFs or images (rag/pdf.py, rag/ocr.py)
and headings (rag/headings.py, applied to what this returns).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from statistics import median

from .headings import ENUMERATION, heading_level
from .metadata import DOC_NO

_PAGE_NUMBER = re.compile(
    r"^[-—–－_\s]*(?:第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|\d+\s*(?:/\s*\d+)?|[-—–－]\s*\d+\s*[-—–－])[-—–－_\s]*$"
)
_SENTENCE_END = re.compile(r"[。；;！!？?：:]$")
_ATTACHMENT = re.compile(r"^附\s*件")
_EDGE = 2  # lines at the top and at the bottom of a page where furniture sits


@dataclass(frozen=True)
class Line:
    text: str
    x0: float  # left edge, in the page's units (points for PDF, pixels for OCR)
    x1: float  # right edge
    top: float
    bottom: float
    page: int  # 1-based
    width: float = 0.0  # the page's width, 0 when unknown


def _furniture(pages: list[list[Line]], char: float) -> set[tuple[int, int]]:
    """(page index, line index) of each header, footer and page number."""
    edges = {(p, i) for p, lines in enumerate(pages) for i in range(len(lines)) if i < _EDGE or i >= len(lines) - _EDGE}
    masked = {(p, i): re.sub(r"\d+", "#", pages[p][i].text.replace(" ", "")) for p, i in edges}
    recurring = Counter(t for _, t in {(p, t) for (p, _), t in masked.items()})  # pages each recurs on
    many = max(2, (len(pages) + 1) // 2)
    return {
        (p, i)
        for (p, i), t in masked.items()
        if _PAGE_NUMBER.match(pages[p][i].text)
        or pages[p][i].bottom - pages[p][i].top < 0.85 * char
        or recurring[t] >= many
    }


def _join(a: str, b: str) -> str:
    # Wrapped Chinese joins directly; a space was lost only between Latin words.
    return f"{a} {b}" if re.search(r"[A-Za-z]$", a) and re.match(r"[A-Za-z]", b) else a + b


def _starts_anew(text: str, above: str) -> bool:
    """Whether an unindented line after a full one opens a paragraph of its own:
    a document number (郑政〔2024〕5号, under a title) always, and after a
    sentence end a numbered heading (not 一是…, which runs on inside paragraphs)
    or a 附件 line."""
    after_sentence = bool(_SENTENCE_END.search(above))
    heading = 0 < heading_level(text) < ENUMERATION
    return bool(DOC_NO.match(text)) or (after_sentence and (heading or bool(_ATTACHMENT.match(text))))


def paragraphs(pages: list[list[Line]]) -> list[tuple[str, int]]:
    """The paragraphs of a document's pages (lines in reading order), each with
    the page it starts on."""
    every = [ln for lines in pages for ln in lines if ln.text.strip()]
    if not every:
        return []
    # A character is about as wide as a line is tall.
    char = median(ln.bottom - ln.top for ln in every)
    drop = _furniture(pages, char)
    body = [ln for p, lines in enumerate(pages) for i, ln in enumerate(lines) if (p, i) not in drop and ln.text.strip()]
    if not body:
        return []
    # Margins from the body itself: the left edge most lines start at, the
    # right edge full lines reach.
    left = Counter(round(ln.x0 / char * 2) for ln in body).most_common(1)[0][0] * char / 2
    right = sorted(ln.x1 for ln in body)[int(len(body) * 0.9)]
    if sum(ln.x1 >= right - 2 * char for ln in body) < 3:
        right = max(right, max(ln.width for ln in body) - left)
    out: list[tuple[str, int]] = []
    prev: Line | None = None
    for ln in body:
        text = ln.text.strip()
        continues = (
            prev is not None
            and prev.x1 >= right - 2 * char
            and ln.x0 <= left + char / 2
            and not _starts_anew(text, out[-1][0])
        )
        if continues:
            out[-1] = (_join(out[-1][0], text), out[-1][1])
        else:
            out.append((text, ln.page))
        prev = ln
    return out
