"""Lexical (BM25) scoring over Chinese text.

Chinese has no spaces, so text is segmented with jieba's search mode (which also
emits the shorter words inside long ones: 郑州都市圈 → 郑州, 都市, 都市圈). The
same word is not always cut the same way in a question and in a document
(普惠托育 may stay whole), so the index also holds every pair of adjacent
Chinese characters, which match whatever the segmentation did. Every number is
a token of its own, because citizens ask about figures (7%, 2024年, 19家) that a
dense embedder barely distinguishes. Scoring is BM25 from the bm25s library,
saved beside the dense index.

It also measures how much of a question a text covers (`coverage`), word by
word, an everyday word counting as covered by its official terms. A question's
words are read as asked: 能放 or 会涨 (kept whole by jieba) count as 放 and 涨,
and words of asking (的话, 想) count for nothing.

Deliberately not done here: fusion with dense scores (rag/retrieval.py).
"""

from __future__ import annotations

import functools
import json
import logging
import re
from pathlib import Path

import bm25s
import numpy as np

from .synonyms import Synonyms

_WORD = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]+|\d+(?:\.\d+)?%?")
_NUMBER = re.compile(r"\d+(?:\.\d+)?%?")
# Function words and question words that say nothing about the topic.
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "是",
        "在",
        "和",
        "与",
        "及",
        "或",
        "等",
        "对",
        "把",
        "被",
        "从",
        "到",
        "为",
        "以",
        "于",
        "也",
        "都",
        "就",
        "还",
        "又",
        "而",
        "并",
        "其",
        "之",
        "这",
        "那",
        "这个",
        "那个",
        "这些",
        "那些",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "么",
        "嘛",
        "哪",
        "哪些",
        "哪个",
        "哪里",
        "什么",
        "多少",
        "几",
        "几个",
        "怎么",
        "怎样",
        "如何",
        "为什么",
        "是否",
        "有没有",
        "有",
        "没有",
        "要",
        "会",
        "能",
        "可以",
        "请问",
        "请",
        "一下",
        "我",
        "我们",
        "你",
        "你们",
        "他们",
        "它",
        "咱",
        "咱们",
        "现在",
        "目前",
        "一共",
        "总共",
        "啥",
        "呗",
        "嘞",
        "哈",
        "个",
        "些",
        "多",
        "少",
        "该",
        "让",
        "给",
        "跟",
        "说",
        "讲",
        "问",
        "知道",
        "告诉",
        "那么",
        "另外",
        "还有",
        "同时",
        "又",
        "再",
    ]
)


@functools.cache
def jieba_ready():
    """jieba, its dictionary loaded once and its log quiet."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def tokenize(text: str) -> list[str]:
    """Search-mode words plus whole numbers, lowercased, without stopwords."""
    tokens = [w.strip().lower() for w in jieba_ready().cut_for_search(text)]
    tokens = [w for w in tokens if w and _WORD.search(w) and w not in STOPWORDS]
    return tokens + _NUMBER.findall(text)


def tagged_words(text: str) -> list[tuple[str, str]]:
    """The text's words with their parts of speech (jieba's: nr a personal name)."""
    import jieba.posseg

    jieba_ready()
    return [(w.word, w.flag) for w in jieba.posseg.cut(text)]


def text_tokens(text: str) -> list[str]:
    """What a text is indexed as: `index_tokens`, or a placeholder for a text
    without any (bm25s needs every text to have a token)."""
    return index_tokens(text) or ["∅"]


def index_tokens(text: str) -> list[str]:
    """`tokenize` plus the character bigrams of every Chinese run."""
    bigrams = [
        run[i : i + 2] for run in _HAN_RUN.findall(text) for i in range(len(run) - 1) if run[i : i + 2] not in STOPWORDS
    ]
    return tokenize(text) + bigrams


Weights = list[tuple[tuple[str, ...], float]]
_MODAL = re.compile(r"[能要会想将可该还][\u4e00-\u9fff]")
# Words of asking that jieba keeps whole (想创业的话): no text answers them.
_ASKING = frozenset(["的话", "想", "还要", "打算", "大概", "到底", "究竟"])
# ... and words holding a question word (哪几个, 好几个, 几条, 啥样): the
# answer fills them in, so no text says them, and counting them diluted what
# a list sentence covers (h2-h6 answerable refused 21 → 18 of 238, none lost).
WH = re.compile(r"[哪几啥谁]|什么|多少")
# ... and a placeholder for what the answer names (打造哪些“XX之城”, 某某工程).
# Chosen on calibration's c015 (answered now, refused before) and h8's e057;
# no set not chosen on asks it.
_PLACEHOLDER = re.compile(r"[xX×]+|某+")


def question_weights(question: str, synonyms: Synonyms | None = None) -> Weights:
    """The question's content words, each with the alternatives that count as
    covering it (an everyday word is covered by its official terms) and a
    weight: numbers and longer words say more about what is asked."""
    # Lowercased, as the tokens and the text covering them are: an everyday
    # word typed in capitals (GDP) is one word with its token (gdp), not two
    # of which one nothing can cover (a fix, not a rule: h8's e050 gained its
    # 2023 figure and gold's R@1 went 0.875 -> 0.890; no refusal moved).
    groups = {w.lower(): terms for w, terms in (synonyms.terms(question) if synonyms else {}).items()}
    entries: Weights = [((word, *terms), 3.0) for word, terms in groups.items()]
    seen: set[str] = set()
    for t in tokenize(question):
        if _MODAL.match(t) and jieba_ready().dt.FREQ.get(t) is None:
            t = t[1:]  # 能放, 要修, 会涨 (no dictionary words, unlike 能源): the action asked about
        if t in seen or t in _ASKING or WH.search(t) or _PLACEHOLDER.fullmatch(t) or any(t in word for word in groups):
            continue
        seen.add(t)
        entries.append(((t,), 3.0 if t[0].isdigit() else float(min(len(t), 4))))
    return entries


def coverage(weights: Weights, text: str) -> float:
    """Share of the question's weight that the text covers (words are lowercased)."""
    total = sum(w for _, w in weights)
    text = text.lower()
    return sum(w for alts, w in weights if any(a in text for a in alts)) / total if total else 0.0


class LexicalIndex:
    """BM25 over texts' tokens. The tokens are kept (and saved) so that a build
    adding or removing documents segments only the new texts: jieba is the cost,
    BM25's statistics over stored tokens are recomputed in a fraction of it."""

    def __init__(self, bm25: bm25s.BM25, tokens: list[list[str]]):
        self._bm25 = bm25
        self.tokens = tokens
        self.size = len(tokens)

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        # A text seen before is not segmented again (boilerplate repeats, and the
        # 100k-chunk bench of eval/scale.py repeats the seeds).
        known: dict[str, list[str]] = {}
        return cls.from_tokens([known[t] if t in known else known.setdefault(t, text_tokens(t)) for t in texts])

    @classmethod
    def from_tokens(cls, tokens: list[list[str]]) -> LexicalIndex:
        # The vocabulary in first-seen order: bm25s numbers it from a set, whose
        # order follows the process's string hash seed, so two builds of the
        # same texts wrote different files (same scores, other checksums).
        vocab: dict[str, int] = {}
        ids = [[vocab.setdefault(t, len(vocab)) for t in text] for text in tokens]
        bm25 = bm25s.BM25()
        bm25.index((ids, vocab), show_progress=False)
        return cls(bm25, tokens)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every text for the query (zeros when nothing matches)."""
        vocab = self._bm25.vocab_dict
        tokens = [t for t in index_tokens(query) if t in vocab]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder), show_progress=False)
        with open(folder / "tokens.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps(t, ensure_ascii=False) + "\n" for t in self.tokens)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        bm25 = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0)
        with open(folder / "tokens.jsonl", encoding="utf-8") as f:
            tokens = [json.loads(line) for line in f]
        if len(tokens) != int(bm25.scores["num_docs"]):
            raise ValueError(f"{folder}: {len(tokens)} token lists for {bm25.scores['num_docs']} texts")
        return cls(bm25, tokens)
