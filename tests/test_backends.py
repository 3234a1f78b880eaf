"""The search engines behind the contract of rag/backends/."""

import numpy as np
import pytest

from rag.backends.faiss_bm25 import make_faiss


def test_hnsw_and_flat_agree_on_the_nearest():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(2000, 32)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    flat, hnsw = make_faiss(v, "flat"), make_faiss(v, "hnsw")
    _, a = flat.search(v[:20], 1)
    _, b = hnsw.search(v[:20], 1)
    assert (a == b).mean() >= 0.95
    assert make_faiss(v, "auto", threshold=100).__class__.__name__ == "IndexHNSWFlat"
    with pytest.raises(ValueError):
        make_faiss(v, "nonsense")
