"""PDF and image files as lines with their pages, ready for rag/documents.py.

A PDF's text layer is read with pdfplumber (chosen by measured fidelity,
`python -m eval pdf`): each page's visual lines with their boxes. A page with
no text layer (a scan) is rendered with pypdfium2 and read by OCR
(rag/ocr.py) when OCR is on. rag/layout.py then drops headers, footers and
page numbers and joins wrapped lines into paragraphs, each keeping the page it
starts on. A .png/.jpg is one page read by OCR; its paragraphs have no page.

Each failure is a `DocumentError` naming the file: an encrypted PDF, a broken
one, and one without text while OCR is off (or with OCR finding none).
Deliberately not done here: headings and metadata (rag/documents.py).
"""

from __future__ import annotations

from pathlib import Path

from .layout import Line, paragraphs
from .ocr import Recognizer
from .sources import DocumentError, open_source, shown

# A page with fewer characters in its text layer than this is a scan (a
# scanner's software may stamp a page number or a date on it).
_MIN_CHARS = 20
# Scans are rendered at this resolution for OCR: at 150 dpi seed pages read at
# 1 − CER 0.977 (`python -m eval ocr`); 100 dpi saved only a fifth of the time
# on one page (18.8 s against 22.9 s), most of it being line recognition.
OCR_DPI = 150


def _text_pages(path: Path) -> list[list[Line] | None]:
    """Each page's text lines, or None for a page without a text layer."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    name = shown(path.name)
    try:
        with open_source(path) as f, pdfplumber.open(f) as pdf:
            out: list[list[Line] | None] = []
            for number, page in enumerate(pdf.pages, start=1):
                if len(page.chars) < _MIN_CHARS:
                    out.append(None)
                    continue
                lines = page.extract_text_lines(return_chars=False)
                out.append(
                    [Line(ln["text"], ln["x0"], ln["x1"], ln["top"], ln["bottom"], number, page.width) for ln in lines]
                )
            return out
    except DocumentError:
        raise
    except Exception as e:  # pdfminer raises many kinds for a broken file; all mean the same here
        cause = e.args[0] if e.args and isinstance(e.args[0], Exception) else e  # pdfplumber wraps pdfminer's
        if isinstance(cause, PDFPasswordIncorrect):
            raise DocumentError(f"{name}: encrypted PDF (needs a password), skipped") from e
        raise DocumentError(f"{name}: not a readable PDF ({e!r:.120}), skipped") from e


def _render(path: Path, number: int):
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(path))
    try:
        return doc[number - 1].render(scale=OCR_DPI / 72).to_pil()
    finally:
        doc.close()


def pdf_lines(path: Path, ocr: Recognizer | None) -> tuple[list[tuple[str, int, int | None]], list[int]]:
    """The paragraphs of a PDF as (text, 0, page) lines, and the pages left
    unread. Pages without text are read by `ocr`; when it is None they are left
    out (the text pages still answer), and a file with no text page is refused."""
    pages = _text_pages(path)
    name = shown(path.name)
    unread = [n for n, p in enumerate(pages, start=1) if p is None] if ocr is None else []
    if ocr is None:
        if len(unread) == len(pages):
            raise DocumentError(f"{name}: PDF without a text layer (a scan?) and OCR is off (Settings.ocr), skipped")
        read = [p for p in pages if p is not None]
    else:
        read = [p if p is not None else ocr.read(_render(path, n), n) for n, p in enumerate(pages, start=1)]
    found = paragraphs(read)
    if not found:
        raise DocumentError(f"{name}: no text found in the PDF, skipped")
    return [(text, 0, page) for text, page in found], unread


def image_lines(path: Path, ocr: Recognizer | None) -> list[tuple[str, int, int | None]]:
    """The paragraphs of a page image as (text, 0, None) lines."""
    name = shown(path.name)
    if ocr is None:
        raise DocumentError(f"{name}: an image needs OCR, which is off (Settings.ocr), skipped")
    from PIL import Image, UnidentifiedImageError

    try:
        with open_source(path) as f, Image.open(f) as im:
            im.load()
            image = im.copy()
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise DocumentError(f"{name}: not a readable image ({e}), skipped") from e
    found = paragraphs([ocr.read(image, 1)])
    if not found:
        raise DocumentError(f"{name}: no text found in the image, skipped")
    return [(text, 0, None) for text, _ in found]
