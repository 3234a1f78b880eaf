"""Find the chunks that answer a question: dense and lexical rankings, fused.

The dense ranking (cosine over the FAISS index) catches paraphrase; the lexical
one (BM25 over jieba words and numbers, rag/lexical.py) catches the exact
names and figures citizens ask about. The two are fused with weighted
reciprocal-rank fusion, which needs no score calibration between them.

Deliberately not done here: deciding whether the hits answer the question
(rag/answering.py) and building the index (rag/index.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .chunks import Chunk
from .embeddings import Embedder
from .index import Index
from .settings import Settings

_RRF_K = 60  # the usual damping constant of reciprocal-rank fusion
_POOL = 50  # candidates taken from each ranking before fusion


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # fused score; higher is better
    dense: float  # cosine similarity of question and chunk
    lexical: float  # BM25 score (0 when no word matched)

    @property
    def doc(self) -> str:
        return self.chunk.doc

    @property
    def title(self) -> str:
        return self.chunk.title

    @property
    def section(self) -> str:
        return self.chunk.section

    @property
    def paragraphs(self) -> tuple[int, ...]:
        return self.chunk.paragraphs

    @property
    def text(self) -> str:
        return self.chunk.text


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings):
        self.index = index
        self.embedder = embedder
        self.settings = settings

    def retrieve(self, question: str, top_k: int | None = None, doc: str | None = None) -> list[Hit]:
        top_k = top_k or self.settings.top_k
        if self.settings.expand_queries:
            question = self.index.synonyms.expand(question)
        chunks = self.index.chunks
        # With a document filter, search deeper so the filter still leaves enough.
        pool = len(chunks) if doc else max(_POOL, top_k * 4)
        q = self.embedder.embed([question], "query")
        scores, ids = self.index.dense.search(q, min(pool, self.index.dense.ntotal))
        dense = {int(i): float(s) for i, s in zip(ids[0], scores[0]) if i >= 0}
        lexical_all = self.index.lexical.scores(question)
        lexical_top = np.argsort(-lexical_all)[:pool]
        lexical = {int(i): float(lexical_all[i]) for i in lexical_top if lexical_all[i] > 0}

        fused: dict[int, float] = {}
        for weight, ranking in ((self.settings.dense_weight, dense), (self.settings.lexical_weight, lexical)):
            ordered = sorted(ranking, key=ranking.__getitem__, reverse=True)
            for rank, i in enumerate(ordered):
                fused[i] = fused.get(i, 0.0) + weight / (_RRF_K + rank + 1)
        if doc:
            fused = {i: s for i, s in fused.items() if chunks[i].doc == doc}
        best = sorted(fused, key=fused.__getitem__, reverse=True)[:top_k]
        for i in best:  # a lexical-only hit still reports its cosine, for refusal
            if i not in dense:
                dense[i] = float(self.index.dense.reconstruct(i) @ q[0])
        return [Hit(chunks[i], fused[i], dense[i], float(lexical_all[i])) for i in best]
