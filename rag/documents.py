"""Read source files into `Document`s: metadata, title and numbered paragraphs.

A paragraph is a non-empty line of the file, numbered from 1 in file order and
kept verbatim (only the indentation around it is stripped). Lines that are page
furniture rather than content (the bullet metadata header, the title,
政府信息公开, footers such as 主办单位…地址…, 关闭) become metadata or are dropped,
and are not numbered. A 发布日期 line is both metadata and a paragraph.

Every paragraph carries its heading path (rag/headings.py: 第一章 / 第一节 /
第一条 above 一、 / （一） / 1. / （1） / 一是 and 专栏 boxes) and, from a PDF, the
page it starts on; the document carries its metadata (rag/metadata.py).

Formats: .txt (as above), .md (# headings), .html (h1-h6 and block elements,
via BeautifulSoup), .docx (Heading N styles, via python-docx), .pdf (text
layer, or OCR for scanned pages) and .png/.jpg (OCR), the last two through
rag/pdf.py. Markup headings take the level their markup gives unless official
numbering gives one, and paragraphs are numbered the same way in every format.
Which files are read, and how their bytes are decoded (UTF-8, UTF-16, GBK),
is rag/sources.py.

Deliberately not done here: splitting into chunks (rag/chunks.py) and anything
model-related (OCR is rag/ocr.py, passed in). A file of unknown layout still loads, as plain paragraphs with an
empty heading path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .headings import SENTENCE_END, heading_level, heading_paths
from .metadata import attachment_list, read_metadata
from .ocr import Recognizer
from .pdf import image_lines, pdf_lines
from .sources import DocumentError, Source, read_text, scan

_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "td", "th", "pre", "blockquote", "dt", "dd"]

_TITLE_WORDS = ("关于", "计划", "方案", "通知", "答复", "意见", "规划", "办法", "报告", "决定", "条例", "规定")
_FOOTER = re.compile(r"^(主办单位|地址|邮编|网站标识码|ICP备|版权所有|关闭$)")
_PUBLISHED = re.compile(r"^发布日期[:：]\s*(\S+)")
_PROPOSAL = re.compile(r"“(关于[^”]{4,80}?提案)”")
_IMAGES = (".png", ".jpg", ".jpeg")
# A line of a file: its text, the heading level its markup gave it (0: none,
# then the official numbering decides) and its page (None where a format has none).
Line = tuple[str, int, int | None]


@dataclass(frozen=True)
class Paragraph:
    number: int  # 1-based, in file order
    text: str  # verbatim, indentation stripped
    path: tuple[str, ...]  # heading labels from the top level down
    is_heading: bool = False  # a heading line with no body text of its own
    page: int | None = None  # 1-based page it starts on (PDF); None for formats without pages

    @property
    def section(self) -> str:
        return " > ".join(self.path)


@dataclass(frozen=True)
class Document:
    id: str  # file name, e.g. "004_7c7b9bfef2df6a5e.txt"
    title: str
    paragraphs: tuple[Paragraph, ...]
    index_no: str = ""  # 索引号, e.g. 005252100/2023-00189
    agency: str = ""  # issuing agency
    category: str = ""  # e.g. 政协提案,提案
    date: str = ""  # ISO date of issue when known
    addressee: str = ""  # e.g. 九三学社郑州市委员会
    doc_no: str = ""  # 发文字号, e.g. 新开〔2020〕26号
    written: str = ""  # ISO 成文日期 (the signature's date) when known
    attachments: tuple[str, ...] = ()  # 附件 a notice names
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def paragraph(self, number: int) -> Paragraph:
        return self.paragraphs[number - 1]


def _is_title(line: str) -> bool:
    return (
        len(line) <= 80
        and not SENTENCE_END.search(line[-1:])
        and any(w in line for w in _TITLE_WORDS)
        and heading_level(line) == 0
    )


def parse(text: str, doc_id: str) -> Document:
    """Parse one document's plain text; never fails on layout, only on an empty body."""
    return parse_lines([(ln, 0, None) for ln in text.split("\n")], doc_id)


def parse_lines(marked: list[Line], doc_id: str, title: str = "") -> Document:
    """Parse lines, each with the heading level its markup gave it and its page."""
    levels: dict[str, int] = {}
    lines = []
    for raw, level, page in marked:
        ln = raw.strip(" \t\u3000\u00a0\r\ufeff")
        if ln:
            lines.append((ln, page))
            if level:
                levels[ln] = level
    meta: dict[str, str] = {}
    bullets: list[str] = []
    body: list[str] = []
    pages: list[int | None] = []
    seen_heading = False
    for ln, page in lines:
        if ln == title:
            continue  # markup that repeats its title as the first heading
        if ln.startswith("•"):
            bullets.append(ln.lstrip("• ").strip())
            continue
        if _FOOTER.match(ln) or ln == "政府信息公开":
            continue
        if m := _PUBLISHED.match(ln):
            meta["published"] = m.group(1)  # also kept as a paragraph: people ask when
        seen_heading = seen_heading or heading_level(ln) > 0 or ln in levels
        if not title and not seen_heading and _is_title(ln):
            title = ln
            continue
        body.append(ln)
        pages.append(page)
    if not body:
        raise DocumentError(f"{doc_id}: no text content, skipped")

    if not title:
        # A reply letter without a title line names the proposal it answers.
        m = _PROPOSAL.search("\n".join(body[:5]))
        title = f"{m.group(1)}的答复" if m else Path(doc_id).stem
    md = read_metadata(bullets, body, title, meta.get("published", ""))
    paragraphs = tuple(
        Paragraph(number, ln, path, only_heading, page)
        for number, (ln, page, (path, only_heading)) in enumerate(
            zip(body, pages, heading_paths(body, levels, attachment_list(body))), start=1
        )
    )
    return Document(id=doc_id, title=title, paragraphs=paragraphs, meta=meta, **asdict(md))


def _markdown_lines(text: str) -> tuple[list[Line], str]:
    """Lines with their # levels; a leading level-1 heading is the title."""
    out = []
    for line in text.split("\n"):
        level = 0
        if m := re.match(r"^(#{1,6})\s+(.*)$", line.strip()):
            level, line = len(m.group(1)), m.group(2).rstrip("# ")
        line = re.sub(r"^\s*(?:[-*+>]\s+)+", "", line)  # list and quote markers
        line = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", line)  # links and images keep their text
        out.append((re.sub(r"(\*\*|__|`)", "", line), level, None))
    first = next(((t, lv) for t, lv, _ in out if t.strip()), ("", 0))
    return out, first[0].strip() if first[1] == 1 else ""


def _html_lines(text: str) -> tuple[list[Line], str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    for junk in soup(["script", "style", "nav", "footer", "noscript", "template"]):
        junk.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    out = []
    for el in soup.find_all(_BLOCKS):
        if el.find(_BLOCKS):
            continue  # a container: its inner blocks are read on their own
        level = int(el.name[1]) if el.name[0] == "h" and el.name[1:].isdigit() else 0
        out.append((el.get_text("", strip=True), level, None))
    return out, title


def _docx_lines(path: Path) -> tuple[list[Line], str]:
    import docx

    try:
        d = docx.Document(str(path))
    except Exception as e:  # python-docx raises several kinds for a broken file
        raise DocumentError(f"{path.name}: not a readable .docx file ({e}), skipped") from e
    title, out = "", []
    for p in d.paragraphs:
        style = (p.style.name if p.style is not None else "") or ""
        if style == "Title" and not title:
            title = p.text.strip()
            continue
        m = re.match(r"Heading (\d)", style)
        out.append((p.text, int(m.group(1)) if m else 0, None))
    for table in d.tables:
        for row in table.rows:
            out.append((" | ".join(c.text.strip() for c in row.cells), 0, None))
    return out, title


def load_document(path: Path, ocr: Recognizer | None = None) -> Document:
    """A document from a .txt, .md, .html, .docx, .pdf or .png/.jpg file; scanned
    pages and images are read with `ocr` (None: OCR is off, they are refused)."""
    suffix = path.suffix.lower()
    if suffix == ".docx":
        lines, title = _docx_lines(path)
        return parse_lines(lines, path.name, title)
    if suffix == ".pdf":
        lines, unread = pdf_lines(path, ocr)
        doc = parse_lines(lines, path.name)
        return replace(doc, meta=doc.meta | {"unread_pages": ", ".join(map(str, unread))}) if unread else doc
    if suffix in _IMAGES:
        return parse_lines(image_lines(path, ocr), path.name)
    text = read_text(path)
    if suffix in (".md", ".markdown"):
        lines, title = _markdown_lines(text)
        return parse_lines(lines, path.name, title)
    if suffix in (".html", ".htm"):
        lines, title = _html_lines(text)
        return parse_lines(lines, path.name, title)
    return parse(text, path.name)


def is_paged(name: str) -> bool:
    """A PDF or an image: its file (fonts, pixels) is limited by `max_file_bytes`,
    the text read from it by `max_doc_bytes` like any other document's."""
    return Path(name).suffix.lower() in (".pdf", *_IMAGES)


def load_folder(
    folder: Path, max_bytes: int = 2_000_000, max_file_bytes: int = 50_000_000, ocr: Recognizer | None = None
) -> tuple[list[Document], list[str]]:
    """Every readable document of a folder, and a message naming each file skipped:
    unsafe or unreadable (rag/sources.py), empty, too large to embed in reasonable
    time, or a copy of another. A PDF or image is measured by the text read from
    it (its file, fonts and pixels, may be up to max_file_bytes)."""
    found = scan(folder)
    docs, problems = load_sources(found.sources, max_bytes, max_file_bytes, ocr)
    return docs, list(found.skipped) + problems


def load_sources(
    sources: Iterable[Source],
    max_bytes: int = 2_000_000,
    max_file_bytes: int = 50_000_000,
    ocr: Recognizer | None = None,
    known: Iterable[Document] = (),
) -> tuple[list[Document], list[str]]:
    """The documents of these sources, and a message for each skipped (see
    `load_folder`); a copy of a `known` document (already indexed) is skipped too."""
    docs, problems = [], []
    seen: dict[tuple, str] = {tuple(p.text for p in d.paragraphs): d.id for d in known}
    for source in sources:
        paged = is_paged(source.name)
        size, limit = source.size, max_file_bytes if paged else max_bytes
        if size > limit:
            problems.append(f"{source.name}: {size / 1e6:.1f} MB is over the {limit / 1e6:.1f} MB limit, skipped")
            continue
        try:
            doc = load_document(source.path, ocr)
        except DocumentError as e:
            problems.append(str(e))
            continue
        except OSError as e:  # changed since the scan
            problems.append(f"{source.name}: can't be read ({e.strerror or e}), skipped")
            continue
        if unread := doc.meta.get("unread_pages"):
            # Indexed, but the person adding it should know what it lacks.
            problems.append(
                f"{source.name}: pages {unread} have no text layer (scans?) and OCR is off "
                "(Settings.ocr): indexed without them"
            )
        text_bytes = sum(len(p.text.encode()) for p in doc.paragraphs)
        if paged and text_bytes > max_bytes:
            mb, limit_mb = text_bytes / 1e6, max_bytes / 1e6
            problems.append(f"{source.name}: {mb:.1f} MB of text is over the {limit_mb:.1f} MB limit, skipped")
            continue
        key = tuple(p.text for p in doc.paragraphs)
        if key in seen:
            problems.append(f"{source.name}: same text as {seen[key]}, skipped")
            continue
        seen[key] = source.name
        docs.append(doc)
    return docs, problems
