"""Text printed the way an office prints it, for measuring what comes back from PDF and OCR.

`print_pdf` lays plain text out as an A4 document (one line of the text a
paragraph, body paragraphs indented two characters, a running header and a
"— N —" page number in the margins, as official documents have) and prints it
with headless Chromium; `page_images` renders a PDF's pages to PNG with
pypdfium2, which is what a scanner gives. Tests make their PDF fixtures with it
too, so no binary fixture is committed.

Deliberately not done here: reading PDFs back (rag/pdf.py) or scoring them.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
HEADER = "政务公开文件"

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title><style>
@page {{ size: A4; margin: 25mm 22mm;
  @top-center {{ content: "{header}"; font-size: 9pt; }}
  @bottom-center {{ content: "— " counter(page) " —"; font-size: 10pt; }} }}
body {{ font-family: "WenQuanYi Zen Hei", "Noto Sans CJK SC", sans-serif; font-size: 15px; line-height: 1.6; }}
p {{ margin: 0 0 4px 0; text-indent: 2em; text-align: justify; }}
p.h {{ text-indent: 0; }}
</style></head><body>
{body}
</body></html>"""


def chromium() -> str | None:
    """The Chromium binary, or None where it isn't installed."""
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


def page_html(text: str, title: str = "") -> str:
    """Text as a printable page: each non-empty line a paragraph; short lines
    (headings, addressee, signature) without the body indent."""
    paras = []
    for line in text.split("\n"):
        line = line.strip(" \t\u3000")
        if line:
            cls = ' class="h"' if len(line) <= 30 else ""
            paras.append(f"<p{cls}>{html.escape(line)}</p>")
    return _PAGE.format(title=html.escape(title), header=HEADER, body="\n".join(paras))


def print_pdf(text: str, pdf: Path, title: str = "") -> Path:
    """Print text to a PDF with headless Chromium (raises when Chromium is missing)."""
    binary = chromium()
    if binary is None:
        raise FileNotFoundError("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(page_html(text, title), encoding="utf-8")
        cmd = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={tmp}/profile",
            f"--print-to-pdf={Path(pdf).resolve()}",
            page.as_uri(),
        ]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return Path(pdf)


def page_images(pdf: Path, folder: Path, dpi: int = 150) -> list[Path]:
    """Each page of a PDF as a PNG image in folder, as a scanner at dpi would give it."""
    import pypdfium2

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        for i, page in enumerate(doc, start=1):
            path = folder / f"{Path(pdf).stem}-{i}.png"
            page.render(scale=dpi / 72).to_pil().save(path)
            out.append(path)
    finally:
        doc.close()
    return out
