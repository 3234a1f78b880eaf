import numpy as np
import pytest

from rag.embeddings import E5Embedder, HashingEmbedder, SentenceTransformerEmbedder, bundled_minilm_path, make_embedder


def test_hashing_embedder_is_deterministic_and_normalised():
    e = HashingEmbedder(64)
    a = e.embed(["郑州市地区生产总值", "郑州市地区生产总值", "完全不同的内容"], "passage")
    assert a.shape == (3, 64)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    assert a[0] @ a[1] == pytest.approx(1.0)
    assert a[0] @ a[2] < 0.9


def test_make_embedder_caches_and_dispatches():
    assert make_embedder("hash") is make_embedder("hash")
    assert isinstance(make_embedder("e5"), E5Embedder)
    assert isinstance(make_embedder("/some/model/path"), SentenceTransformerEmbedder)


@pytest.mark.models
def test_e5_prefers_the_matching_passage():
    e = E5Embedder()
    q = e.embed(["2024年郑州市地区生产总值预期增长多少?"], "query")[0]
    p = e.embed(
        ["2024年的经济社会发展主要预期目标是:地区生产总值增长7%左右", "新乡高新区植树造林和绿化建设"], "passage"
    )
    assert p.shape == (2, 384)
    assert p[0] @ q > p[1] @ q


@pytest.mark.models
def test_sentence_transformers_backend_with_bundled_minilm():
    e = SentenceTransformerEmbedder(bundled_minilm_path())
    v = e.embed(
        ["How much will GDP grow?", "GDP is expected to grow by about 7%", "Planting trees along the highway"],
        "passage",
    )
    assert v.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]
