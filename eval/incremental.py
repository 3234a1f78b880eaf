"""`python -m eval incremental`: what adding and removing one document costs, printed.

A corpus of CMRC 2018 passages (each one document, as eval/cmrc.py writes
them) is indexed into a temporary folder; then one seed (the largest,
004: the 18,000-character 2024 plan, about 20 pages) is added with
`python -m rag add`'s code (rag/library.py), a question about it asked, and it
is removed again. The same add is timed into a corpus of the other seeds
alone, so the two add times show whether the cost follows the document or the
corpus. Each add is split into embedding (the new chunks and sentences) and
the rest (parsing, BM25 statistics over stored tokens, writing and publishing
the build); BM25 rebuilt from stored tokens is timed beside tokenizing every
chunk again.

Deliberately not done here: asserting anything (the figures depend on the
machine and on whatever else runs on it).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from rag import Pipeline, Settings, library
from rag.embeddings import embedder_for
from rag.index import refresh
from rag.lexical import LexicalIndex

from . import cmrc

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "004_7c7b9bfef2df6a5e.txt"
QUESTION = "2024年郑州市地区生产总值预期增长多少?"


class Timed:
    """An embedder that adds up the seconds spent embedding."""

    def __init__(self, embedder):
        self._embedder, self.name, self.seconds = embedder, embedder.name, 0.0

    def embed(self, texts, kind):
        started = time.perf_counter()
        try:
            return self._embedder.embed(texts, kind)
        finally:
            self.seconds += time.perf_counter() - started


def _add_and_remove(settings: Settings, embedder, label: str, show) -> dict:
    index, _ = refresh(settings, embedder, progress=False)
    timed = Timed(embedder)
    started = time.perf_counter()
    change = library.add(settings, [SEED], timed, progress=False)
    add_s = time.perf_counter() - started
    embedded = sum(c.doc == SEED.name for c in change.index.chunks)
    pipe = Pipeline(settings, embedder=embedder, index=change.index)
    started = time.perf_counter()
    answer = pipe.ask(QUESTION)
    ask_s = time.perf_counter() - started
    cited = any(c.doc == SEED.name for c in answer.citations)
    started = time.perf_counter()
    library.remove(settings, [SEED.name], timed, progress=False)
    remove_s = time.perf_counter() - started
    tokens = index.search.lexical_index.tokens if settings.index_backend == "faiss" else None
    f = {
        "corpus_documents": len(index.documents),
        "corpus_chunks": len(index.chunks),
        "add_s": add_s,
        "embed_s": timed.seconds,
        "added_chunks": embedded,
        "ask_s": ask_s,
        "answered": cited and not answer.refused,
        "remove_s": remove_s,
    }
    show(
        f"add 004 to {label}",
        f"{add_s:.1f} s ({timed.seconds:.1f} s embedding {embedded} chunks and their sentences, "
        f"{add_s - timed.seconds:.1f} s the rest) into {f['corpus_documents']} documents, {f['corpus_chunks']} chunks",
    )
    show(f"  then asked ({label})", f"{'answered from 004' if f['answered'] else 'NOT answered'} in {ask_s:.2f} s")
    show(f"  remove 004 ({label})", f"{remove_s:.1f} s")
    if tokens:
        started = time.perf_counter()
        LexicalIndex.from_tokens(tokens)
        f["bm25_from_tokens_s"] = time.perf_counter() - started
        started = time.perf_counter()
        LexicalIndex.build([c.embed_text for c in index.chunks])
        f["bm25_tokenize_s"] = time.perf_counter() - started
        show(
            f"  BM25 over {label}",
            f"{f['bm25_from_tokens_s']:.2f} s from stored tokens, {f['bm25_tokenize_s']:.2f} s tokenizing again",
        )
    return f


def run_incremental(settings: Settings, cmrc_path: Path, passages: int = 200, show=None) -> dict:
    show = show or (lambda label, value: print(f"{label:<34} {value}", flush=True))
    embedder = embedder_for(settings)
    figures = {}
    with tempfile.TemporaryDirectory(prefix="incremental-") as tmp:
        tmp = Path(tmp)
        seeds = tmp / "seeds"
        seeds.mkdir()
        for f in sorted((ROOT / "seeds").glob("*.txt")):
            if f.name != SEED.name:
                shutil.copy(f, seeds / f.name)
        small = settings.with_(docs_dir=seeds, index_dir=tmp / "seeds-index", milvus_uri=str(tmp / "seeds.db"))
        figures["seeds"] = _add_and_remove(small, embedder, "the other seeds", show)

        corpus = tmp / "cmrc"
        corpus.mkdir()
        for p in cmrc.load(cmrc_path)[0][:passages]:
            (corpus / cmrc.doc_name(p)).write_text(f"{p['title']}\n{p['context']}\n", encoding="utf-8")
        big = settings.with_(docs_dir=corpus, index_dir=tmp / "cmrc-index", milvus_uri=str(tmp / "cmrc.db"))
        started = time.perf_counter()
        refresh(big, embedder, progress=True)
        figures["cmrc_build_s"] = time.perf_counter() - started
        show(f"index {passages} CMRC passages", f"{figures['cmrc_build_s']:.1f} s (whole corpus, once)")
        figures["cmrc"] = _add_and_remove(big, embedder, f"{passages} CMRC passages", show)
    return figures
