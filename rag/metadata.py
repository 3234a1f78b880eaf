"""A document's metadata from its lines: the portal's bullet header, labelled
lines, the document number, addressee, attachments and the signature.

Layouts read:

- the Zhengzhou portal's bullet header (• 索引号, agency, category, dates);
- labelled lines of a notice's information table (发文机关：, 发文字号：, 成文日期：,
  索引号：); 发布日期 lines are read by rag/documents.py, which keeps them;
- a 发文字号 line near the top (郑政〔2024〕5号, with 〔〕, ﹝﹞, [] or ［］);
- an addressee line ending in a colon (尊敬的董建山委员：);
- 附件：1.…  2.… : the attachments a notice names;
- the signature at the end: an agency line then a date line (2023年6月20日),
  which gives a reply without a header its agency and date, and a notice its
  成文日期.

Deliberately not done here: titles and headings (rag/documents.py,
rag/headings.py). Every rule reads lines only; nothing is guessed from prose.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from .headings import SENTENCE_END

_INDEX_NO = re.compile(r"^\d{6,}/\d{4}-\d+$")
_DATE = re.compile(r"^(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})\s*日?$")
DOC_NO = re.compile(r"^.{1,12}[〔﹝\[［]\d{4}[〕﹞\]］]\d+号$")
_LABELLED = re.compile(r"^(发文机关|发文字号|文号|成文日期|索引号)\s*[:：]\s*(\S.*)$")
_ATTACHMENT = re.compile(r"^附\s*件\s*\d*\s*[:：]\s*(.*)$")
_LISTED = re.compile(r"^\d{1,2}\s*[.．、]\s*(.+)$")
_SIGNATURE_LINES = 6  # an agency and a date among the last lines, (联系人…) after them


@dataclass(frozen=True)
class Metadata:
    index_no: str = ""
    agency: str = ""
    category: str = ""
    date: str = ""  # ISO date of issue: the portal's, else 发布日期, else the signature's
    written: str = ""  # ISO 成文日期: labelled, else the signature's, else the first date line
    addressee: str = ""
    doc_no: str = ""
    attachments: tuple[str, ...] = ()


def iso_date(text: str) -> str:
    """ "2023年6月20日", "2023-07-20" or "2024/3/14" as 2023-06-20; "" for any other text."""
    m = _DATE.match(text.strip())
    if not m:
        return ""
    y, mo, d = m.groups()
    return f"{y}-{int(mo):02d}-{int(d):02d}"


def _is_agency(line: str) -> bool:
    return 2 < len(line) <= 30 and not SENTENCE_END.search(line) and not re.search(r"\d", line)


def signature(body: list[str]) -> tuple[str, str]:
    """The agency and ISO date of the signature among the last lines, or ("", "")."""
    tail = body[-_SIGNATURE_LINES:]
    for prev, ln in reversed(list(itertools.pairwise(tail))):
        if (d := iso_date(ln)) and _is_agency(prev):
            return prev, d
    return "", ""


def attachment_list(body: list[str]) -> range:
    """Indices of the 附件： line and the numbered lines right after it (empty when none)."""
    for i, ln in enumerate(body):
        if _ATTACHMENT.match(ln):
            end = i + 1
            while end < len(body) and _LISTED.match(body[end]) and len(body[end]) <= 60:
                end += 1
            return range(i, end)
    return range(0)


def attachments(body: list[str]) -> tuple[str, ...]:
    """The attachments a 附件： line names, with the numbered lines right after it."""
    block = attachment_list(body)
    if not block:
        return ()
    first = _ATTACHMENT.match(body[block.start]).group(1)
    names = [first, *(body[i] for i in block[1:])]
    return tuple(m.group(1).strip() if (m := _LISTED.match(n)) else n.strip() for n in names if n.strip())


def read_metadata(bullets: list[str], body: list[str], title: str, published: str) -> Metadata:
    """Metadata from the bullet header, the body lines and the title."""
    index_no = agency = category = date = ""
    for b in bullets:
        if _INDEX_NO.match(b):
            index_no = b
        elif iso_date(b):
            date = date or iso_date(b)
        elif "," in b or "，" in b:
            category = b
        elif not agency:
            agency = b
    date = date or published

    labelled = {}
    for ln in body:
        if m := _LABELLED.match(ln):
            labelled.setdefault(m.group(1), m.group(2).strip())
    index_no = index_no or labelled.get("索引号", "")
    agency = agency or labelled.get("发文机关", "")
    doc_no = labelled.get("发文字号") or labelled.get("文号", "")
    written = iso_date(labelled.get("成文日期", ""))

    addressee = ""
    for ln in body[:8]:
        if not doc_no and DOC_NO.match(ln):
            doc_no = ln
        if not addressee and len(ln) <= 60 and ln[-1] in ":：":
            addressee = ln[:-1].removeprefix("尊敬的")

    signed_by, signed_on = signature(body)
    if not agency and "关于" in title:
        # "新乡高新区管委会关于印发…的通知": the issuer opens the title.
        issuer = title.split("关于", 1)[0]
        if 2 < len(issuer) <= 20:
            agency = issuer
    if not agency and signed_by:
        agency, date = signed_by, date or signed_on
    if not agency:
        # A notice signed by its issuer above the document it issues: a short
        # line just before a date line, anywhere.
        for prev, ln in itertools.pairwise(body):
            if iso_date(ln) and 2 < len(prev) <= 20 and not SENTENCE_END.search(prev):
                agency, date = prev, date or iso_date(ln)
                break
    first_date = next((d for ln in body if (d := iso_date(ln))), "")
    return Metadata(
        index_no=index_no,
        agency=agency,
        category=category,
        date=date or signed_on or first_date,
        written=written or signed_on or first_date,
        addressee=addressee,
        doc_no=doc_no,
        attachments=attachments(body),
    )
