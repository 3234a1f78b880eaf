"""Build, save and load the search index under `embeddings/`.

Layout of the index folder:

    embeddings/CURRENT            name of the build in use (replaced atomically)
    embeddings/build-<key>-<n>/   one complete build (<n> makes every save's name new):
        manifest.json             what it was built from, a checksum of each file,
                                  and its own checksum
        documents.jsonl           parsed documents (metadata and numbered paragraphs)
        chunks.jsonl              chunks, in vector order
        dense.faiss               FAISS inner-product index over normalised vectors
        sentences.jsonl/.npy      every sentence of every paragraph, and its vector
                                  (answer evidence is scored per sentence, see
                                  rag/answering.py; embedding them here keeps
                                  that off the question's critical path)
        lexical/                  BM25 term statistics (see rag/lexical.py)

`<key>` hashes everything the build depends on: the embedder, the chunk
settings (`structure` included), the index type and the SHA-256 of every source
file. How a build is made live so that no crash loses the index (the live one
is never touched until CURRENT names its successor), and how manifests are
checksummed, is rag/builds.py.
At load, a build whose key no longer matches the sources or settings is rebuilt,
and one whose manifest or files fail their checksums is rebuilt with a log line
saying so. A folder that can't be written is found before any embedding; see
`load_or_build` for what happens then.

Deliberately not done here: scoring and fusion (rag/retrieval.py), which
source files are read and how (rag/sources.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import faiss
import numpy as np
from tqdm import tqdm

from . import builds
from .builds import BuildError, unwritable
from .chunks import Chunk, chunk_documents
from .citations import split_sentences
from .documents import Document, Paragraph, heading_level, load_folder
from .embeddings import Embedder, make_embedder
from .lexical import LexicalIndex
from .settings import Settings
from .sources import scan
from .synonyms import Synonyms

log = logging.getLogger("rag")

FORMAT_VERSION = 10  # bump when the layout, parsing, chunk or lexical logic changes
_BATCH = 32


class IndexUnavailable(RuntimeError):
    """The index can't be built or loaded; the message says why."""


@dataclass
class Index:
    documents: dict[str, Document]
    chunks: list[Chunk]
    dense: faiss.Index
    lexical: LexicalIndex
    sentences: list[tuple[str, int, str]]  # (doc, paragraph number, sentence)
    sentence_vectors: np.ndarray
    manifest: dict = field(default_factory=dict)

    def paragraph(self, doc: str, number: int) -> Paragraph:
        return self.documents[doc].paragraph(number)

    def require_doc(self, name: str) -> Document:
        """The document with this file name; ValueError listing the valid names otherwise."""
        if name in self.documents:
            return self.documents[name]
        names = "、".join(sorted(self.documents))
        raise ValueError(f"没有名为 {name!r} 的文件 (unknown document); 可选的文件: {names}")

    @functools.cached_property
    def synonyms(self) -> Synonyms:
        years = [int(d.date[:4]) for d in self.documents.values() if d.date[:4].isdigit()]
        text = "".join(p.text for d in self.documents.values() for p in d.paragraphs)
        return Synonyms(text, max(years, default=None))

    def sentence_rows(self, doc: str, number: int) -> range:
        """Rows of `sentences` that belong to one paragraph."""
        return self._sentence_rows.get((doc, number), range(0))

    @functools.cached_property
    def _sentence_rows(self) -> dict[tuple[str, int], range]:
        rows: dict[tuple[str, int], range] = {}
        for i, (doc, number, _) in enumerate(self.sentences):
            r = rows.get((doc, number))
            rows[(doc, number)] = range(r.start, i + 1) if r else range(i, i + 1)
        return rows


def _is_label(sentence: str) -> bool:
    """A heading label ("1.做精做强主导产业。", "三是完成…搬迁改造。") or a title
    line: it names a topic but answers nothing."""
    body = sentence.rstrip("。；;：:")
    if heading_level(sentence) > 0:
        return len(body) <= 40
    # A line without punctuation or figures is a title; one with figures (a date,
    # a document number) can answer "when" and "which".
    return len(body) <= 60 and not re.search(r"[，,、。；;：:\d]", body)


def paragraph_sentences(docs: list[Document]) -> list[tuple[str, int, str]]:
    """Every sentence that can serve as evidence. Labels and titles are left out
    (they still count in the heading path and the embedded chunk text)."""
    return [
        (d.id, p.number, s)
        for d in docs
        for p in d.paragraphs
        if not p.is_heading
        for s in split_sentences(p.text)
        if not _is_label(s)
    ]


def identity(settings: Settings, embedder: Embedder) -> dict:
    """Everything a build depends on; its hash names the build."""
    return {
        "format": FORMAT_VERSION,
        "embedder": embedder.name,
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "structure": settings.structure,
        "index_type": settings.index_type,
        "ann_threshold": settings.ann_threshold,
        "max_doc_bytes": settings.max_doc_bytes,
        "sources": {s.name: s.sha256 for s in scan(settings.docs_dir).sources},
    }


def _key(ident: dict) -> str:
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]


def faiss_kind(size: int, index_type: str = "auto", threshold: int = 500_000) -> str:
    """What `make_faiss` builds for `size` vectors: "flat" or "hnsw"."""
    if index_type == "auto":
        return "flat" if size < threshold else "hnsw"
    return index_type


def make_faiss(vectors: np.ndarray, index_type: str = "auto", threshold: int = 500_000) -> faiss.Index:
    """Exact inner-product search for small corpora, an HNSW graph for large ones."""
    dim = vectors.shape[1]
    kind = faiss_kind(len(vectors), index_type, threshold)
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128  # measured: recall@10 vs exact rises with it, latency stays < 1 ms
    else:
        raise ValueError(f"unknown index_type {index_type!r} (flat, hnsw or auto)")
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def embed_texts(texts: list[str], embedder: Embedder, what: str, progress: bool = True) -> np.ndarray:
    batches = range(0, len(texts), _BATCH)
    bar = tqdm(batches, desc=f"Embedding {what}", unit="batch", disable=not progress or not texts)
    parts = [embedder.embed(texts[i : i + _BATCH], "passage") for i in bar]
    return np.concatenate(parts) if parts else np.zeros((0, 1), dtype=np.float32)


def build(settings: Settings, embedder: Embedder, progress: bool = True) -> Index:
    """Parse, chunk and embed every document of the docs folder, in memory."""
    # Hashed before reading: a source edited during the build then leaves the
    # saved build stale rather than claiming the new text.
    ident = identity(settings, embedder)
    docs, problems = load_folder(settings.docs_dir, settings.max_doc_bytes)
    for message in problems:
        log.warning("skipped document: %s", message)
    chunks = chunk_documents(docs, settings.chunk_size, settings.chunk_overlap, settings.structure)
    if not chunks:
        raise IndexUnavailable(f"no readable documents in {settings.docs_dir}")
    vectors = embed_texts([c.embed_text for c in chunks], embedder, "chunks", progress)
    sentences = paragraph_sentences(docs)
    sentence_vectors = embed_texts([s for _, _, s in sentences], embedder, "sentences", progress)
    manifest = ident | {
        "build": f"build-{_key(ident)}",
        "dim": int(vectors.shape[1]),
        "chunks": len(chunks),
        "skipped": problems,
    }
    return Index(
        documents={d.id: d for d in docs},
        chunks=chunks,
        dense=make_faiss(vectors, settings.index_type, settings.ann_threshold),
        lexical=LexicalIndex.build([c.embed_text for c in chunks]),
        sentences=sentences,
        sentence_vectors=sentence_vectors,
        manifest=manifest,
    )


# ---------------------------------------------------------------- persistence


def _doc_to_json(d: Document) -> dict:
    return asdict(d)


def _doc_from_json(obj: dict) -> Document:
    paragraphs = tuple(
        Paragraph(p["number"], p["text"], tuple(p["path"]), p["is_heading"]) for p in obj.pop("paragraphs")
    )
    return Document(paragraphs=paragraphs, **obj)


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


_REQUIRED = ("documents.jsonl", "chunks.jsonl", "dense.faiss", "sentences.jsonl", "sentences.npy", "lexical/")


def _write_files(index: Index, folder: Path) -> dict:
    _write_jsonl(folder / "documents.jsonl", (_doc_to_json(d) for d in index.documents.values()))
    _write_jsonl(folder / "chunks.jsonl", (asdict(c) for c in index.chunks))
    faiss.write_index(index.dense, str(folder / "dense.faiss"))
    index.lexical.save(folder / "lexical")
    _write_jsonl(folder / "sentences.jsonl", index.sentences)
    np.save(folder / "sentences.npy", index.sentence_vectors)
    return index.manifest


def save(index: Index, folder: Path) -> Path:
    """Write a build and make it CURRENT, never touching the live one until
    CURRENT names the new one (rag/builds.py); returns the build folder."""
    target, index.manifest = builds.publish(folder, index.manifest["build"], lambda tmp: _write_files(index, tmp))
    return target


def _changed(manifest: dict, expected: dict) -> list[str]:
    return [k for k, v in expected.items() if manifest.get(k) != v]


def load(folder: Path, expected: dict | None = None) -> Index:
    """Load the CURRENT build; IndexUnavailable if missing, stale (≠ expected) or corrupt."""
    try:
        build_dir, manifest = builds.current(folder)
        if expected is not None and (changed := _changed(manifest, expected)):
            raise IndexUnavailable(f"index in {build_dir} is stale (changed: {', '.join(changed)})")
        builds.verify(build_dir, manifest, _REQUIRED)
    except BuildError as e:
        raise IndexUnavailable(str(e)) from e
    try:
        docs = [_doc_from_json(o) for o in _read_jsonl(build_dir / "documents.jsonl")]
        chunks = [Chunk(**{**o, "paragraphs": tuple(o["paragraphs"])}) for o in _read_jsonl(build_dir / "chunks.jsonl")]
        dense = faiss.read_index(str(build_dir / "dense.faiss"))
        lexical = LexicalIndex.load(build_dir / "lexical")
        sentences = [tuple(row) for row in _read_jsonl(build_dir / "sentences.jsonl")]
        sentence_vectors = np.load(build_dir / "sentences.npy")
    except Exception as e:  # a checksum can't catch a bug in an older writer
        raise IndexUnavailable(f"index in {build_dir} can't be read: {e}") from e
    if dense.ntotal != len(chunks):
        raise IndexUnavailable(f"index in {build_dir} is inconsistent ({dense.ntotal} vectors, {len(chunks)} chunks)")
    if len(sentences) != len(sentence_vectors):
        raise IndexUnavailable(f"index in {build_dir} is inconsistent (sentences and their vectors differ)")
    return Index({d.id: d for d in docs}, chunks, dense, lexical, sentences, sentence_vectors, manifest)


def _stale_fallback(folder: Path, expected: dict, problem: str, reason: str) -> Index:
    """The intact build of a folder that can't be written, stale or not; an
    IndexUnavailable at once if there is none this embedder can search."""
    try:
        index = load(folder)
    except IndexUnavailable:
        raise IndexUnavailable(
            f"{problem}, and it holds no usable index ({reason}); make it writable or set index_dir elsewhere"
        ) from None
    changed = _changed(index.manifest, expected)
    if {"format", "embedder"} & set(changed):
        raise IndexUnavailable(f"{problem}, and its index was built with another embedder or format") from None
    log.warning("%s: answering from its index, built before these changes: %s", problem, ", ".join(changed))
    return index


def load_or_build(settings: Settings, embedder: Embedder | None = None, progress: bool = True) -> Index:
    """The index for these settings: loaded if current, otherwise rebuilt and saved.

    A folder that can't be written is found before any embedding. Its intact
    build is then used even if stale, with a warning naming what changed: the
    documents as last indexed beat rebuilding for minutes on every start and
    keeping nothing. Without one, IndexUnavailable says so at once. A save that
    fails after the build (disk full) keeps the built index in memory."""
    embedder = embedder or make_embedder(settings.embedder, settings.query_prefix, settings.passage_prefix)
    expected = identity(settings, embedder)
    try:
        return load(settings.index_dir, expected)
    except IndexUnavailable as e:
        reason = str(e)
    if problem := unwritable(settings.index_dir):
        return _stale_fallback(settings.index_dir, expected, problem, reason)
    log.info("building index: %s", reason)
    started = time.perf_counter()
    index = build(settings, embedder, progress)
    index.manifest["build_seconds"] = round(time.perf_counter() - started, 2)
    try:
        save(index, settings.index_dir)
    except OSError as e:
        log.warning("index could not be saved in %s (%s); using an in-memory index", settings.index_dir, e)
    return index
