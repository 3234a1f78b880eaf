"""Milvus as the search engine: one collection, dense and BM25 search inside it.

`Settings(index_backend="milvus", milvus_uri=…)`: a local path (`….db`) runs
Milvus Lite in-process (the `milvus-lite` package); an `http://host:19530` URI
talks to Milvus Standalone or Distributed with the same code.

One collection per index folder and embedder holds a row per chunk: its unit
vector (FLAT index, inner product: exact, like FAISS flat), the chunk text,
its BM25 terms as a sparse vector made by Milvus's own BM25 function, and the
metadata fields doc, section, paragraph, agency and date (the `--doc` filter
is a Milvus filter on doc). The two rankings are fused in rag/retrieval.py as
FAISS's are: reciprocal rank, the same constants.

What BM25 reads (`Settings.milvus_lexical`): "ours" feeds it the tokens our
own lexical index uses (jieba search-mode words, numbers and character bigrams,
rag/lexical.py), each written as one ASCII word because Milvus Lite's
tokenizers are only "standard" (which splits Chinese into characters) and
"jieba"; with BM25's k1 and b set as bm25s's, the lexical ranking is ours.
"chinese" lets Milvus analyse the chunk text with its Chinese analyzer
(jieba, without our bigrams and number tokens).

A row's key is the chunk id and a hash of its text, so an update inserts only
new chunks' rows (an upsert: a killed add's leftovers are overwritten), and
rows of builds no longer live are deleted once the new build is (`published`).
Until then searches ignore rows the live build doesn't list, so a build killed
mid-add leaves the previous one answering exactly as before.

Deliberately not done here: documents, sentences and their vectors, which stay
in the build folder (rag/index.py); fusion (rag/retrieval.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..chunks import Chunk
from ..documents import Document
from ..lexical import index_tokens, text_tokens
from ..settings import Settings

_BATCH = 512  # rows per insert or query
_SLACK = 64  # extra results asked for, in case rows of a build not yet deleted come back
_LIMIT = 16_384  # Milvus's largest top-k
_BM25 = {"bm25_k1": 1.5, "bm25_b": 0.75}  # bm25s's defaults, so BM25 ranks as ours does


@functools.cache
def _client(uri: str):
    from pymilvus import MilvusClient

    if "://" not in uri:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    return MilvusClient(uri)


def _word(token: str) -> str:
    """A token as one ASCII word, which any Milvus tokenizer keeps whole."""
    return "w" + hashlib.blake2b(token.encode(), digest_size=8).hexdigest()


def _terms(tokens: Sequence[str]) -> str:
    return " ".join(_word(t) for t in tokens)


def _key(c: Chunk) -> str:
    return f"{c.id}@{hashlib.sha256(c.embed_text.encode()).hexdigest()[:16]}"


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def collection_name(settings: Settings, dim: int) -> str:
    """One collection per index folder, embedder and lexical mode."""
    what = [
        str(Path(settings.index_dir).resolve()),
        settings.embedder,
        settings.query_prefix,
        settings.passage_prefix,
        str(dim),
        settings.milvus_lexical,
    ]
    if settings.embedder == "openai":
        # Rows are reused by chunk text: another server's vectors must not be.
        what += [settings.embedder_base_url, settings.embedder_model, str(settings.embedder_input_type)]
    return "govrag_" + hashlib.sha256("\0".join(what).encode()).hexdigest()[:16]


class MilvusBackend:
    name = "milvus"

    def __init__(self, uri: str, collection: str, lexical_mode: str, chunks: Sequence[Chunk], touched=None):
        self.uri, self.collection, self.lexical_mode = uri, collection, lexical_mode
        self._keys = [_key(c) for c in chunks]
        self._rows = {k: i for i, k in enumerate(self._keys)}
        self._chunks = list(chunks)
        self._touched = touched  # docs whose stale rows `published` deletes (None: any)

    @property
    def _db(self):
        return _client(self.uri)

    @classmethod
    def empty(cls, settings: Settings, dim: int) -> MilvusBackend:
        from . import milvus_uri

        if settings.milvus_lexical not in ("ours", "chinese"):
            raise ValueError(f"unknown milvus_lexical {settings.milvus_lexical!r} (ours or chinese)")
        backend = cls(milvus_uri(settings), collection_name(settings, dim), settings.milvus_lexical, [], None)
        backend._create(dim)
        return backend

    @classmethod
    def load(cls, manifest: dict, chunks: Sequence[Chunk]) -> MilvusBackend:
        backend = cls(manifest["milvus_uri"], manifest["collection"], manifest["milvus_lexical"], chunks, set())
        db = backend._db
        if not db.has_collection(backend.collection):
            raise ValueError(f"Milvus collection {backend.collection} is gone from {backend.uri}")
        db.load_collection(backend.collection)
        rows = int(db.get_collection_stats(backend.collection)["row_count"])
        if rows < len(chunks):
            raise ValueError(f"Milvus collection {backend.collection} holds {rows} rows for {len(chunks)} chunks")
        return backend

    def _create(self, dim: int) -> None:
        from pymilvus import DataType, Function, FunctionType

        db = self._db
        if db.has_collection(self.collection):
            return
        schema = db.create_schema(auto_id=False)
        schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=1024)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("text", DataType.VARCHAR, max_length=65_535)
        analyzer = {"type": "chinese"} if self.lexical_mode == "chinese" else {"tokenizer": "standard"}
        schema.add_field("terms", DataType.VARCHAR, max_length=65_535, enable_analyzer=True, analyzer_params=analyzer)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("doc", DataType.VARCHAR, max_length=1024)
        schema.add_field("section", DataType.VARCHAR, max_length=4096)
        schema.add_field("paragraph", DataType.INT64)
        schema.add_field("agency", DataType.VARCHAR, max_length=1024)
        schema.add_field("date", DataType.VARCHAR, max_length=32)
        schema.add_function(
            Function(
                name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"], output_field_names=["sparse"]
            )
        )
        index = db.prepare_index_params()
        index.add_index("vector", index_type="FLAT", metric_type="IP")
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params=_BM25)
        db.create_collection(self.collection, schema=schema, index_params=index, consistency_level="Strong")

    def _filter(self, doc: str | None) -> str:
        return f"doc == {_quoted(doc)}" if doc is not None else ""

    def _ranked(self, hits, k: int, score) -> dict[int, float]:
        out: dict[int, float] = {}
        for h in hits:
            row = self._rows.get(h["pk"] if "pk" in h else h["id"])
            if row is not None and len(out) < k:
                out[row] = score(float(h["distance"]))
        return out

    def dense(self, query: np.ndarray, k: int, doc: str | None = None) -> dict[int, float]:
        found = self._db.search(
            self.collection,
            [np.asarray(query, np.float32).tolist()],
            anns_field="vector",
            limit=min(k + _SLACK, _LIMIT),
            filter=self._filter(doc),
            search_params={"metric_type": "IP"},
            output_fields=[],
        )
        return self._ranked(found[0], k, float)

    def lexical(self, query: str, k: int, doc: str | None = None) -> dict[int, float]:
        text = _terms(index_tokens(query)) if self.lexical_mode == "ours" else query
        if not text.strip():
            return {}
        found = self._db.search(
            self.collection,
            [text],
            anns_field="sparse",
            limit=min(k + _SLACK, _LIMIT),
            filter=self._filter(doc),
            search_params={"metric_type": "BM25"},
            output_fields=[],
        )
        # Milvus Lite reports a BM25 score as its negative, best first.
        return {r: s for r, s in self._ranked(found[0], k, abs).items() if s > 0}

    def vectors(self, rows: Sequence[int]) -> np.ndarray:
        keys = [self._keys[r] for r in rows]
        if not keys:
            return np.zeros((0, 0), np.float32)
        got: dict[str, list[float]] = {}
        for i in range(0, len(keys), _BATCH):
            part = keys[i : i + _BATCH]
            filt = f"pk in [{', '.join(map(_quoted, part))}]"
            for row in self._db.query(self.collection, filter=filt, output_fields=["vector"]):
                got[row["pk"]] = row["vector"]
        return np.asarray([got[k] for k in keys], dtype=np.float32).reshape(len(keys), -1)

    def updated(
        self,
        chunks: Sequence[Chunk],
        old_rows: Sequence[int | None],
        new_vectors: np.ndarray,
        documents: Mapping[str, Document],
    ) -> MilvusBackend:
        fresh = [c for c, r in zip(chunks, old_rows) if r is None]
        rows = []
        for c, v in zip(fresh, new_vectors):
            d = documents[c.doc]
            terms = _terms(text_tokens(c.embed_text)) if self.lexical_mode == "ours" else c.embed_text
            rows.append(
                {
                    "pk": _key(c),
                    "vector": np.asarray(v, np.float32).tolist(),
                    "text": c.text,
                    "terms": terms,
                    "doc": c.doc,
                    "section": c.section[:1000],
                    "paragraph": c.paragraphs[0] if c.paragraphs else 0,
                    "agency": d.agency[:300],
                    "date": d.date[:32],
                }
            )
        for i in range(0, len(rows), _BATCH):
            self._db.upsert(self.collection, rows[i : i + _BATCH])
        before = {c.doc for c in self._chunks}
        after = {c.doc for c in chunks}
        touched = None if self._touched is None else {c.doc for c in fresh} | (before - after)
        return MilvusBackend(self.uri, self.collection, self.lexical_mode, chunks, touched)

    def save(self, folder: Path) -> dict:
        return {
            "engine": self.name,
            "milvus_uri": self.uri,
            "collection": self.collection,
            "milvus_lexical": self.lexical_mode,
        }

    def published(self) -> None:
        """Delete the rows no live chunk has: of the documents this update
        touched, or of any document after a full build."""
        if self._touched is not None and not self._touched:
            return
        docs = None if self._touched is None else sorted(self._touched)
        filt = f"doc in [{', '.join(map(_quoted, docs))}]" if docs else 'pk != ""'
        stale = []
        iterator = self._db.query_iterator(self.collection, batch_size=_BATCH * 4, filter=filt, output_fields=["pk"])
        try:
            while batch := iterator.next():
                stale += [r["pk"] for r in batch if r["pk"] not in self._rows]
        finally:
            iterator.close()
        for i in range(0, len(stale), _BATCH):
            self._db.delete(self.collection, ids=stale[i : i + _BATCH])
