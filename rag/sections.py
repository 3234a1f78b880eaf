"""The parts of a section a question names: a list question that names a
heading (保障措施有哪几条, 还存在哪些问题, 专栏3轨道交通包括哪几方面) is answered by
what the section is made of, in the document's order:

- its sub-sections' headings ((一)建立工作推进机制, (二)强化顶层设计, …);
- else the items of its own paragraphs (▲加快轨道交通四期规划编制。, 一是…);
- else the sentences of its one paragraph (高耗能产业占比仍然较高;部分产业链…).

A section's parts are often no answer sentence by themselves (a heading says
what follows, rag/headings.py), and their words are not the question's, so
sentence scoring (rag/evidence.py) showed a body sentence or two and missed
the names. The heading path every chunk keeps says which they are.
Chosen on h9's n033, h21's p132 and p193, and h22's f058, f078, f184 and
f230 (each now has every item; none had them all before); on h18 and h19,
not chosen on, a list each gained its missing items and one list of h19 lost
its items: it is kept as the one reading of sections and boxes the issue asks
for, and the kinds of items asked (`_KIND`) were read to spare h15's y123
(哪几条线).

Deliberately not done here: whether anything answers (the support of the
question's evidence decides, rag/answering.py), or lists inside one sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .citations import split_sentences
from .headings import ITEM_SENTENCE, numbering
from .index import Index
from .lexical import coverage, question_weights
from .retrieval import Hit

_MOST = 8  # parts shown, at most
# What the items asked are (哪几条线: lines; 哪几个领域: fields): parts that
# aren't (the box's ▲加快城市轨道交通建设 for 在建的有哪几条线) don't answer.
# Words that ask for parts of any kind (哪几方面工作, 哪几条) name none.
_KIND = re.compile(r"(?:哪些|哪几|有什么|有啥|有哪(?![些几]))[个条项类种大点]?([\u4e00-\u9fff]*)")
_ANY_KIND = re.compile(r"方面|工作|内容|部分|事项|举措|措施|任务")


def _named(heading: str, question: str) -> bool:
    """Whether the question names the heading: every word of its subject
    (保障措施, 存在的问题), or its box's number (专栏3)."""
    number = numbering(heading)
    if number.startswith("专栏") and re.sub(r"[\s:：]", "", number) in question:
        return True
    # Without its numbering, its year (2024年轨道交通) and a table's cell edge.
    subject = re.sub(r"\d{4}年|\|", "", heading.removeprefix(number)).strip()
    weights = question_weights(subject)
    return bool(weights) and coverage(weights, question) == 1.0


def section_parts(question: str, hits: Sequence[Hit], index: Index) -> list[tuple[str, int, str]]:
    """(document, paragraph, text) of each part of the first retrieved
    section whose heading the question names, deepest heading first; empty
    if none is named or it has fewer than two parts."""
    kind = _ANY_KIND.sub("", m.group(1)) if (m := _KIND.search(question)) else ""
    for hit in hits:
        for number in hit.paragraphs:
            path = index.paragraph(hit.doc, number).path
            for depth in range(len(path), 0, -1):
                if _named(path[depth - 1], question):
                    parts = _parts(index, hit.doc, path[:depth])
                    said = "".join(path[:depth]) + "".join(text for _, _, text in parts)
                    return parts if kind in said else []
    return []


def _parts(index: Index, doc_id: str, heading: tuple[str, ...]) -> list[tuple[str, int, str]]:
    doc = index.documents[doc_id]
    below = [(p.number, p.path) for p in doc.paragraphs if p.path[: len(heading)] == heading]
    # Each sub-section by its heading, cited where its text holds it.
    children: dict[str, int] = {}
    for n, path in below:
        if len(path) > len(heading) and path[len(heading)] in doc.paragraph(n).text:
            children.setdefault(path[len(heading)], n)
    parts = [(doc_id, n, child) for child, n in children.items()]
    if len(parts) < 2:
        own = [n for n, path in below if path == heading and not doc.paragraph(n).is_heading]
        said = [(n, s) for n in own for s in split_sentences(doc.paragraph(n).text)]
        items = [(doc_id, n, s) for n, s in said if ITEM_SENTENCE.match(s)]
        parts = items if len(items) >= 2 else [(doc_id, n, s) for n, s in said] if len(own) == 1 else []
    return parts[:_MOST] if len(parts) >= 2 else []
