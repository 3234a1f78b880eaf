"""rag/library.py and `python -m rag add/remove/list` on fakes."""

import pytest

from rag import library
from rag.embeddings import HashingEmbedder
from rag.index import load
from rag.settings import Settings

from .conftest import fake_settings
from .test_cli import run  # noqa: F401 - the fixture

NEW = "一、口袋公园\n郑州市今年新增口袋公园37个，分布在金水区和二七区。"


def test_add_files_and_folders_then_remove(seeds_copy, tmp_path):
    s = fake_settings(seeds_copy, tmp_path / "idx")
    e = HashingEmbedder()
    outside = tmp_path / "incoming"
    (outside / "sub").mkdir(parents=True)
    (outside / "a.txt").write_text(NEW, encoding="utf-8")
    (outside / "sub" / "b.md").write_text("# 绿道\n\n新建绿道50公里。", encoding="utf-8")
    (outside / "notes.bin").write_bytes(b"\0\1")  # not a document kind: not taken from a folder
    change = library.add(s, [outside], e, progress=False)
    assert change.done == ("a.txt", "b.md") and not change.skipped
    assert {"a.txt", "b.md"} <= set(change.index.documents) and not (seeds_copy / "notes.bin").exists()
    listed = {x.file: x for x in library.entries(load(s.index_dir))}
    assert listed["a.txt"].chunks >= 1 and listed["a.txt"].added

    copy = tmp_path / "copy.txt"
    copy.write_text(NEW, encoding="utf-8")
    assert library.add(s, [copy], e, progress=False).skipped[0].startswith("copy.txt: same text as a.txt")

    change = library.remove(s, ["a.txt", "b.md"], e, progress=False)
    assert not {"a.txt", "b.md"} & set(change.index.documents) and not (seeds_copy / "a.txt").exists()


def test_bad_input_is_refused_before_anything_changes(seeds_copy, tmp_path):
    s = fake_settings(seeds_copy, tmp_path / "idx")
    e = HashingEmbedder()
    before = sorted(p.name for p in seeds_copy.iterdir())
    good = tmp_path / "good.txt"
    good.write_text(NEW, encoding="utf-8")
    (tmp_path / "x.exe").write_bytes(b"MZ")
    big = tmp_path / "big.txt"
    big.write_text("大" * 100, encoding="utf-8")
    for paths, message in (
        ([good, tmp_path / "missing.txt"], "不存在"),
        ([good, tmp_path / "x.exe"], "不支持的文件类型"),
        ([big], "超过"),
        ([tmp_path / "empty"], "没有可添加的文件"),
    ):
        (tmp_path / "empty").mkdir(exist_ok=True)
        with pytest.raises(ValueError, match=message):
            library.add(s.with_(max_doc_bytes=200), paths, e, progress=False)
    with pytest.raises(library.UnknownDocument, match="可选的文件"):
        library.remove(s, ["nope.txt"], e, progress=False)
    with pytest.raises(ValueError, match="不能删除全部文件"):
        library.remove(s, before, e, progress=False)
    assert sorted(p.name for p in seeds_copy.iterdir()) == before


def test_cli_add_list_remove(run, seeds_copy, tmp_path):  # noqa: F811 - the fixture
    s = fake_settings(seeds_copy, tmp_path / "idx")
    f = tmp_path / "口袋公园.txt"
    f.write_text(NEW, encoding="utf-8")
    status, out, _ = run(s, "add", str(f))
    assert status == 0 and "added: 口袋公园.txt" in out
    rows = [line.split("\t") for line in run(s, "list")[1].splitlines()]
    assert rows[0][-1] == "添加时间" and any(r[0] == "口袋公园.txt" and int(r[4]) >= 1 for r in rows[1:])
    status, out, _ = run(s, "remove", "口袋公园.txt")
    assert status == 0 and "removed: 口袋公园.txt" in out
    status, out, err = run(s, "remove", "口袋公园.txt")
    assert (status, out) == (2, "") and err.startswith("错误: 没有名为 口袋公园.txt 的文件")
    status, _, err = run(s, "add", str(tmp_path / "missing.txt"))
    assert status == 2 and "不存在" in err


def test_a_pdf_is_limited_by_its_file_size_limit_and_a_text_file_by_the_text_limit():
    # A 13-page PDF printed by Chromium is 9 MB of fonts: `rag add` refused it at the 2 MB text limit.
    s = Settings()
    assert library.check_upload("计划.pdf", 9_300_000, s) == "计划.pdf"
    assert library.check_upload("扫描.PNG", 9_300_000, s) == "扫描.PNG"
    with pytest.raises(ValueError, match=r"超过 2\.0 MB"):
        library.check_upload("计划.txt", 9_300_000, s)
    with pytest.raises(ValueError, match=r"超过 50\.0 MB"):
        library.check_upload("计划.pdf", 60_000_000, s)
