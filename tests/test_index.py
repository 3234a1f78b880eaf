import errno
import json
import os
import tempfile

import numpy as np
import pytest

from rag import Pipeline
from rag.embeddings import HashingEmbedder
from rag.index import IndexUnavailable, build, identity, load, load_or_build, save

from .conftest import fake_settings
from .test_sources import BAD_NAME, bad_folder


class Counting(HashingEmbedder):
    """The hashing fake, counting its calls: work that must not happen asserts 0."""

    calls = 0

    def embed(self, texts, kind):
        self.calls += 1
        return super().embed(texts, kind)


def current_dir(index_dir):
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def test_round_trip(seeds_copy, tmp_path):
    s = fake_settings(seeds_copy, tmp_path / "idx")
    e = HashingEmbedder()
    built = load_or_build(s, e, progress=False)
    loaded = load(s.index_dir, identity(s, e))
    assert [c.id for c in loaded.chunks] == [c.id for c in built.chunks]
    assert loaded.search.dense_index.ntotal == len(built.chunks)
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
    assert index.search.dense_index.ntotal == len(index.chunks)
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


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_fails_before_embedding(seeds_copy, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    e = Counting()
    with pytest.raises(IndexUnavailable, match="not writable"):
        load_or_build(fake_settings(seeds_copy, ro / "idx"), e, progress=False)
    assert e.calls == 0


def test_save_failure_keeps_in_memory_index(seeds_copy, tmp_path, caplog, monkeypatch):
    import rag.index as index_module

    def refuse(*_a, **_k):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(index_module, "save", refuse)
    with caplog.at_level("WARNING", logger="rag"):
        index = load_or_build(fake_settings(seeds_copy, tmp_path / "idx"), HashingEmbedder(), progress=False)
    assert index.chunks and "in-memory" in caplog.text


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
    assert (with_structure.search.lexical_index.scores(doc.title)[ids] > 0).all()
    assert (without.search.lexical_index.scores(doc.title)[ids] == 0).any()


def rewrite_manifest(index_dir, change) -> None:
    path = current_dir(index_dir) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def test_edited_manifest_is_rejected_and_rebuilt(seeds_copy, tmp_path, caplog):
    s = fake_settings(seeds_copy, tmp_path / "idx")
    e = HashingEmbedder()
    load_or_build(s, e, progress=False)
    # The issue's case: the files' checksums dropped and a paragraph edited to match.
    docs = current_dir(s.index_dir) / "documents.jsonl"
    docs.write_text(docs.read_text(encoding="utf-8").replace("增长7%左右", "增长99%"), encoding="utf-8")
    rewrite_manifest(s.index_dir, lambda m: m.pop("files"))
    with pytest.raises(IndexUnavailable, match=r"manifest .*\(checksum mismatch\)"):
        load(s.index_dir, identity(s, e))
    with caplog.at_level("INFO", logger="rag"):
        index = load_or_build(s, e, progress=False)
    assert "checksum mismatch" in caplog.text
    assert not any("增长99%" in p.text for d in index.documents.values() for p in d.paragraphs)
    assert load(s.index_dir, identity(s, e)).manifest["checksum"] == index.manifest["checksum"]


def test_manifest_must_list_every_file(seeds_copy, tmp_path):
    from rag.builds import manifest_checksum

    s = fake_settings(seeds_copy, tmp_path / "idx")
    load_or_build(s, HashingEmbedder(), progress=False)

    def drop_files(m):  # a consistent manifest that checks nothing
        m.pop("files")
        m["checksum"] = manifest_checksum(m)

    rewrite_manifest(s.index_dir, drop_files)
    with pytest.raises(IndexUnavailable, match=r"no checksum for documents\.jsonl"):
        load(s.index_dir)
    (s.index_dir / "CURRENT").write_text("../../etc\n")
    with pytest.raises(IndexUnavailable, match="not a build"):
        load(s.index_dir)


def test_bad_sources_are_skipped_and_the_rest_indexed(tmp_path):
    docs = bad_folder(tmp_path)
    s = fake_settings(docs, tmp_path / "idx")
    index = load_or_build(s, HashingEmbedder(), progress=False)
    assert list(index.documents) == ["good.txt"]
    skipped = index.manifest["skipped"]
    assert len(skipped) == 6 and any("bad\\xff.txt" in m for m in skipped)
    assert BAD_NAME not in identity(s, HashingEmbedder())["sources"]
    again = load(s.index_dir, identity(s, HashingEmbedder()))  # saved: the bad name never reached the JSON
    assert again.manifest["skipped"] == skipped
    assert not list(s.index_dir.glob(".tmp-*"))


def test_utf16_document_is_indexed_and_retrieved(seeds_copy, tmp_path):
    text = "一、冰雪乐园\n郑州市新建冰雪乐园一座，占地88公顷，2024年底开园。"
    (seeds_copy / "utf16.txt").write_bytes(text.encode("utf-16"))
    pipe = Pipeline(fake_settings(seeds_copy, tmp_path / "idx"))
    assert "utf16.txt" not in " ".join(pipe.index.manifest["skipped"])
    hits = pipe.retrieve("冰雪乐园占地多少公顷?", 3)
    assert hits[0].doc == "utf16.txt" and "占地88公顷" in hits[0].text


def refuse_writes(monkeypatch):
    """A read-only folder, as root too: refuse the probe file unwritable() creates."""

    def refuse(*_a, **_k):
        raise PermissionError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)


def test_read_only_folder_without_index_fails_at_once(seeds_copy, tmp_path, monkeypatch):
    refuse_writes(monkeypatch)
    e = Counting()
    for index_dir in (tmp_path / "idx", tmp_path / "missing" / "idx"):
        with pytest.raises(IndexUnavailable, match=r"not writable .*Read-only file system.* no usable index"):
            load_or_build(fake_settings(seeds_copy, index_dir), e, progress=False)
    assert e.calls == 0


def test_read_only_folder_serves_its_stale_index(seeds_copy, tmp_path, monkeypatch, caplog):
    s = fake_settings(seeds_copy, tmp_path / "idx")
    before = load_or_build(s, HashingEmbedder(), progress=False)
    (seeds_copy / "extra.txt").write_text("一、新增文件\n郑州市新增公园20个。", encoding="utf-8")
    refuse_writes(monkeypatch)
    e = Counting()
    with caplog.at_level("WARNING", logger="rag"):
        index = load_or_build(s, e, progress=False)
    assert e.calls == 0 and index.documents.keys() == before.documents.keys()
    assert "not writable" in caplog.text and "built before these changes: sources" in caplog.text
    # another embedder's vectors can't be searched with this one's queries
    with pytest.raises(IndexUnavailable, match="another embedder"):
        load_or_build(s, HashingEmbedder(dim=64), progress=False)


def test_identical_rebuild_never_removes_the_live_build(seeds_copy, tmp_path):
    s = fake_settings(seeds_copy, tmp_path / "idx")
    index = build(s, HashingEmbedder(), progress=False)
    first = save(index, s.index_dir)
    (s.index_dir / ".tmp-999999").mkdir()  # a killed save's leftovers
    (s.index_dir / ".CURRENT-999999").write_text("x")
    second = save(index, s.index_dir)
    assert second != first and not first.exists()
    assert current_dir(s.index_dir) == second
    assert sorted(p.name for p in s.index_dir.iterdir()) == [".lock", "CURRENT", second.name]


def test_require_doc_lists_the_valid_names(fake_pipeline):
    index = fake_pipeline().index
    assert index.require_doc("004_7c7b9bfef2df6a5e.txt").title.startswith("郑州市2024年")
    with pytest.raises(ValueError, match=r"nope\.txt.*000_d5ab6db1b6f64c5e\.txt、001_"):
        index.require_doc("nope.txt")
    with pytest.raises(ValueError, match="unknown document"):
        fake_pipeline().retrieve("地区生产总值", 5, doc="nope.txt")


class Recording(HashingEmbedder):
    """The hashing fake, recording every text it embeds."""

    def __init__(self):
        super().__init__()
        self.texts = []

    def embed(self, texts, kind):
        self.texts += texts
        return super().embed(texts, kind)


def same_index(a, b):
    assert a.documents == b.documents
    assert a.chunks == b.chunks and a.sentences == b.sentences
    assert np.array_equal(a.sentence_vectors, b.sentence_vectors)
    rows = range(len(a.chunks))
    assert np.array_equal(a.search.vectors(rows), b.search.vectors(rows))
    assert a.search.lexical_index.tokens == b.search.lexical_index.tokens


def test_adding_a_file_embeds_only_it_and_equals_a_full_build(seeds_copy, tmp_path):
    from rag.index import refresh

    s = fake_settings(seeds_copy, tmp_path / "idx")
    load_or_build(s, HashingEmbedder(), progress=False)
    new = "一、口袋公园\n郑州市今年新增口袋公园30个，改造绿道50公里。\n二、背街小巷\n完成背街小巷整治200条。"
    (seeds_copy / "000_new.txt").write_text(new, encoding="utf-8")
    e = Recording()
    index, changed = refresh(s, e, progress=False)
    assert changed and "000_new.txt" in index.documents
    added = [c.embed_text for c in index.chunks if c.doc == "000_new.txt"]
    said = [t for d, _, t in index.sentences if d == "000_new.txt"]
    assert sorted(e.texts) == sorted(added + said)  # nothing of the other documents
    assert index.manifest["reused_chunks"] == len(index.chunks) - len(added)
    full = build(s.with_(index_dir=tmp_path / "full"), HashingEmbedder(), progress=False)
    same_index(load(s.index_dir, identity(s, e)), full)
    assert refresh(s, e, progress=False)[1] is False  # up to date: nothing done

    # Removing drops it and embeds nothing; edited, a file is embedded anew.
    (seeds_copy / "000_new.txt").unlink()
    gdp = next(seeds_copy.glob("004_*"))
    gdp.write_text(gdp.read_text(encoding="utf-8") + "\n全市新增就业岗位12万个。", encoding="utf-8")
    e.texts = []
    index, _ = refresh(s, e, progress=False)
    assert "000_new.txt" not in index.documents
    assert e.texts and all(
        t
        in {c.embed_text for c in index.chunks if c.doc == gdp.name}
        | {t for d, _, t in index.sentences if d == gdp.name}
        for t in e.texts
    )
    same_index(index, build(s.with_(index_dir=tmp_path / "full"), HashingEmbedder(), progress=False))


def test_a_duplicate_added_later_is_skipped_and_dropping_the_last_file_is_refused(seeds_copy, tmp_path):
    from rag.index import refresh

    s = fake_settings(seeds_copy, tmp_path / "idx")
    before = load_or_build(s, HashingEmbedder(), progress=False)
    gdp = next(seeds_copy.glob("004_*"))
    (seeds_copy / "copy.txt").write_bytes(gdp.read_bytes())
    index, _ = refresh(s, HashingEmbedder(), progress=False)
    assert index.documents.keys() == before.documents.keys()
    assert any(m.startswith("copy.txt: same text as") for m in index.manifest["skipped"])
    for f in seeds_copy.iterdir():
        f.unlink()
    with pytest.raises(IndexUnavailable, match="no readable documents"):
        refresh(s, HashingEmbedder(), progress=False)
    assert load(s.index_dir).documents.keys() == before.documents.keys()  # the live build stays


@pytest.mark.models
def test_add_and_remove_with_e5_retrieve_as_full_builds(tmp_path):
    from rag.embeddings import make_embedder
    from rag.index import refresh
    from rag.retrieval import Retriever
    from rag.settings import Settings

    from .conftest import SEEDS

    docs = tmp_path / "docs"
    docs.mkdir()
    first, second = (next(SEEDS.glob(f"{n}_*")) for n in ("000", "002"))
    (docs / first.name).write_bytes(first.read_bytes())
    s = Settings(docs_dir=docs, index_dir=tmp_path / "idx")
    e = make_embedder("e5")
    questions = ["郑州市如何推进托育服务?", "新增了多少个养老服务设施?", "如何加强社区治理?", "这份答复由哪个单位办理?"]

    def top(index, settings=s):
        return [[h.chunk.id for h in Retriever(index, e, settings).retrieve(q, 5)] for q in questions]

    alone, _ = refresh(s, e, progress=False)
    (docs / second.name).write_bytes(second.read_bytes())
    added, _ = refresh(s, e, progress=False)
    full = build(s.with_(index_dir=tmp_path / "full"), e, progress=False)
    assert top(added) == top(full)
    assert np.allclose(added.sentence_vectors, full.sentence_vectors, atol=1e-4)
    (docs / second.name).unlink()
    removed, _ = refresh(s, e, progress=False)
    assert removed.manifest["reused_chunks"] == len(removed.chunks) and top(removed) == top(alone)


def test_labels_and_titles_are_no_evidence_but_sentences_and_addressees_are():
    from rag.documents import Document, Paragraph
    from rag.index import paragraph_sentences

    lines = [
        "1.做精做强主导产业。",
        "▲创新工作机制。",
        "新乡高新区实施方案",
        "九三学社郑州市委员会:",
        "感谢九三学社的关心和支持!",
        "宇通客车的“节能与新能源客车关键技术研发及产业化”项目获国家科技进步二等奖。",
        "高耗能产业占比仍然较高;",
    ]
    doc = Document("d.txt", "答复", tuple(Paragraph(i, t, ()) for i, t in enumerate(lines, 1)))
    assert [s for _, _, s in paragraph_sentences([doc])] == lines[3:]
