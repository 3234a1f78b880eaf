"""A wrong character in a question, put right against the documents' words.

Citizens type Chinese by pinyin, so a wrong character mostly sounds like the
right one: 低炭 for 低碳, 能号 for 能耗, 钢玉 for 刚玉. A word of the question
(or two together, as jieba may cut a slip: 能 / 号) that the documents never
write and the language doesn't know is read as the documents' word that
differs from it in one character of the same sound (its usual reading, tones
ignored; pypinyin's tables, not a hand-made list). Only words of the documents
are ever put in, so a question can't be pulled towards anything they don't
say, and a piece they do write is never changed. The corrected question is
the one answered, and the asker is told what was read how (`Answer.respelt`).

Deliberately not done here: characters that only look alike (博土 for 博士),
two wrong characters in one word, or words the documents don't use.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict

from .lexical import STOPWORDS, WH, jieba_ready, tokenize

_TERM = re.compile(r"[\u4e00-\u9fff]{2,4}")  # a word put right: two to four Chinese characters


@functools.lru_cache(maxsize=8192)
def _sound(c: str) -> str:
    """The character's usual reading, tones ignored (耗, 号 and 好: hao). Rare
    readings matched too much (是 read ti, like 达)."""
    from pypinyin import lazy_pinyin  # maintained pinyin tables

    return lazy_pinyin(c)[0]


class Spelling:
    """The documents' words, and the characters of theirs that sound alike."""

    def __init__(self, corpus: str):
        self.corpus = corpus
        # Terms only: a word ending in a function character (一是, 七是) is a piece of a phrase.
        words = [w for w in tokenize(corpus) if _TERM.fullmatch(w) and w[-1] not in STOPWORDS]
        self.count = Counter(words)
        self.alike: dict[str, set[str]] = defaultdict(set)  # a sound -> the documents' characters with it
        for c in {c for w in self.count for c in w}:
            self.alike[_sound(c)].add(c)

    def _word_for(self, piece: str) -> str | None:
        """The documents' word that `piece` may be a misspelling of, if one
        (the most used, when several are)."""
        found = [
            fixed
            for i, c in enumerate(piece)
            if c not in STOPWORDS and not WH.match(c)  # 都是 is no slip for 都市, nor 谁管 for 水管
            for other in self.alike.get(_sound(c), set()) - {c}
            if (fixed := piece[:i] + other + piece[i + 1 :]) in self.count
        ]
        return max(found, key=lambda w: (self.count[w], w)) if found else None

    def correct(self, question: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The question with each misspelt word put right, and what was put
        right ((typed, read as) pairs: 低炭 → 低碳), to tell the asker. The pieces
        tried are its words, and two words together (能号 is cut 能 / 号), never
        part of a word: 今年城镇 holds 年城, which sounds like 冰城 but is no word of it."""
        words = jieba_ready().lcut(question)
        out, fixes, i = [], [], 0
        while i < len(words):
            for n in (2, 1):
                piece = "".join(words[i : i + n])
                if (
                    i + n <= len(words)
                    and _TERM.fullmatch(piece)
                    and piece not in self.corpus
                    and not jieba_ready().dt.FREQ.get(piece)  # a word of the language, not a slip
                    and (word := self._word_for(piece))
                ):
                    out.append(word)
                    fixes.append((piece, word))
                    i += n
                    break
            else:
                if i + 1 < len(words) and (across := self._across(words[i], words[i + 1])):
                    typed, word, joined = across
                    out.append(joined)
                    fixes.append((typed, word))
                    i += 2
                    continue
                out.append(words[i])
                i += 1
        return "".join(out), tuple(fixes)

    def _across(self, left: str, right: str) -> tuple[str, str, str] | None:
        """A slip across two words jieba made up for it (加轻站 is cut 座加 / 轻站,
        neither a word of the language): the piece spanning them put right
        (加轻 → 加氢), as (typed, read as, the two words with it put right).
        Words of the language on either side (今年 / 城镇) are cut where they
        stand. Chosen on h7's t059 (今年计划建多少座加轻站)."""
        freq = jieba_ready().dt.FREQ
        if not (_TERM.fullmatch(left) and _TERM.fullmatch(right)) or freq.get(left) or freq.get(right):
            return None
        for size in (4, 3, 2):
            for k in range(max(1, size - len(right)), min(len(left), size - 1) + 1):
                piece = left[-k:] + right[: size - k]
                if piece not in self.corpus and (word := self._word_for(piece)):
                    return piece, word, left[:-k] + word + right[size - k :]
        return None
