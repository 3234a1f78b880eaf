"""How an answer's sentences are shown: a long sentence listing many items cut
to the items asked about (`focus`), each sentence with its citation marker
(`marked`), and streamed model text regrouped into whole sentences
(`sentences`). Every piece shown is verbatim, so every figure stays in its
paragraph.

Deliberately not done here: choosing the sentences (rag/answering.py), or
checking them against their paragraphs (rag/citations.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .lexical import coverage

_LONG = 80  # characters: a longer sentence listing many items is shown in part
_INTRO = re.compile(r"^[^，,；;：:]*[：:]")
_ITEM = re.compile(r"[^，,；;]+[，,；;]?")


def focus(sentence: str, topic) -> str:
    """A long sentence listing many items after its opening words (2024年…主要
    预期目标是:…,…,…。) cut to those words and the items about what was asked,
    the rest marked ……: each part is verbatim, so every figure shown is still
    in the paragraph. Other sentences are shown whole: a figure may sit in a
    clause that doesn't name the subject (…超过70万辆,2025年达到140万辆)."""
    intro = m.group(0) if (m := _INTRO.match(sentence)) else ""
    if len(sentence) <= _LONG or not intro:
        return sentence  # only a list announced by its opening words (…目标是:)
    items = _ITEM.findall(sentence[len(intro) :])
    if len(items) < 5:
        return sentence
    scores = [coverage(topic, item) for item in items]
    keep = [i for i, score in enumerate(scores) if score > 0 and score >= max(scores) / 2]
    # ... and, best first, each item naming a word of the question that neither
    # the opening words nor an item kept name (GDP和规上工业增加值的预期增速:
    # 地区生产总值增长7%左右 beside 规模以上工业增加值增长9%以上). Chosen on h20's
    # d106 and d190 (gained their second figure); on h18, not chosen on, an
    # item gained its second figure too; h14's x089 shows its second item, as asked,
    # and no other answer of any set changed.
    named = {
        alts for alts, _ in topic if any(a in part.lower() for a in alts for part in (intro, *(items[i] for i in keep)))
    }
    for i in sorted(range(len(items)), key=lambda i: -scores[i]):
        new = {alts for alts, w in topic if w >= 2 and alts not in named and any(a in items[i].lower() for a in alts)}
        if new and i not in keep:
            keep.append(i)
            named |= new
    keep.sort()
    if not keep or len(keep) > len(items) / 2:
        return sentence
    pieces, last = [intro], -1
    for i in keep:
        pieces += ["……"] if i > last + 1 else []
        pieces.append(items[i])
        last = i
    pieces += ["……"] if last < len(items) - 1 else []
    shown = re.sub(r"[，,；;]+……", "……", "".join(pieces))
    return shown if shown.endswith(("。", "！", "？", "……")) else shown + "。"


APART = "；"  # after a line without an end mark (发布日期:2020-04-02), before the next
_ENDED = re.compile(r"[。！？；!?;…]\s*$")


def marked(shown: str, n: int) -> str:
    """A shown sentence with its citation marker, set apart from the next one."""
    return f"{shown}[{n}]" + ("" if _ENDED.search(shown) else APART)


COMPLETE = re.compile(r"(?:[。！？；!?;]|\[\d{1,2}\])\s*$")


_BOUNDARY = re.compile(r"(?:\[\d{1,2}\])+|[。！？；!?;\n]")


def sentences(pieces: Iterator[str]) -> Iterator[str]:
    """Regroup streamed text into sentences, each with the [n] markers after it.
    A sentence is complete at closing punctuation or a marker, once the next
    character shows no further marker follows."""
    buffer = ""
    for piece in pieces:
        buffer += piece
        while True:
            cut = 0
            for m in _BOUNDARY.finditer(buffer):
                if m.end() == len(buffer):
                    break  # a marker may still follow
                if buffer[m.end()] == "[":
                    continue  # the markers that follow end the sentence
                cut = m.end()
                break
            if not cut:
                break
            sentence, buffer = buffer[:cut], buffer[cut:]
            if sentence.strip():
                yield sentence
    if buffer.strip():
        yield buffer
