"""The short answer shown first: one line stating what was asked.

A citizen asking 郑州今年GDP要涨多少 wants 地区生产总值增长7%左右 before the
official sentence it comes from. `headline(reading, sentences)` picks, from the
answer's own sentences, the clauses that say it: for a question asking for
items, the clause listing them (A、B、C等四大主导产业); for one asking for a
figure, the clause giving a figure about what was asked, with the clause before
it when the figure's clause alone doesn't name the subject (…超过70万辆,2025年
达到140万辆). The line is always one contiguous, verbatim piece of one answer
sentence, so every figure in it is in the paragraph that sentence cites, and
the answer checks it like any other sentence.

Deliberately not done here: rewording, joining pieces of different sentences,
or a headline for questions asking neither for items nor for a figure (the
sentence is then the short answer).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .lexical import coverage
from .question import NUMBER, Reading
from .sentence_kind import LIST_ITEMS

# Clauses end at these; "……" marks a part of a long sentence left out (see answering.focus).
_CLAUSE = re.compile(r"[^，,；;：:。！？!?…\n]+")
_SPAN = 3  # clauses at most in the line
_NAMES = 0.5  # a line must name this share of what is asked (by weight)


def _clauses(sentence: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _CLAUSE.finditer(sentence) if m.group(0).strip()]


def _span(sentence: str, clauses: list[tuple[int, int]], i: int, topic) -> tuple[str, float]:
    """Clause i with as few clauses before it as it takes to name what is asked."""
    best = ("", -1.0)
    for first in range(i, max(-1, i - _SPAN), -1):
        piece = sentence[clauses[first][0] : clauses[i][1]].strip()
        score = coverage(topic, piece)
        if score > best[1]:
            best = (piece, score)
        if score >= _NAMES:
            break
    return best


def headline(reading: Reading, sentences: Sequence[str]) -> tuple[str, int] | None:
    """The short answer and the index of the sentence it is part of, or None
    when no clause says what was asked better than a whole sentence does.
    `sentences` are the answer's sentences as shown, without [n] markers."""
    if not (reading.lists or reading.numeric):
        return None
    found: list[tuple[tuple, str, int]] = []
    for n, sentence in enumerate(sentences):
        clauses = _clauses(sentence)
        for i, (start, end) in enumerate(clauses):
            clause = sentence[start:end]
            if reading.lists and LIST_ITEMS.search(clause):
                piece, score = clause.strip(), coverage(reading.topic, clause)
                rank = (1, score >= _NAMES, score)
            elif reading.numeric and NUMBER.search(clause):
                piece, score = _span(sentence, clauses, i, reading.topic)
                in_unit = bool(reading.unit and re.search(reading.unit, clause))
                rank = (0, score >= _NAMES, in_unit, score)
            else:
                continue
            if score > 0:
                found.append(((*rank, -n), piece, n))  # the earlier sentence wins a tie
    if not found:
        return None
    _, piece, n = max(found, key=lambda f: f[0])
    if len(piece) < 2 or piece == sentences[n].strip().rstrip("。！？；!?;"):
        return None  # the whole sentence: nothing shorter to say first
    return piece, n
