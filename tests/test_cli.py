"""The command line on fakes: `index`, `list`, and errors as one `错误:` line."""

import pytest

import rag.__main__ as cli
from rag import Settings
from rag.embeddings import HashingEmbedder

from .conftest import GDP, fake_settings
from .test_index import refuse_writes
from .test_sources import bad_folder


@pytest.fixture
def run(monkeypatch, capsys):
    """Run `python -m rag ARGS` on these settings: (exit status, stdout, stderr)."""

    def run(settings, *args):
        monkeypatch.setattr(cli, "Settings", lambda: settings)
        status = cli.main(list(args))
        out, err = capsys.readouterr()
        return status, out, err

    return run


def test_index_skips_bad_files_by_name_the_same_way_twice(run, tmp_path):
    s = fake_settings(bad_folder(tmp_path), tmp_path / "idx")
    first = run(s, "index")
    assert first[0] == 0 and "1 documents" in first[1]
    skipped = [line for line in first[1].splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == 6 and "skipped: bad\\xff.txt: file name is not valid UTF-8, skipped" in skipped
    second = run(s, "index")
    assert [ln for ln in second[1].splitlines() if ln.startswith("skipped: ")] == skipped
    assert run(s, "index", "--if-needed")[1].splitlines()[1:] == skipped  # loaded, not rebuilt


def test_index_on_a_read_only_folder_fails_before_embedding(run, seeds_copy, tmp_path, monkeypatch):
    def never(*_a):
        raise AssertionError("embedded before finding the folder read-only")

    monkeypatch.setattr(HashingEmbedder, "embed", never)
    refuse_writes(monkeypatch)
    for args in (["index"], ["index", "--if-needed"]):
        status, out, err = run(fake_settings(seeds_copy, tmp_path / "idx"), *args)
        assert (status, out) == (2, "")
        assert err.startswith("错误: index folder ") and "not writable (Read-only file system)" in err
        assert "Traceback" not in err


def test_list_prints_each_document(run, fake_index_dir):
    docs, index_dir = fake_index_dir
    status, out, _ = run(fake_settings(docs, index_dir), "list")
    rows = [line.split("\t") for line in out.splitlines()]
    assert status == 0 and rows[0] == ["文件", "标题", "发布机关", "日期", "块数", "添加时间"]
    assert [r[0] for r in rows[1:]] == sorted(p.name for p in docs.iterdir())
    gdp = next(r for r in rows if r[0] == GDP)
    assert gdp[1:4] == ["郑州市2024年国民经济和社会发展计划", "郑州市人民政府", "2024-03-14"]
    assert all(int(r[4]) > 0 for r in rows[1:])


def test_unknown_doc_names_the_valid_ones(run, fake_index_dir):
    docs, index_dir = fake_index_dir
    status, out, err = run(fake_settings(docs, index_dir), "ask", "地区生产总值增长多少?", "--doc", "nope.txt")
    assert (status, out) == (2, "")
    assert err.startswith("错误: 没有名为 'nope.txt' 的文件") and GDP in err and "max()" not in err
    status, out, _ = run(fake_settings(docs, index_dir), "ask", "地区生产总值增长多少?", "--doc", GDP)
    assert status == 0 and GDP in out


def test_set_changes_a_setting_and_a_bad_one_is_one_line(run, fake_index_dir, monkeypatch):
    docs, index_dir = fake_index_dir
    status, out, _ = run(
        Settings(),
        "list",
        "--set",
        f"docs_dir={docs}",
        "--set",
        f"index_dir={index_dir}",
        "--set",
        "embedder=hash",
        "--set",
        "refuse_below=0.2",
    )
    assert status == 0 and GDP in out
    for bad, says in [
        ("top_k=x", "'x' is not a valid int"),
        ("bogus=1", "NAME one of docs_dir"),
        ("structure=maybe", "not a valid bool"),
        ("top_k", "expected NAME=VALUE"),
    ]:
        status, out, err = run(Settings(), "list", "--set", bad)
        assert status == 2 and not out and err.startswith("错误: --set") and says in err and "\n" not in err.strip()


def test_ask_prints_the_short_answer_first_and_whom_to_ask_after_a_refusal(run, fake_index_dir):
    docs, index_dir = fake_index_dir
    status, out, _ = run(fake_settings(docs, index_dir), "ask", "2024年郑州市地区生产总值预期增长多少?")
    assert status == 0 and out.startswith("简答: 地区生产总值增长7%左右[1]\n")
    status, out, _ = run(fake_settings(docs, index_dir), "ask", "洛阳市2024年GDP预期增长多少?")
    assert status == 0 and "资料中没有相关信息" in out and "\n可咨询: 郑州市人民政府" in out


def test_ask_says_how_a_misspelt_word_was_read(run, fake_index_dir):
    docs, index_dir = fake_index_dir
    status, out, _ = run(fake_settings(docs, index_dir), "ask", "2024年郑州城镇新增就叶多少人?")
    assert status == 0 and out.startswith("按「就业」理解「就叶」\n") and "12.65万人" in out
