"""Read source files into `Document`s: metadata, title and numbered paragraphs.

A paragraph is a non-empty line of the file, numbered from 1 in file order and
kept verbatim (only the indentation around it is stripped). Lines that are page
furniture rather than content (the bullet metadata header, the title,
政府信息公开, footers such as 主办单位…地址…, 关闭) become metadata or are dropped,
and are not numbered. A 发布日期 line is both metadata and a paragraph.

Every paragraph carries its heading path. Official documents number their
sections in a fixed hierarchy, which this module recognises:

    一、  >  （一）/(一)  >  1. / 1、  >  （1）/(1)  >  一是… (opening a paragraph)

A heading line may also carry body text ("1.优化国土空间开发保护格局。一是建立…"):
its label is the text up to the first sentence end.

Formats: .txt (as above), .md (# headings), .html (h1-h6 and block elements,
via BeautifulSoup) and .docx (Heading N styles, via python-docx); markup
headings take the level their markup gives, and paragraphs are numbered the
same way in every format. Which files are read, and how their bytes are
decoded (UTF-8, UTF-16, GBK), is rag/sources.py.

Deliberately not done here: splitting into chunks (rag/chunks.py) and anything
model-related. A file of unknown layout still loads, as plain paragraphs with an
empty heading path.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .sources import DocumentError, Source, read_text, scan
from .sources import source_files as source_files  # re-exported: eval/systems.py lists files with it

_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "td", "th", "pre", "blockquote", "dt", "dd"]

_CN_NUM = "一二三四五六七八九十"
# (level, pattern) in hierarchy order; a heading of level k closes every open
# heading of level >= k.
_HEADING_PATTERNS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(rf"^[{_CN_NUM}]+、")),
    (2, re.compile(rf"^[（(][{_CN_NUM}]+[）)]")),
    (3, re.compile(r"^\d{1,2}(?:[.．](?!\d)|、)")),
    (4, re.compile(r"^[（(]\d{1,2}[）)]")),
    (5, re.compile(rf"^[{_CN_NUM}]+是")),
)
# A plan's box (专栏1:2024年固定资产投资 | then ▲ items): a titled section of its
# own, below the heading it sits in, open while its ▲ items go on.
_BOX = re.compile(r"^专栏\s*\d+\s*[:：].*?(?=\s*\|?\s*$)")
_BOX_LEVEL = 6
_BOX_ITEM = "▲"
_SENTENCE_END = re.compile(r"[。；;！!？?：:]")
_MAX_LABEL = 40

_TITLE_WORDS = ("关于", "计划", "方案", "通知", "答复", "意见", "规划", "办法", "报告", "决定")
_INDEX_NO = re.compile(r"^\d{6,}/\d{4}-\d+$")
_DATE = re.compile(r"^(\d{4})[-年/.](\d{1,2})[-月/.](\d{1,2})日?$")
_FOOTER = re.compile(r"^(主办单位|地址|邮编|网站标识码|ICP备|版权所有|关闭$)")
_PUBLISHED = re.compile(r"^发布日期[:：]\s*(\S+)")
_PROPOSAL = re.compile(r"“(关于[^”]{4,80}?提案)”")


@dataclass(frozen=True)
class Paragraph:
    number: int  # 1-based, in file order
    text: str  # verbatim, indentation stripped
    path: tuple[str, ...]  # heading labels from the top level down
    is_heading: bool = False  # a heading line with no body text of its own

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
    doc_no: str = ""  # 文号, e.g. 新开〔2020〕26号
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def paragraph(self, number: int) -> Paragraph:
        return self.paragraphs[number - 1]


def heading_level(line: str) -> int:
    """The heading level a line opens (1-5), or 0 for a plain paragraph."""
    for level, pattern in _HEADING_PATTERNS:
        if pattern.match(line):
            return level
    return 0


def _label(line: str) -> tuple[str, bool]:
    """The heading label of a heading line, and whether the line is only a heading."""
    m = _SENTENCE_END.search(line)
    if m is None:
        return line[:_MAX_LABEL], len(line) <= _MAX_LABEL * 2
    return line[: m.start()][:_MAX_LABEL], m.end() >= len(line.rstrip())


def _iso_date(text: str) -> str:
    m = _DATE.match(text.strip())
    if not m:
        return ""
    y, mo, d = m.groups()
    return f"{y}-{int(mo):02d}-{int(d):02d}"


def _is_title(line: str) -> bool:
    return (
        len(line) <= 80
        and not _SENTENCE_END.search(line[-1:])
        and any(w in line for w in _TITLE_WORDS)
        and heading_level(line) == 0
    )


def parse(text: str, doc_id: str) -> Document:
    """Parse one document's plain text; never fails on layout, only on an empty body."""
    return parse_lines([(ln, 0) for ln in text.split("\n")], doc_id)


def parse_lines(marked: list[tuple[str, int]], doc_id: str, title: str = "") -> Document:
    """Parse lines, each with the heading level its markup gave it (0: none,
    then the official numbering decides)."""
    levels: dict[str, int] = {}
    lines = []
    for raw, level in marked:
        ln = raw.strip(" \t\u3000\u00a0\r\ufeff")
        if ln:
            lines.append(ln)
            if level:
                levels[ln] = level
    meta: dict[str, str] = {}
    bullets: list[str] = []
    body: list[str] = []
    seen_heading = False
    for ln in lines:
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
    if not body:
        raise DocumentError(f"{doc_id}: no text content, skipped")

    # The bullet header of the Zhengzhou portal: index number, agency, category, dates.
    index_no = agency = category = date = ""
    for b in bullets:
        if _INDEX_NO.match(b):
            index_no = b
        elif _iso_date(b):
            date = date or _iso_date(b)
        elif "," in b or "，" in b:
            category = b
        elif not agency:
            agency = b
    date = date or meta.get("published", "")

    addressee = ""
    doc_no = ""
    for ln in body[:8]:
        if not doc_no and re.fullmatch(r".{1,10}〔\d{4}〕\d+号", ln):
            doc_no = ln
        if not addressee and len(ln) <= 60 and ln[-1] in ":：":
            addressee = ln[:-1]
            if addressee.startswith("尊敬的"):
                addressee = addressee[3:]
    if not title:
        # A reply letter without a title line names the proposal it answers.
        m = _PROPOSAL.search("\n".join(body[:5]))
        title = f"{m.group(1)}的答复" if m else Path(doc_id).stem
    if not agency and "关于" in title:
        # "新乡高新区管委会关于印发…的通知": the issuer opens the title.
        issuer = title.split("关于", 1)[0]
        if 2 < len(issuer) <= 20:
            agency = issuer
    if not agency:
        # A notice signed by its issuer: a short line just before a date line.
        for prev, ln in itertools.pairwise(body):
            if _iso_date(ln) and 2 < len(prev) <= 20 and not _SENTENCE_END.search(prev):
                agency, date = prev, date or _iso_date(ln)
                break
    if not date:
        for ln in body:
            if d := _iso_date(ln):
                date = d
                break

    paragraphs: list[Paragraph] = []
    stack: list[tuple[int, str]] = []
    for number, ln in enumerate(body, start=1):
        level = levels.get(ln) or heading_level(ln)
        only_heading = False
        if box := _BOX.match(ln):
            level, label, only_heading = _BOX_LEVEL, box.group(0), True
        elif stack and stack[-1][0] == _BOX_LEVEL and not level and not ln.startswith(_BOX_ITEM):
            stack.pop()  # the box's items have ended
        if ln in levels:
            label, only_heading = ln[:_MAX_LABEL], True
        elif level and not box:
            label, only_heading = _label(ln)
        if level:
            stack = [(lv, lb) for lv, lb in stack if lv < level]
            stack.append((level, label))
        # A plain paragraph keeps the open path: text after 一是… still belongs
        # to it until the next numbered heading closes the enumeration.
        paragraphs.append(Paragraph(number, ln, tuple(lb for _, lb in stack), only_heading))

    return Document(
        id=doc_id,
        title=title,
        paragraphs=tuple(paragraphs),
        index_no=index_no,
        agency=agency,
        category=category,
        date=date,
        addressee=addressee,
        doc_no=doc_no,
        meta=meta,
    )


def _markdown_lines(text: str) -> tuple[list[tuple[str, int]], str]:
    """Lines with their # levels; a leading level-1 heading is the title."""
    out = []
    for line in text.split("\n"):
        level = 0
        if m := re.match(r"^(#{1,6})\s+(.*)$", line.strip()):
            level, line = len(m.group(1)), m.group(2).rstrip("# ")
        line = re.sub(r"^\s*(?:[-*+>]\s+)+", "", line)  # list and quote markers
        line = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", line)  # links and images keep their text
        out.append((re.sub(r"(\*\*|__|`)", "", line), level))
    first = next(((t, lv) for t, lv in out if t.strip()), ("", 0))
    return out, first[0].strip() if first[1] == 1 else ""


def _html_lines(text: str) -> tuple[list[tuple[str, int]], str]:
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
        out.append((el.get_text("", strip=True), level))
    return out, title


def _docx_lines(path: Path) -> tuple[list[tuple[str, int]], str]:
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
        out.append((p.text, int(m.group(1)) if m else 0))
    for table in d.tables:
        for row in table.rows:
            out.append((" | ".join(c.text.strip() for c in row.cells), 0))
    return out, title


def load_document(path: Path) -> Document:
    """A document from a .txt, .md, .html or .docx file."""
    suffix = path.suffix.lower()
    if suffix == ".docx":
        lines, title = _docx_lines(path)
        return parse_lines(lines, path.name, title)
    text = read_text(path)
    if suffix in (".md", ".markdown"):
        lines, title = _markdown_lines(text)
        return parse_lines(lines, path.name, title)
    if suffix in (".html", ".htm"):
        lines, title = _html_lines(text)
        return parse_lines(lines, path.name, title)
    return parse(text, path.name)


def load_folder(folder: Path, max_bytes: int = 2_000_000) -> tuple[list[Document], list[str]]:
    """Every readable document of a folder, and a message naming each file skipped:
    unsafe or unreadable (rag/sources.py), empty, too large to embed in reasonable
    time, or a copy of another."""
    found = scan(folder)
    docs, problems = load_sources(found.sources, max_bytes)
    return docs, list(found.skipped) + problems


def load_sources(
    sources: Iterable[Source], max_bytes: int = 2_000_000, known: Iterable[Document] = ()
) -> tuple[list[Document], list[str]]:
    """The documents of these sources, and a message for each skipped (see
    `load_folder`); a copy of a `known` document (already indexed) is skipped too."""
    docs, problems = [], []
    seen: dict[tuple, str] = {tuple(p.text for p in d.paragraphs): d.id for d in known}
    for source in sources:
        if source.size > max_bytes:
            mb, limit = source.size / 1e6, max_bytes / 1e6
            problems.append(f"{source.name}: {mb:.1f} MB is over the {limit:.1f} MB limit, skipped")
            continue
        try:
            doc = load_document(source.path)
        except DocumentError as e:
            problems.append(str(e))
            continue
        except OSError as e:  # changed since the scan
            problems.append(f"{source.name}: can't be read ({e.strerror or e}), skipped")
            continue
        key = tuple(p.text for p in doc.paragraphs)
        if key in seen:
            problems.append(f"{source.name}: same text as {seen[key]}, skipped")
            continue
        seen[key] = source.name
        docs.append(doc)
    return docs, problems
