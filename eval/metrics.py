"""Pure metric functions of the evaluation: strings and numbers in, numbers out.

Gold-set metrics (see eval/README.md for what each one means):
- retrieval: evidence recall@k and reciprocal rank, matching quotes inside
  chunk texts with whitespace ignored;
- answers: must_include recall, full correctness, character-level F1;
- citations: recall and precision against evidence quotes and key strings;
- faithfulness: numbers of an answer that no cited paragraph holds;
- calibration: percentiles and the refusal threshold suggested by support scores.

CMRC 2018 metrics: EM after removing punctuation and the official-style F1
over mixed segmentation (a Chinese character is a token, a run of other
characters is a word), both the maximum over the reference answers.

Deliberately not done here: running models, timing, or reading files.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

_SPACE = re.compile(r"\s+")
_MARKER = re.compile(r"\[\d{1,2}\]")
# A number as written in an answer: 12.65, 7%, 2024. Thousands separators are
# not joined, so "1,000" reads as 1 and 000; both still match the source text.
NUMBER = re.compile(r"\d+(?:\.\d+)?%?")


def squash(text: str) -> str:
    """The text without any whitespace: quotes are compared this way."""
    return _SPACE.sub("", text)


def contains(haystack: str, needle: str) -> bool:
    """Whether needle occurs in haystack, whitespace ignored on both sides."""
    return bool(needle.strip()) and squash(needle) in squash(haystack)


def strip_markers(text: str) -> str:
    return _MARKER.sub("", text)


# ---------------------------------------------------------------- retrieval


def evidence_recall(quotes: Sequence[str], texts: Sequence[str], k: int) -> float:
    """Share of the quotes found inside one of the first k texts."""
    if not quotes:
        return 0.0
    top = texts[:k]
    return sum(any(contains(t, q) for t in top) for q in quotes) / len(quotes)


def first_rank(quotes: Sequence[str], texts: Sequence[str]) -> int | None:
    """1-based rank of the first text holding any quote; None if none does."""
    for rank, text in enumerate(texts, start=1):
        if any(contains(text, q) for q in quotes):
            return rank
    return None


def reciprocal_rank(quotes: Sequence[str], texts: Sequence[str]) -> float:
    rank = first_rank(quotes, texts)
    return 1.0 / rank if rank else 0.0


# ---------------------------------------------------------------- answers


def must_include_recall(must: Sequence[str], answer: str) -> float:
    """Share of the key strings present in the answer (whitespace ignored)."""
    if not must:
        return 0.0
    text = strip_markers(answer)
    return sum(contains(text, m) for m in must) / len(must)


def fully_correct(must: Sequence[str], answer: str, refused: bool) -> bool:
    return bool(must) and not refused and must_include_recall(must, answer) == 1.0


def _is_cjk(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf" or "\uf900" <= c <= "\ufaff"


def _is_punct(c: str) -> bool:
    # Unicode punctuation (，。、《》…) plus the ASCII symbols the official CMRC
    # script also drops; % and currency stay, they carry meaning.
    return unicodedata.category(c).startswith("P") or c in "^`~+=|<>"


def tokens(text: str) -> list[str]:
    """Mixed segmentation: each Chinese character is a token, each run of other
    non-space characters a word; punctuation and case are dropped."""
    out: list[str] = []
    word = ""
    for c in text.lower():
        if _is_cjk(c) or c.isspace() or _is_punct(c):
            if word:
                out.append(word)
                word = ""
            if _is_cjk(c):
                out.append(c)
        else:
            word += c
    if word:
        out.append(word)
    return out


def _f1(common: int, n_pred: int, n_gold: int) -> float:
    if common == 0:
        return 0.0
    precision, recall = common / n_pred, common / n_gold
    return 2 * precision * recall / (precision + recall)


def char_f1(prediction: str, gold: str) -> float:
    """Bag-of-tokens F1 (SQuAD style) over mixed segmentation; markers ignored."""
    pred, ref = tokens(strip_markers(prediction)), tokens(gold)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    return _f1(common, len(pred), len(ref))


# ---------------------------------------------------------------- citations


def citation_recall(quotes: Sequence[str], cited: Sequence[str]) -> float:
    """Share of the evidence quotes lying inside some cited paragraph."""
    if not quotes:
        return 0.0
    return sum(any(contains(p, q) for p in cited) for q in quotes) / len(quotes)


def citation_precision(quotes: Sequence[str], must: Sequence[str], cited: Sequence[str]) -> float | None:
    """Share of cited paragraphs holding an evidence quote or a key string;
    None when nothing is cited."""
    if not cited:
        return None
    keys = [*quotes, *must]
    return sum(any(contains(p, k) for k in keys) for p in cited) / len(cited)


# ---------------------------------------------------------------- faithfulness


def numbers(answer: str) -> list[str]:
    """The numbers an answer states, citation markers ([1]) excluded."""
    return NUMBER.findall(strip_markers(answer))


def number_occurs(number: str, text: str) -> bool:
    """A whole-number match: 7% is not found in 17% or 7.5%, 12 not in 2012."""
    pattern = rf"(?<![\d.]){re.escape(number)}(?!\d|\.\d)"
    return re.search(pattern, squash(text)) is not None


def unsupported_numbers(answer: str, cited: Sequence[str]) -> list[str]:
    """The answer's numbers that occur in no cited paragraph (target: none)."""
    return [n for n in numbers(answer) if not any(number_occurs(n, p) for p in cited)]


# ---------------------------------------------------------------- statistics


def mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return None
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def suggest_threshold(
    answerable: Sequence[float], unanswerable: Sequence[float], max_false_refusals: float = 0.05
) -> dict | None:
    """The refusal threshold t (refuse when support < t) that refuses the most
    unanswerable items while refusing at most `max_false_refusals` of the
    answerable ones (1 in 20): a citizen is better served by "not in the
    documents" than by a confident answer to another question. Candidates sit
    midway between neighbouring scores, so the suggestion doesn't sit on one
    item's exact score; of those refusing as many unanswerable items, the one
    refusing the fewest answerable ones wins."""
    if not answerable:
        return None
    scores = sorted(set(answerable) | set(unanswerable))
    candidates = [scores[0] - 1e-3] + [(a + b) / 2 for a, b in itertools.pairwise(scores)] + [scores[-1] + 1e-3]
    best = None
    for t in candidates:
        false_refusals = sum(s < t for s in answerable)
        if false_refusals > max_false_refusals * len(answerable):
            continue
        caught = sum(s < t for s in unanswerable)
        if best is None or (caught, -false_refusals) > (best["unanswerable_refused"], -best["answerable_refused"]):
            best = {"threshold": round(t, 4), "answerable_refused": false_refusals, "unanswerable_refused": caught}
    if best:
        best["correct"] = len(answerable) - best["answerable_refused"] + best["unanswerable_refused"]
        best["accuracy"] = best["correct"] / (len(answerable) + len(unanswerable))
    return best


# ---------------------------------------------------------------- CMRC 2018


def cmrc_normalize(text: str) -> str:
    """Lowercased, without punctuation or whitespace: what EM compares."""
    return "".join(c for c in text.lower() if not (_is_punct(c) or c.isspace()))


def cmrc_em(prediction: str, references: Sequence[str]) -> float:
    pred = cmrc_normalize(prediction)
    return float(any(pred == cmrc_normalize(r) for r in references))


def _longest_common_run(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common contiguous token run of a and b."""
    best = 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def cmrc_f1(prediction: str, references: Sequence[str]) -> float:
    """Official-style F1: the overlap is the longest common run of tokens of the
    mixed segmentation (as the CMRC 2018 script measures it, stricter than a
    bag of tokens); the maximum over references."""
    pred = tokens(prediction)
    scores = []
    for ref in references:
        gold = tokens(ref)
        scores.append(_f1(_longest_common_run(gold, pred), len(pred), len(gold)) if pred and gold else 0.0)
    return max(scores, default=0.0)


def contains_reference(answer: str, references: Sequence[str]) -> bool:
    """Whether the answer holds one of the reference answers (punctuation and
    whitespace ignored): the fair figure for an extractive sentence answer."""
    text = cmrc_normalize(strip_markers(answer))
    return any((r := cmrc_normalize(ref)) and r in text for ref in references)
