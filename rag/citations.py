"""Check every answer sentence against the paragraph it cites.

A sentence's checkable claims are its numbers (with % and decimals), dates,
《…》 titles and organisation names. A sentence is supported by a paragraph
when every claim occurs in it. For each generated sentence:

- if its cited paragraph supports it, it stays;
- else if another retrieved paragraph supports it, the citation is moved there
  (a citation points to the paragraph that holds the claim, never a neighbour);
- else it is dropped and reported in `Answer.dropped`.

A sentence with no checkable claim must still share most of its wording with
the paragraph it cites, so free text can't smuggle in unsupported statements.

Deliberately not done here: choosing evidence or generating (rag/answering.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:%|‰)?")
_TITLE = re.compile(r"《[^》]{1,60}》")
# A document number such as 新开〔2020〕26号 is one claim: its year and number
# don't support (or state) a 2020 or a 26 elsewhere in a sentence.
DOC_NUMBER = re.compile(r"[〔﹝［\[](?:19|20)\d{2}[〕﹞］\]]\d+号")
_ORG_SUFFIX = (
    r"(?:委员会|管委会|人民政府|政府|发展改革委|发改委|局|厅|集团|公司|中心|研究院|大学|学院|银行|交易所|协会)"
)
_ORG = re.compile(rf"[\u4e00-\u9fff]{{2,8}}?{_ORG_SUFFIX}")
_MARKER = re.compile(r"\[(\d{1,2})\]")
_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?")


@dataclass(frozen=True)
class Citation:
    doc: str  # source file name
    title: str
    section: str  # heading path
    paragraph: int  # 1-based paragraph number in the source file
    text: str  # the verbatim paragraph
    agency: str = ""
    date: str = ""
    quote: str = ""  # the sentence of the paragraph the answer relies on
    page: int | None = None  # 1-based page of a paged source (PDF); None otherwise

    @property
    def place(self) -> str:
        """Where in the source: 第3页 · 第12段, or 第12段 without pages."""
        return f"第{self.page}页 · 第{self.paragraph}段" if self.page else f"第{self.paragraph}段"


def split_sentences(text: str) -> list[str]:
    """Sentences with their closing punctuation; blank pieces dropped."""
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip(" \u3000\t,，、")]


def claims(sentence: str) -> list[str]:
    """The checkable facts of a sentence: numbers, 《titles》, organisation names."""
    text = _MARKER.sub("", sentence)
    found = _TITLE.findall(text) + DOC_NUMBER.findall(text)
    bare = without_document_numbers(_TITLE.sub(" ", text))
    found += [m.group(0).rstrip(",.") for m in _NUMBER.finditer(bare)]
    found += [_org_core(m.group(0)) for m in _ORG.finditer(bare)]
    return found


def _org_core(name: str) -> str:
    # The match may start too early ("由市发展改革委", "推进郑州市人民政府"):
    # keep at most four characters before the suffix word, after any function word.
    m = re.search(_ORG_SUFFIX + "$", name)
    head = name[: m.start()] if m else name
    head = re.split(r"[由在的和与对向将把及等为是了被从经]", head)[-1][-4:]
    return head + (m.group(0) if m else "")


def without_document_numbers(text: str) -> str:
    return DOC_NUMBER.sub(" ", text)


def _occurs(claim: str, paragraph: str) -> bool:
    if not claim[0].isdigit():
        return claim in paragraph
    # A number must occur as a whole number: 7% is not supported by 17% or 7.5%.
    pattern = rf"(?<![\d.]){re.escape(claim)}(?![\d]|\.\d)"
    return re.search(pattern, without_document_numbers(paragraph)) is not None


def supports(sentence: str, paragraph: str) -> bool:
    """Whether every claim of the sentence occurs in the paragraph; a sentence
    without claims must share most of its characters with it."""
    found = claims(sentence)
    if found:
        return all(_occurs(c, paragraph) for c in found)
    chars = [c for c in _MARKER.sub("", sentence) if "\u4e00" <= c <= "\u9fff"]
    if not chars:
        return False
    return sum(c in paragraph for c in chars) / len(chars) >= 0.8


def unsupported_claims(sentence: str, paragraph: str) -> list[str]:
    return [c for c in claims(sentence) if not _occurs(c, paragraph)]


def markers(sentence: str) -> list[int]:
    """The [n] markers of a sentence, as 1-based numbers."""
    return [int(m) for m in _MARKER.findall(sentence)]


def strip_markers(sentence: str) -> str:
    return _MARKER.sub("", sentence).strip()
