"""Build, save and load the search index under `embeddings/`.

Layout of the index folder:

    embeddings/CURRENT            name of the build in use (replaced atomically)
    embeddings/build-<key>/       one complete build:
        manifest.json             what it was built from, and a checksum of each file
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
file. A build is written to a temporary folder and renamed into place before
CURRENT is switched, so a crash at any point leaves the previous build usable.
At load, a build whose key no longer matches the sources or settings is rebuilt,
and one whose files fail their checksums is rebuilt with a log line saying so.
If the folder can't be written, the index is kept in memory with a warning.

Deliberately not done here: scoring and fusion (rag/retrieval.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import faiss
import numpy as np
from tqdm import tqdm

from .chunks import Chunk, chunk_documents
from .citations import split_sentences
from .documents import Document, Paragraph, heading_level, load_folder, source_files
from .embeddings import Embedder, make_embedder
from .lexical import LexicalIndex
from .settings import Settings
from .synonyms import Synonyms

log = logging.getLogger("rag")

FORMAT_VERSION = 8  # bump when the layout or chunk/lexical logic changes
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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
        "sources": {p.name: _sha256(p) for p in source_files(settings.docs_dir)},
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
    docs, problems = load_folder(settings.docs_dir, settings.max_doc_bytes)
    for message in problems:
        log.warning("skipped document: %s", message)
    chunks = chunk_documents(docs, settings.chunk_size, settings.chunk_overlap, settings.structure)
    if not chunks:
        raise IndexUnavailable(f"no readable documents in {settings.docs_dir}")
    vectors = embed_texts([c.embed_text for c in chunks], embedder, "chunks", progress)
    sentences = paragraph_sentences(docs)
    sentence_vectors = embed_texts([s for _, _, s in sentences], embedder, "sentences", progress)
    ident = identity(settings, embedder)
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


def save(index: Index, folder: Path) -> Path:
    """Write a build atomically and make it CURRENT; returns the build folder."""
    folder.mkdir(parents=True, exist_ok=True)
    name = index.manifest["build"]
    tmp = folder / f".tmp-{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    _write_jsonl(tmp / "documents.jsonl", (_doc_to_json(d) for d in index.documents.values()))
    _write_jsonl(tmp / "chunks.jsonl", (asdict(c) for c in index.chunks))
    faiss.write_index(index.dense, str(tmp / "dense.faiss"))
    index.lexical.save(tmp / "lexical")
    _write_jsonl(tmp / "sentences.jsonl", index.sentences)
    np.save(tmp / "sentences.npy", index.sentence_vectors)
    files = {p.relative_to(tmp).as_posix(): _sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
    manifest = index.manifest | {"files": files, "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    for p in tmp.rglob("*"):
        if p.is_dir():
            continue
        with open(p, "rb") as f:
            os.fsync(f.fileno())
    target = folder / name
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    _write_current(folder, name)
    for old in folder.glob("build-*"):
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    for tmp_left in folder.glob(".tmp-*"):  # left by a build that was killed
        if not _alive(int(tmp_left.name.rsplit("-", 1)[-1] or 0)):
            shutil.rmtree(tmp_left, ignore_errors=True)
    index.manifest = manifest
    return target


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return pid > 0


def _write_current(folder: Path, name: str) -> None:
    tmp = folder / f".CURRENT-{os.getpid()}"
    tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(tmp, folder / "CURRENT")


def load(folder: Path, expected: dict | None = None) -> Index:
    """Load the CURRENT build; IndexUnavailable if missing, stale (≠ expected) or corrupt."""
    try:
        name = (folder / "CURRENT").read_text(encoding="utf-8").strip()
        build_dir = folder / name
        manifest = json.loads((build_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise IndexUnavailable(f"no usable index in {folder}: {e}") from e
    if expected is not None and any(manifest.get(k) != v for k, v in expected.items()):
        changed = [k for k, v in expected.items() if manifest.get(k) != v]
        raise IndexUnavailable(f"index in {build_dir} is stale (changed: {', '.join(changed)})")
    for fname, digest in manifest.get("files", {}).items():
        path = build_dir / fname
        if not path.exists() or _sha256(path) != digest:
            raise IndexUnavailable(f"index file {path} is missing or corrupted (checksum mismatch)")
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


def load_or_build(settings: Settings, embedder: Embedder | None = None, progress: bool = True) -> Index:
    """The index for these settings: loaded if current, otherwise rebuilt and saved."""
    embedder = embedder or make_embedder(settings.embedder, settings.query_prefix, settings.passage_prefix)
    expected = identity(settings, embedder)
    try:
        return load(settings.index_dir, expected)
    except IndexUnavailable as e:
        log.info("building index: %s", e)
    started = time.perf_counter()
    index = build(settings, embedder, progress)
    index.manifest["build_seconds"] = round(time.perf_counter() - started, 2)
    try:
        save(index, settings.index_dir)
    except OSError as e:
        log.warning("index folder %s is not writable (%s); using an in-memory index", settings.index_dir, e)
    return index
