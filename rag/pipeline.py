"""The whole pipeline behind `ask()`, `ask_stream()` and `retrieve()`.

`Pipeline(settings)` is cheap to construct; the index, the embedder and the
model load on first use, once. Module-level `ask`/`retrieve` use one cached
pipeline per `Settings`, so a plain `ask("…")` works with the bundled models.

Deliberately not done here: any stage's own logic; this module only wires them.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace

from .answering import Answer, Composer
from .embeddings import Embedder, embedder_for
from .index import Index, load_or_build
from .llms import LLM, make_llm
from .question import has_content, is_chinese, normalise, question_parts, resolve_follow_up, validate_question
from .retrieval import Hit, Retriever
from .settings import Settings
from .translation import to_chinese

History = Sequence[str | tuple[str, str] | dict]
_MOST_HITS = 50  # top_k beyond this only slows the answer: evidence comes from the first few
HINT = "请把问题说得具体一些，例如：郑州今年地区生产总值预期增长多少？ (say what you want to know)"
ONLY_CHINESE = (
    "目前只支持用中文提问，请用中文再问一次，例如：郑州今年地区生产总值预期增长多少？"
    " (Only questions in Chinese are supported: the documents are in Chinese; please ask in Chinese.)"
)


def _text(content) -> str:
    """Message content as text: a string, or a list of parts ({"type": "text", "text": …})."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _user_turns(history: History | None) -> list[str]:
    """The user's earlier questions, from plain strings, (user, bot) pairs or
    chat messages ({"role": "user", "content": …}, content as text or parts)."""
    turns = []
    for turn in history or ():
        if isinstance(turn, str):
            turns.append(turn)
        elif isinstance(turn, dict):
            if turn.get("role") == "user":
                turns.append(_text(turn.get("content")))
        elif isinstance(turn, (tuple, list)) and turn:
            turns.append(_text(turn[0]))
    return [t for t in turns if t]


class Pipeline:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        llm: LLM | None = None,
        index: Index | None = None,
    ):
        self.settings = settings or Settings()
        self._embedder = embedder
        self._llm = llm
        self._index = index
        # Re-entrant: loading the index asks for the embedder. Two first
        # questions at once must not load anything twice.
        self._lock = threading.RLock()

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = embedder_for(self.settings)
        return self._embedder

    @property
    def index(self) -> Index:
        with self._lock:
            if self._index is None:
                self._index = load_or_build(self.settings, self.embedder)
        return self._index

    def swap_index(self, index: Index) -> None:
        """Answer from `index` from the next question on; questions already
        being answered finish on the index they started with."""
        with self._lock:
            self._index = index

    @property
    def llm(self) -> LLM:
        with self._lock:
            if self._llm is None:
                s = self.settings
                self._llm = make_llm(
                    s.llm,
                    s.llm_backend,
                    s.openai_base_url,
                    s.openai_model,
                    s.openai_api_key,
                    s.llm_timeout,
                    s.cache_dir,
                    s.llm_threads,
                )
        return self._llm

    def _top_k(self, top_k: object) -> int:
        """top_k as given (None: the setting), or a clear ValueError. (An
        unknown doc is the retriever's to refuse: `Index.require_doc`.)"""
        top_k = self.settings.top_k if top_k is None else top_k
        if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= _MOST_HITS:
            raise ValueError(f"top_k 必须是 1 到 {_MOST_HITS} 之间的整数 (top_k must be an integer 1-{_MOST_HITS})")
        return top_k

    def retrieve(self, question: str, top_k: int | None = None, doc: str | None = None) -> list[Hit]:
        question = normalise(validate_question(question, self.settings.max_question_chars))
        top_k = self._top_k(top_k)
        index = self.index
        return Retriever(index, self.embedder, self.settings).retrieve(self._spelt(index, question)[0], top_k, doc)

    def _spelt(self, index: Index, question: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The question with its misspelt words put right (rag/spelling.py), if
        on, and what was put right."""
        return index.spelling.correct(question) if self.settings.spelling else (question, ())

    def _retrieve_parts(self, index: Index, question: str, top_k: int, doc: str | None) -> list[Hit]:
        """The question's hits, then those of each of its parts not yet found:
        the two halves of 去年多少?今年目标多少? often sit in different documents."""
        retriever = Retriever(index, self.embedder, self.settings)
        hits = retriever.retrieve(question, top_k, doc)
        parts = question_parts(question, self.settings.max_question_parts)
        for part in parts if len(parts) > 1 else []:
            seen = {(h.doc, h.paragraphs) for h in hits}
            hits += [h for h in retriever.retrieve(part, top_k, doc) if (h.doc, h.paragraphs) not in seen]
        return hits

    def _resolve(self, question: str, history: History | None) -> str:
        """The question, normalised and made self-contained with the
        conversation; no longer than a question may be. Earlier turns are
        cleaned like the question, and one too long to have been asked is
        ignored: a 180 KB history must not become a 180 KB question."""
        limit = self.settings.max_question_chars
        turns = []
        for turn in _user_turns(history):
            try:
                turns.append(normalise(validate_question(turn, limit)))
            except ValueError:
                continue
        resolved = resolve_follow_up(question, turns)
        return resolved if len(resolved) <= limit else question

    def ask_stream(
        self, question: str, top_k: int | None = None, history: History | None = None, doc: str | None = None
    ) -> Iterator[str | Answer]:
        """Yields answer text pieces (each already checked), then the final `Answer`.
        A question that can't be answered as put (empty, too long, asking
        nothing: 郑) raises ValueError with a hint, before any work."""
        question = validate_question(question, self.settings.max_question_chars)
        top_k = self._top_k(top_k)
        started = time.perf_counter()
        index = self.index  # one index for the whole answer, even if another is swapped in
        resolved = self._resolve(normalise(question), history)
        if not has_content(resolved, index.synonyms):
            raise ValueError(HINT)
        if not is_chinese(resolved):
            limit = self.settings.max_question_chars
            translated = to_chinese(resolved, self.llm, limit) if self.settings.translate else None
            translated = normalise(translated) if translated else ""
            if not has_content(translated, index.synonyms):
                yield ONLY_CHINESE
                yield Answer(question, ONLY_CHINESE, (), True, resolved_question=resolved)
                return
            resolved = translated
        resolved, respelt = self._spelt(index, resolved)
        hits = self._retrieve_parts(index, resolved, top_k, doc)
        retrieved = time.perf_counter()
        first = None
        for item in Composer(index, self.embedder, self.llm, self.settings).stream(question, resolved, hits):
            if isinstance(item, Answer):
                item = replace(item, respelt=respelt)
                done = time.perf_counter()
                item.timings.update(
                    retrieval=retrieved - started, first_text=(first or done) - started, total=done - started
                )
            elif first is None:
                first = time.perf_counter()
            yield item

    def ask(
        self, question: str, top_k: int | None = None, history: History | None = None, doc: str | None = None
    ) -> Answer:
        *_, answer = self.ask_stream(question, top_k, history, doc)
        return answer


@functools.lru_cache(maxsize=4)
def default_pipeline(settings: Settings | None = None) -> Pipeline:
    return Pipeline(settings or Settings())


def ask(
    question: str,
    top_k: int = 5,
    history: History | None = None,
    *,
    settings: Settings | None = None,
    doc: str | None = None,
) -> Answer:
    """Answer a question from the documents, with citations; see `Answer`."""
    return default_pipeline(settings).ask(question, top_k, history, doc)


def ask_stream(
    question: str,
    top_k: int = 5,
    history: History | None = None,
    *,
    settings: Settings | None = None,
    doc: str | None = None,
) -> Iterator[str | Answer]:
    """Like `ask`, yielding checked text pieces as they are ready, then the `Answer`."""
    return default_pipeline(settings).ask_stream(question, top_k, history, doc)


def retrieve(question: str, top_k: int = 5, *, settings: Settings | None = None, doc: str | None = None) -> list[Hit]:
    """The best chunks for a question, best first, without generating."""
    return default_pipeline(settings).retrieve(question, top_k, doc)
