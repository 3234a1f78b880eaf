"""Which entries of the documents folder are read, and how: every bad entry is
skipped with a message naming it, everything else is read."""

import codecs
import errno
import os
import threading
from pathlib import Path

import pytest

from rag import sources
from rag.documents import load_document, load_folder
from rag.sources import DocumentError, read_text, scan, shown

TEXT = "一、总则\n郑州市今年新增绿地100公顷。"
BAD_NAME = os.fsdecode(b"bad\xff.txt")  # not valid UTF-8


def bad_folder(tmp_path: Path) -> Path:
    """One good file beside one of each kind of bad entry."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.txt").write_text(TEXT, encoding="utf-8")
    (docs / BAD_NAME).write_text("一、坏名字\n文件名不是UTF-8。", encoding="utf-8")
    outside = tmp_path / "passwd.txt"
    outside.write_text("root:x:0:0:root:/root:/bin/bash", encoding="utf-8")
    (docs / "passwd.txt").symlink_to(outside)
    (docs / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    (docs / "loop.txt").symlink_to(docs / "loop.txt")
    os.mkfifo(docs / "pipe.txt")
    (docs / "folder.txt").mkdir()
    return docs


def test_bad_entries_are_skipped_with_a_message_each(tmp_path):
    docs = bad_folder(tmp_path)
    found = scan(docs)
    assert [s.name for s in found.sources] == ["good.txt"]
    text = "\n".join(found.skipped)
    assert len(found.skipped) == 6, text
    assert "bad\\xff.txt: file name is not valid UTF-8" in text  # shown escaped, printable
    assert "passwd.txt: link to" in text and "outside the documents folder" in text
    assert "dangling.txt: broken link (No such file or directory)" in text
    assert "loop.txt: broken link" in text
    assert "pipe.txt: a FIFO (named pipe), not a regular file" in text
    assert "folder.txt: a folder, not a regular file" in text
    assert all(m.endswith("skipped") for m in found.skipped)
    assert scan(docs) == found  # the same outcome twice


def test_a_fifo_is_never_opened(tmp_path):
    docs = bad_folder(tmp_path)
    result = {}
    worker = threading.Thread(target=lambda: result.update(docs=load_folder(docs)), daemon=True)
    worker.start()
    worker.join(timeout=20)  # a plain open() of the FIFO would block here forever
    assert not worker.is_alive()
    loaded, problems = result["docs"]
    assert [d.id for d in loaded] == ["good.txt"] and len(problems) == 6
    with pytest.raises(DocumentError, match="FIFO"):
        sources.open_source(docs / "pipe.txt")


def test_links_inside_the_folder_are_read(tmp_path):
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "sub" / "real.txt").write_text(TEXT, encoding="utf-8")
    (docs / "alias.txt").symlink_to(docs / "sub" / "real.txt")
    (docs / "subdir.txt").symlink_to(docs / "sub")
    found = scan(docs)
    assert [s.name for s in found.sources] == ["alias.txt"]
    assert found.skipped == ("subdir.txt: a folder, not a regular file, skipped",)


def test_unreadable_file_is_skipped(tmp_path, monkeypatch):
    # Root ignores permission bits, so the refusal is injected where the code opens files.
    (tmp_path / "good.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "secret.txt").write_text("一、机密\n不可读。", encoding="utf-8")
    real_open = os.open

    def refuse_secret(path, *args, **kwargs):
        if os.path.basename(os.fsdecode(path)) == "secret.txt":
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse_secret)
    docs, problems = load_folder(tmp_path)
    assert [d.id for d in docs] == ["good.txt"]
    assert problems == ["secret.txt: can't be read (Permission denied), skipped"]
    assert load_folder(tmp_path) == (docs, problems)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_unreadable_file_by_permission_bits(tmp_path):
    (tmp_path / "good.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "secret.txt").write_text("一、机密\n不可读。", encoding="utf-8")
    (tmp_path / "secret.txt").chmod(0)
    docs, problems = load_folder(tmp_path)
    assert [d.id for d in docs] == ["good.txt"]
    assert problems == ["secret.txt: can't be read (Permission denied), skipped"]


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
        TEXT.encode("utf-16"),
        TEXT.encode("utf-32"),
        codecs.BOM_UTF8 + TEXT.encode(),
        TEXT.encode("gb18030"),
        TEXT.encode("gbk"),
    ],
    ids=["utf16le", "utf16be", "utf16", "utf32", "utf8bom", "gb18030", "gbk"],
)
def test_encodings_are_read(tmp_path, data):
    path = tmp_path / "a.txt"
    path.write_bytes(data)
    assert read_text(path) == TEXT
    assert load_document(path).paragraphs[1].text == "郑州市今年新增绿地100公顷。"


@pytest.mark.parametrize(
    "data",
    [b"\x00\x01\x02garbage", b"\x00\xff\xfe binary", codecs.BOM_UTF16_LE + b"\x01\x00\x02\x00\x03\x00", b"\xff" * 9],
)
def test_binary_is_still_skipped(tmp_path, data):
    path = tmp_path / "b.txt"
    path.write_bytes(data)
    with pytest.raises(DocumentError, match=r"b\.txt"):
        read_text(path)


def test_shown_escapes_names():
    assert shown(BAD_NAME) == "bad\\xff.txt"
    assert shown("新\n.txt") == "新\\n.txt"
    assert shown("郑州.txt") == "郑州.txt"


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DocumentError, match=r"documents folder .* can't be read"):
        scan(tmp_path / "nope")
