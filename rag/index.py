"""Build, save and load the search index under `embeddings/`.

Layout of the index folder:

    embeddings/CURRENT            name of the build in use (replaced atomically)
    embeddings/build-<key>-<n>/   one complete build (<n> makes every save's name new):
        manifest.json             what it was built from, a checksum of each file,
                                  and its own checksum
        documents.jsonl           parsed documents (metadata and numbered paragraphs)
        chunks.jsonl              chunks, in vector order
        sentences.jsonl/.npy      every sentence of every paragraph, and its vector
                                  (answer evidence is scored per sentence, see
                                  rag/answering.py; embedding them here keeps
                                  that off the question's critical path)
        dense.faiss, lexical/     the default search engine's files (FAISS over
                                  unit vectors; BM25 statistics and tokens, see
                                  rag/lexical.py); another engine keeps its data
                                  elsewhere and names it in the manifest
                                  (rag/backends/)

`<key>` hashes everything the build depends on: the embedder, the chunk
settings (`structure` included), the index type and the SHA-256 of every source
file. How a build is made live so that no crash loses the index (the live one
is never touched until CURRENT names its successor), and how manifests are
checksummed, is rag/builds.py.
A build is incremental (`update`): a document whose source file is unchanged
since the live build keeps its chunks, sentences, vectors and tokens, so adding
or editing a file embeds only that file, and a removed file's rows are dropped;
only another embedder, chunking, engine or format embeds everything again. The
result is the same as a full build's (documents in name order; tests compare).
At load, a build whose key no longer matches the sources or settings is brought
up to date that way, and one whose manifest or files fail their checksums is
rebuilt with a log line saying so. A folder that can't be written is found before any embedding; see
`load_or_build` for what happens then.

Deliberately not done here: scoring and fusion (rag/retrieval.py), which
source files are read and how (rag/sources.py), the format of a build's own
files (rag/index_files.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import builds, index_files
from .backends import SearchBackend, backend_identity, empty_backend, load_backend, required_files
from .builds import BuildError, unwritable
from .chunks import Chunk, chunk_document
from .citations import split_sentences
from .documents import Document, Paragraph, load_sources
from .embeddings import Embedder, EmbeddingError, embedder_for
from .headings import is_label
from .ocr import default_recognizer
from .settings import Settings
from .sources import Scan, scan
from .spelling import Spelling
from .synonyms import Synonyms

log = logging.getLogger("rag")

FORMAT_VERSION = 17  # bump when the layout, parsing, chunk or lexical logic changes
_BATCH = 32


class IndexUnavailable(RuntimeError):
    """The index can't be built or loaded; the message says why."""


@dataclass
class Index:
    documents: dict[str, Document]
    chunks: list[Chunk]
    search: SearchBackend  # dense and lexical search over `chunks` (rag/backends/)
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

    def require_dim(self, vectors: np.ndarray) -> None:
        """EmbeddingError unless the vectors are as long as the index's: another
        model behind the same embedding server URL gives vectors of another
        length, which no search of this index can take."""
        have, got = self.sentence_vectors.shape[1], vectors.shape[1]
        if len(vectors) and got != have:
            raise EmbeddingError(
                f"the embedder now gives {got}-dimensional vectors, the index holds {have}-dimensional ones "
                f"(another model behind the same URL?); rebuild it: python -m rag index"
            )

    @functools.cached_property
    def text(self) -> str:
        """Every paragraph of the documents, in one string: where a word of the documents is looked up."""
        return "".join(p.text for d in self.documents.values() for p in d.paragraphs)

    @functools.cached_property
    def lowered_text(self) -> str:
        """`text` lowercased, as a question's words are (5G is 5g): where a question's word is looked up."""
        return self.text.lower()

    @functools.cached_property
    def synonyms(self) -> Synonyms:
        years = [int(d.date[:4]) for d in self.documents.values() if d.date[:4].isdigit()]
        return Synonyms(self.text, max(years, default=None))

    @functools.cached_property
    def spelling(self) -> Spelling:
        return Spelling(self.text)

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


def paragraph_sentences(docs: list[Document]) -> list[tuple[str, int, str]]:
    """Every sentence that can serve as evidence. Labels and titles are left out
    (they still count in the heading path and the embedded chunk text)."""
    return [
        (d.id, p.number, s)
        for d in docs
        for p in d.paragraphs
        if not p.is_heading
        for s in split_sentences(p.text)
        if not is_label(s)
    ]


def identity(settings: Settings, embedder: Embedder, found: Scan | None = None) -> dict:
    """Everything a build depends on; its hash names the build."""
    found = found or scan(settings.docs_dir)
    return {
        "format": FORMAT_VERSION,
        "embedder": embedder.name,
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "structure": settings.structure,
        "index_type": settings.index_type,
        "ann_threshold": settings.ann_threshold,
        "max_doc_bytes": settings.max_doc_bytes,
        "max_file_bytes": settings.max_file_bytes,
        "ocr": settings.ocr,
        "index_backend": backend_identity(settings),
        "sources": {s.name: s.sha256 for s in found.sources},
    }


def _key(ident: dict) -> str:
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]


def embed_texts(texts: list[str], embedder: Embedder, what: str, progress: bool = True) -> np.ndarray:
    batches = range(0, len(texts), _BATCH)
    # Closed on an error too, so the message that follows starts on its own line.
    with tqdm(batches, desc=f"Embedding {what}", unit="batch", disable=not progress or not texts) as bar:
        parts = [embedder.embed(texts[i : i + _BATCH], "passage") for i in bar]
    return np.concatenate(parts) if parts else np.zeros((0, 1), dtype=np.float32)


def build(settings: Settings, embedder: Embedder, progress: bool = True) -> Index:
    """Parse, chunk and embed every document of the docs folder, in memory."""
    return update(settings, embedder, None, progress)


def _reusable(live: Index | None, ident: dict) -> bool:
    """Whether `live`'s vectors serve a build of `ident`: only sources differ."""
    return live is not None and not set(_changed(live.manifest, ident)) - {"sources"}


def update(
    settings: Settings, embedder: Embedder, live: Index | None, progress: bool = True, found: Scan | None = None
) -> Index:
    """The index of the docs folder as it is now, in memory. Documents whose
    source is unchanged since `live` was built keep its chunks, sentences,
    vectors and tokens; only new and changed files are parsed and embedded, and
    removed ones are dropped. Without a usable `live` everything is built.
    `found` is the folder's scan when the caller has just taken it."""
    # Hashed before reading: a source edited during the build then leaves the
    # saved build stale rather than claiming the new text.
    found = found or scan(settings.docs_dir)
    ident = identity(settings, embedder, found)
    live = live if _reusable(live, ident) else None
    before = live.manifest["sources"] if live else {}
    kept = {
        s.name: live.documents[s.name]
        for s in found.sources
        if before.get(s.name) == s.sha256 and s.name in live.documents
    }
    fresh = [s for s in found.sources if s.name not in kept]
    ocr = default_recognizer() if settings.ocr and fresh else None
    new_docs, problems = load_sources(fresh, settings.max_doc_bytes, settings.max_file_bytes, ocr, kept.values())
    problems = list(found.skipped) + problems
    for message in problems:
        log.warning("skipped document: %s", message)
    docs = sorted([*kept.values(), *new_docs], key=lambda d: d.id)

    chunk_rows: dict[str, list[int]] = {}
    sentence_rows: dict[str, list[int]] = {}
    if live:
        for i, c in enumerate(live.chunks):
            chunk_rows.setdefault(c.doc, []).append(i)
        for i, (doc, _, _) in enumerate(live.sentences):
            sentence_rows.setdefault(doc, []).append(i)
    chunks: list[Chunk] = []
    old_rows: list[int | None] = []
    sentences: list[tuple[str, int, str]] = []
    old_sentences: list[int | None] = []
    for d in docs:
        if d.id in kept:
            chunks += [live.chunks[i] for i in chunk_rows.get(d.id, [])]
            old_rows += chunk_rows.get(d.id, [])
            sentences += [live.sentences[i] for i in sentence_rows.get(d.id, [])]
            old_sentences += sentence_rows.get(d.id, [])
        else:
            new = chunk_document(d, settings.chunk_size, settings.chunk_overlap, settings.structure)
            chunks += new
            old_rows += [None] * len(new)
            said = paragraph_sentences([d])
            sentences += said
            old_sentences += [None] * len(said)
    if not chunks:
        raise IndexUnavailable(f"no readable documents in {settings.docs_dir}")
    new_chunks = [c.embed_text for c, r in zip(chunks, old_rows) if r is None]
    new_sentences = [s for (_, _, s), r in zip(sentences, old_sentences) if r is None]
    vectors = embed_texts(new_chunks, embedder, "chunks", progress)
    sentence_vectors = embed_texts(new_sentences, embedder, "sentences", progress)
    if live:
        live.require_dim(vectors)
        live.require_dim(sentence_vectors)

    dim = int(live.sentence_vectors.shape[1] if live else (vectors if len(new_chunks) else sentence_vectors).shape[1])
    base = live.search if live else empty_backend(settings, dim)
    now = time.strftime("%Y-%m-%dT%H:%M:%S")
    added = live.manifest.get("added", {}) if live else {}
    manifest = ident | {
        "build": f"build-{_key(ident)}",
        "dim": dim,
        "chunks": len(chunks),
        "skipped": problems,
        "added": {d.id: added.get(d.id, now) if d.id in kept else now for d in docs},
        "reused_chunks": len(chunks) - len(new_chunks),
    }
    return Index(
        documents={d.id: d for d in docs},
        chunks=chunks,
        search=base.updated(chunks, old_rows, vectors, {d.id: d for d in docs}),
        sentences=sentences,
        sentence_vectors=_assemble(live.sentence_vectors if live else None, old_sentences, sentence_vectors, dim),
        manifest=manifest,
    )


def _assemble(old: np.ndarray | None, rows: list[int | None], new: np.ndarray, dim: int) -> np.ndarray:
    """Rows of `old` where `rows` names one, the next of `new` where it is None."""
    out = np.zeros((len(rows), dim), np.float32)
    fresh = np.array([r is None for r in rows], dtype=bool)
    if fresh.any():
        out[fresh] = new
    if old is not None and (~fresh).any():
        out[~fresh] = old[[r for r in rows if r is not None]]
    return out


def _write_files(index: Index, folder: Path) -> dict:
    index_files.write(folder, index.documents.values(), index.chunks, index.sentences, index.sentence_vectors)
    return index.manifest | index.search.save(folder)


def save(index: Index, folder: Path) -> Path:
    """Write a build and make it CURRENT, never touching the live one until
    CURRENT names the new one (rag/builds.py); returns the build folder."""
    target, index.manifest = builds.publish(folder, index.manifest["build"], lambda tmp: _write_files(index, tmp))
    index.search.published()
    return target


def _changed(manifest: dict, expected: dict) -> list[str]:
    return [k for k, v in expected.items() if manifest.get(k) != v]


def load(folder: Path, expected: dict | None = None) -> Index:
    """Load the CURRENT build; IndexUnavailable if missing, stale (≠ expected) or corrupt."""
    try:
        build_dir, manifest = builds.current(folder)
        if expected is not None and (changed := _changed(manifest, expected)):
            raise IndexUnavailable(f"index in {build_dir} is stale (changed: {', '.join(changed)})")
        builds.verify(build_dir, manifest, index_files.REQUIRED + required_files(manifest.get("engine", "")))
    except BuildError as e:
        raise IndexUnavailable(str(e)) from e
    try:
        docs, chunks, sentences, sentence_vectors = index_files.read(build_dir)
        search = load_backend(build_dir, manifest, chunks)
    except Exception as e:  # a checksum can't catch a bug in an older writer, nor a gone engine
        raise IndexUnavailable(f"index in {build_dir} can't be read: {e}") from e
    if len(sentences) != len(sentence_vectors):
        raise IndexUnavailable(f"index in {build_dir} is inconsistent (sentences and their vectors differ)")
    return Index({d.id: d for d in docs}, chunks, search, sentences, sentence_vectors, manifest)


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
    embedder = embedder or embedder_for(settings)
    expected = identity(settings, embedder)
    try:
        return load(settings.index_dir, expected)
    except IndexUnavailable as e:
        reason = str(e)
    if problem := unwritable(settings.index_dir):
        return _stale_fallback(settings.index_dir, expected, problem, reason)
    log.info("updating index: %s", reason)
    index, _ = refresh(settings, embedder, progress)
    return index


def live_or_none(folder: Path) -> Index | None:
    """The live build, stale or not, or None when there is none intact."""
    try:
        return load(folder)
    except IndexUnavailable:
        return None


def refresh(settings: Settings, embedder: Embedder, progress: bool = True) -> tuple[Index, bool]:
    """Bring the saved index up to the docs folder, embedding only what changed
    since the live build (`update`), and make it live; (index, whether anything
    changed). One refresh at a time per index folder: two processes adding files
    at once each see the other's. A save that fails after embedding (disk full)
    keeps the new index in memory, with a warning."""
    folder = settings.index_dir
    with builds.updating(folder):
        live = live_or_none(folder)
        found = scan(settings.docs_dir)  # hashed once, before anything is read (see `update`)
        if live is not None and not _changed(live.manifest, identity(settings, embedder, found)):
            return live, False
        started = time.perf_counter()
        index = update(settings, embedder, live, progress, found)
        index.manifest["build_seconds"] = round(time.perf_counter() - started, 2)
        try:
            save(index, folder)
        except OSError as e:
            log.warning("index could not be saved in %s (%s); using an in-memory index", folder, e)
        return index, True
