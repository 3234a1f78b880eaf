"""The two systems the gold set is run through, behind one small interface.

- `Ours`: the project's pipeline (`Pipeline.retrieve` / `Pipeline.ask_stream`).
- `Baseline`: the recipe most Chinese RAG tutorials use: LangChain's
  `RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)` with its
  default separators over the raw files, the same embedder, FAISS inner-product
  top-k, and the same LLM given the same prompt as ours (the numbered chunks,
  answer with [n] markers), its output taken as is: no constraint, no checking.
  Its citations are the chunks its markers name.

Both return plain `Result`s, so every metric is computed the same way for both.
Deliberately not done here: metrics (eval/metrics.py) and reports.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import faiss

from rag import Pipeline
from rag.answering import build_prompt
from rag.backends.faiss_bm25 import make_faiss
from rag.embeddings import Embedder
from rag.sources import read_text, source_files


@dataclass
class Cited:
    doc: str
    paragraph: int | None  # None for a baseline chunk, which is no paragraph
    text: str


@dataclass
class Result:
    text: str
    refused: bool
    cited: list[Cited]
    support: float | None = None  # ours only: the refusal signal
    dropped: list[str] = field(default_factory=list)
    error: str = ""
    first_text: float = 0.0  # seconds from the call to the first text piece
    total: float = 0.0  # seconds from the call to the complete answer


class Ours:
    name = "ours"

    def __init__(self, pipe: Pipeline):
        self.pipe = pipe

    def warm(self, answering: bool) -> None:
        """Load the index and models now, so that no item's latency includes them."""
        self.pipe.retrieve("预热", 1)
        if answering:
            list(self.pipe.llm.stream("你好", max_tokens=1))

    def retrieve(self, question: str, top_k: int) -> list[str]:
        return [h.text for h in self.pipe.retrieve(question, top_k)]

    def answer(self, question: str, top_k: int) -> Result:
        started = time.perf_counter()
        first = None
        for item in self.pipe.ask_stream(question, top_k):
            if isinstance(item, str):
                first = first or time.perf_counter()
                continue
            done = time.perf_counter()
            return Result(
                text=item.text,
                refused=item.refused,
                cited=[Cited(c.doc, c.paragraph, c.text) for c in item.citations],
                support=item.support,
                dropped=list(item.dropped),
                error=item.error,
                first_text=(first or done) - started,
                total=done - started,
            )
        raise RuntimeError("ask_stream ended without an Answer")


def naive_index(docs_dir: Path, embedder: Embedder) -> tuple[list[tuple[str, str]], faiss.Index]:
    """The tutorial recipe's index: (file name, chunk text) pairs and FAISS over them."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)
    chunks = [(p.name, c) for p in source_files(docs_dir) for c in splitter.split_text(read_text(p))]
    vectors = embedder.embed([c for _, c in chunks], "passage")
    return chunks, make_faiss(vectors, "flat")


# A baseline answer counts as a refusal when it says so in any usual wording.
BASELINE_REFUSALS = ("没有相关信息", "无法回答", "无法根据")
_MARKER = re.compile(r"\[(\d{1,2})\]")


class Baseline:
    name = "baseline"

    def __init__(self, pipe: Pipeline, docs_dir: Path | None = None, max_tokens: int = 160):
        # Same embedder and LLM objects as ours: the recipe is what differs.
        self.pipe = pipe
        self.docs_dir = Path(docs_dir or pipe.settings.docs_dir)
        self.max_tokens = max_tokens
        self._chunks: list[tuple[str, str]] | None = None  # (file name, chunk text)
        self._faiss = None

    def _build(self) -> None:
        self._chunks, self._faiss = naive_index(self.docs_dir, self.pipe.embedder)

    def warm(self, answering: bool) -> None:
        self.search("预热", 1)
        if answering:
            list(self.pipe.llm.stream("你好", max_tokens=1))

    def search(self, question: str, top_k: int) -> list[tuple[str, str]]:
        if self._faiss is None:
            self._build()
        q = self.pipe.embedder.embed([question], "query")
        _, ids = self._faiss.search(q, min(top_k, self._faiss.ntotal))
        return [self._chunks[i] for i in ids[0] if i >= 0]

    def retrieve(self, question: str, top_k: int) -> list[str]:
        return [text for _, text in self.search(question, top_k)]

    def answer(self, question: str, top_k: int) -> Result:
        started = time.perf_counter()
        hits = self.search(question, top_k)
        prompt = build_prompt(question, [text for _, text in hits])
        first = None
        pieces = []
        for piece in self.pipe.llm.stream(prompt, max_tokens=self.max_tokens):
            first = first or time.perf_counter()
            pieces.append(piece)
        done = time.perf_counter()
        text = "".join(pieces).strip()
        named = dict.fromkeys(int(m) for m in _MARKER.findall(text) if 0 < int(m) <= len(hits))
        return Result(
            text=text,
            refused=any(r in text for r in BASELINE_REFUSALS),
            cited=[Cited(hits[m - 1][0], None, hits[m - 1][1]) for m in named],
            first_text=(first or done) - started,
            total=done - started,
        )
