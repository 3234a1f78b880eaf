"""The search engines behind the contract of rag/backends/."""

import numpy as np
import pytest

from rag.backends.faiss_bm25 import make_faiss
from rag.embeddings import HashingEmbedder


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


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The seeds indexed by FAISS + bm25s and by Milvus Lite, hashing embedder."""
    import shutil

    from rag.index import load_or_build

    from .conftest import SEEDS, fake_settings

    base = tmp_path_factory.mktemp("engines")
    shutil.copytree(SEEDS, base / "docs")
    faiss_s = fake_settings(base / "docs", base / "faiss")
    milvus_s = faiss_s.with_(index_dir=base / "milvus", index_backend="milvus", milvus_uri=str(base / "m.db"))
    e = HashingEmbedder()
    return (
        e,
        (faiss_s, load_or_build(faiss_s, e, progress=False)),
        (milvus_s, load_or_build(milvus_s, e, progress=False)),
    )


def gold_questions(n=24):
    import json

    from .conftest import ROOT

    with open(ROOT / "eval" / "gold.jsonl", encoding="utf-8") as f:
        return [json.loads(line)["question"] for line in f][:n]


def test_milvus_ranks_as_faiss_does(both):
    from rag.retrieval import Retriever

    e, (fs, fi), (ms, mi) = both
    assert mi.manifest["engine"] == "milvus" and fi.manifest["engine"] == "faiss"
    same = 0
    for q in gold_questions():
        a = [h.chunk.id for h in Retriever(fi, e, fs).retrieve(q, 5)]
        b = [h.chunk.id for h in Retriever(mi, e, ms).retrieve(q, 5)]
        same += a == b
        v = e.embed([q], "query")[0]
        assert list(fi.search.dense(v, 20)) == list(mi.search.dense(v, 20))
    assert same == len(gold_questions())
    gdp = "004_7c7b9bfef2df6a5e.txt"
    hits = Retriever(mi, e, ms).retrieve("新乡高新区植树造林", 3, doc=gdp)
    assert hits and {h.doc for h in hits} == {gdp}


def test_milvus_add_and_remove(both):
    from rag.index import load, refresh

    from .test_index import Recording

    _, _, (ms, before) = both
    (ms.docs_dir / "000_park.txt").write_text("一、口袋公园\n郑州市今年新增口袋公园37个。", encoding="utf-8")
    e = Recording()
    index, _ = refresh(ms, e, progress=False)
    assert e.texts and all("口袋公园" in t for t in e.texts)
    row = next(i for i, c in enumerate(index.chunks) if c.doc == "000_park.txt")
    assert row in index.search.lexical("口袋公园", 5)
    (ms.docs_dir / "000_park.txt").unlink()
    index, _ = refresh(ms, e, progress=False)
    assert "000_park.txt" not in index.documents and len(index.chunks) == len(before.chunks)
    db, name = index.search._db, index.search.collection
    assert not db.query(name, filter='doc == "000_park.txt"', output_fields=["pk"])
    assert load(ms.index_dir).search.lexical("口袋公园", 5) == before.search.lexical("口袋公园", 5)


def test_equal_bm25_scores_rank_by_row():
    """Ties keep the rows' order, not whatever order numpy's quicksort leaves
    them in (which differs with the CPU's SIMD kernels)."""
    from rag.backends.faiss_bm25 import FaissBM25
    from rag.lexical import LexicalIndex

    texts = ["郑州地铁建设"] * 300 + ["新乡高新区"] * 10 + ["郑州地铁建设"] * 300
    dense = make_faiss(np.zeros((len(texts), 4), np.float32), "flat")
    engine = FaissBM25(dense, LexicalIndex.build(texts), ["d"] * len(texts))
    assert list(engine.lexical("郑州地铁", 50)) == list(range(50))
