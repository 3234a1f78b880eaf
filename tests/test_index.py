import json
import os

import numpy as np
import pytest

from rag.embeddings import HashingEmbedder
from rag.index import IndexUnavailable, build, identity, load, load_or_build, make_faiss, save

from .conftest import fake_settings


def test_round_trip(seeds_copy, tmp_path):
    s = fake_settings(seeds_copy, tmp_path / "idx")
    e = HashingEmbedder()
    built = load_or_build(s, e, progress=False)
    loaded = load(s.index_dir, identity(s, e))
    assert [c.id for c in loaded.chunks] == [c.id for c in built.chunks]
    assert loaded.dense.ntotal == len(built.chunks)
    assert loaded.documents.keys() == built.documents.keys()
    assert len(loaded.sentences) == len(loaded.sentence_vectors) > 0
    manifest = json.loads((s.index_dir / (s.index_dir / "CURRENT").read_text().strip() / "manifest.json").read_text())
    assert manifest["embedder"] == e.name and manifest["dim"] == e.dim
    assert set(manifest["sources"]) == {p.name for p in seeds_copy.iterdir()}
    assert all(len(h) == 64 for h in manifest["files"].values())


def test_stale_manifest_is_rebuilt(seeds_copy, tmp_path):
    s = fake_settings(seeds_copy, tmp_path / "idx")
    e = HashingEmbedder()
    first = load_or_build(s, e, progress=False)
    (seeds_copy / "extra.txt").write_text("一、新增文件\n郑州市新增公园20个。", encoding="utf-8")
    with pytest.raises(IndexUnavailable, match="stale"):
        load(s.index_dir, identity(s, e))
    second = load_or_build(s, e, progress=False)
    assert "extra.txt" in second.documents and "extra.txt" not in first.documents
    # changed settings rebuild too
    third = load_or_build(s.with_(chunk_size=200), e, progress=False)
    assert len(third.chunks) > len(second.chunks)
    assert len(list(s.index_dir.glob("build-*"))) == 1  # old builds are cleaned up


def test_corrupted_file_detected_and_rebuilt(seeds_copy, tmp_path, caplog):
    s = fake_settings(seeds_copy, tmp_path / "idx")
    e = HashingEmbedder()
    load_or_build(s, e, progress=False)
    build_dir = s.index_dir / (s.index_dir / "CURRENT").read_text().strip()
    with open(build_dir / "dense.faiss", "r+b") as f:
        f.truncate(100)
    with pytest.raises(IndexUnavailable, match="checksum"):
        load(s.index_dir, identity(s, e))
    with caplog.at_level("INFO", logger="rag"):
        index = load_or_build(s, e, progress=False)
    assert index.dense.ntotal == len(index.chunks)
    assert "checksum" in caplog.text


def test_half_written_build_leaves_previous_usable(seeds_copy, tmp_path):
    s = fake_settings(seeds_copy, tmp_path / "idx")
    e = HashingEmbedder()
    good = load_or_build(s, e, progress=False)
    # a crash mid-build leaves a temporary folder behind and CURRENT untouched
    junk = s.index_dir / ".tmp-build-deadbeef-123"
    junk.mkdir()
    (junk / "dense.faiss").write_bytes(b"half")
    again = load(s.index_dir, identity(s, e))
    assert len(again.chunks) == len(good.chunks)


def test_undecodable_seed_is_skipped_others_indexed(seeds_copy, tmp_path):
    (seeds_copy / "broken.txt").write_bytes(b"\x00\xff\xfe binary")
    index = build(fake_settings(seeds_copy, tmp_path / "idx"), HashingEmbedder(), progress=False)
    assert "broken.txt" not in index.documents and len(index.documents) == 5
    assert any("broken.txt" in m for m in index.manifest["skipped"])


def test_read_only_folder_falls_back_to_memory(seeds_copy, tmp_path, caplog):
    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with caplog.at_level("WARNING", logger="rag"):
        index = load_or_build(fake_settings(seeds_copy, ro / "idx"), HashingEmbedder(), progress=False)
    assert index.chunks and "in-memory" in caplog.text


def test_save_failure_keeps_in_memory_index(seeds_copy, tmp_path, caplog, monkeypatch):
    import rag.index as index_module

    def refuse(*_a, **_k):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(index_module, "save", refuse)
    with caplog.at_level("WARNING", logger="rag"):
        index = load_or_build(fake_settings(seeds_copy, tmp_path / "idx"), HashingEmbedder(), progress=False)
    assert index.chunks and "in-memory" in caplog.text


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


def test_save_is_atomic_switch_of_current(seeds_copy, tmp_path):
    s = fake_settings(seeds_copy, tmp_path / "idx")
    index = build(s, HashingEmbedder(), progress=False)
    target = save(index, s.index_dir)
    assert (s.index_dir / "CURRENT").read_text().strip() == target.name
    assert not list(s.index_dir.glob(".tmp-*"))


def test_structure_switch_keys_the_build_and_what_bm25_sees(seeds_copy, tmp_path):
    e = HashingEmbedder()
    s = fake_settings(seeds_copy, tmp_path / "idx")
    off = s.with_(structure=False)
    assert identity(s, e)["structure"] and identity(s, e) != identity(off, e)
    with_structure, without = build(s, e, progress=False), build(off, e, progress=False)
    assert without.manifest["build"] != with_structure.manifest["build"]
    # a document's title matches every one of its chunks only when titles are indexed
    doc = next(d for d in with_structure.documents.values() if d.id.startswith("003_"))
    ids = [i for i, c in enumerate(with_structure.chunks) if c.doc == doc.id]
    assert (with_structure.lexical.scores(doc.title)[ids] > 0).all()
    assert (without.lexical.scores(doc.title)[ids] == 0).any()
