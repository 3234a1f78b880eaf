"""Managing the documents: add, remove and list, for the CLI, serve and the page.

Every way in (`python -m rag add/remove/list`, serve's /v1/documents, the
page's 文件管理 tab) goes through this module. Adding copies files into the
documents folder (each under a temporary hidden name, then renamed: a copy
killed half-way is never read as a document) and brings the index up to date
incrementally (rag/index.py `refresh`: only the new files are embedded, and the
new build is made live only when complete). Removing deletes the files and
drops their rows the same way. A name that already exists is replaced, and
that file alone is embedded again.

Everything is checked before anything is copied or deleted: a path that isn't
a readable file of a supported kind, an oversized file, two files of one name,
an unknown name to remove, or removing every document is a `ValueError` saying
which, and leaves folder and index as they were. A file that is copied but
can't be parsed (empty, a copy of another document) stays in the folder and is
reported in `Change.skipped`, as a full build would skip it.

Deliberately not done here: parsing (rag/documents.py), how builds are made
live (rag/builds.py), HTTP and the page (rag/serve_documents.py, admin.py).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .documents import is_paged
from .embeddings import Embedder
from .index import Index, refresh
from .settings import Settings
from .sources import SUPPORTED_SUFFIXES, scan

# One change at a time in this process, so the index swapped in last is the
# newest; rag/index.py `refresh` locks across processes.
_CHANGING = threading.Lock()

if TYPE_CHECKING:
    from .pipeline import Pipeline


class UnknownDocument(ValueError):
    """A name to remove that is no document; the message lists the valid ones."""


@dataclass(frozen=True)
class Entry:
    file: str
    title: str
    agency: str
    date: str
    chunks: int
    added: str  # when it was first indexed in its present form (ISO time)


@dataclass(frozen=True)
class Change:
    index: Index  # the index now live
    done: tuple[str, ...]  # file names added, replaced or removed
    skipped: tuple[str, ...]  # why a copied file is not among the documents


def applied(pipe: Pipeline, do: Callable[[], Change]) -> Change:
    """Make a change (`do`, e.g. lambda: add(...)) and have `pipe` answer
    from its index from the next question on."""
    with _CHANGING:
        change = do()
        pipe.swap_index(change.index)
    return change


def entries(index: Index) -> list[Entry]:
    """The indexed documents, by file name."""
    chunks = Counter(c.doc for c in index.chunks)
    added = index.manifest.get("added", {})
    return [
        Entry(d.id, d.title, d.agency, d.date, chunks[d.id], added.get(d.id, ""))
        for d in sorted(index.documents.values(), key=lambda d: d.id)
    ]


def _candidates(paths: Iterable[Path]) -> list[Path]:
    """The files named, and the supported files inside the folders named."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            files += [p for p in inside if p.suffix.lower() in SUPPORTED_SUFFIXES]
        else:
            files.append(path)
    return files


def check_upload(name: str, size: int, settings: Settings) -> str:
    """The file name a document is stored under, or ValueError saying why not."""
    base = Path(name.replace("\\", "/")).name
    kinds = "、".join(SUPPORTED_SUFFIXES)
    if not base or base.startswith(".") or base != base.strip():
        raise ValueError(f"{name!r}: 不是有效的文件名 (not a valid file name)")
    if Path(base).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ValueError(f"{base}: 不支持的文件类型，可用 {kinds} (unsupported file type)")
    limit = settings.max_file_bytes if is_paged(base) else settings.max_doc_bytes
    if size > limit:
        raise ValueError(f"{base}: {size / 1e6:.1f} MB 超过 {limit / 1e6:.1f} MB 的上限 (file too large)")
    if size == 0:
        raise ValueError(f"{base}: 空文件 (empty file)")
    return base


def _unique(names: list[str]) -> None:
    if not names:
        raise ValueError("没有可添加的文件 (no supported files given)")
    twice = [n for n, k in Counter(names).items() if k > 1]
    if twice:
        raise ValueError(f"同名文件出现多次: {'、'.join(twice)} (two files of the same name)")


def _readable(f: Path) -> Path:
    if not f.is_file():
        raise ValueError(f"{f}: 不存在或不是文件 (not a file)")
    if not os.access(f, os.R_OK):
        raise ValueError(f"{f}: 无法读取 (can't be read)")
    return f


def _place(settings: Settings, name: str, write) -> None:
    """Write a file into the documents folder under a hidden name, then rename it."""
    folder = Path(settings.docs_dir)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".adding-{os.getpid()}-{name}"
    try:
        write(tmp)
        os.replace(tmp, folder / name)
    finally:
        tmp.unlink(missing_ok=True)


def _change(settings: Settings, embedder: Embedder, names: list[str], progress: bool) -> Change:
    index, _ = refresh(settings, embedder, progress)
    skipped = tuple(m for m in index.manifest.get("skipped", []) if any(m.startswith(f"{n}:") for n in names))
    return Change(index, tuple(names), skipped)


def add(settings: Settings, paths: Iterable[Path], embedder: Embedder, progress: bool = True) -> Change:
    """Copy files (and the supported files of folders) in, and index them."""
    checked = [(f, check_upload(f.name, _readable(f).stat().st_size, settings)) for f in _candidates(paths)]
    _unique([name for _, name in checked])
    for source, name in checked:
        _place(settings, name, lambda tmp, source=source: shutil.copyfile(source, tmp))
    return _change(settings, embedder, [name for _, name in checked], progress)


def add_bytes(
    settings: Settings, files: Iterable[tuple[str, bytes]], embedder: Embedder, progress: bool = False
) -> Change:
    """Store uploaded (name, content) pairs as documents, and index them."""
    checked = [(check_upload(name, len(data), settings), data) for name, data in files]
    _unique([name for name, _ in checked])
    for name, data in checked:
        _place(settings, name, lambda tmp, data=data: tmp.write_bytes(data))
    return _change(settings, embedder, [n for n, _ in checked], progress)


def remove(settings: Settings, names: Iterable[str], embedder: Embedder, progress: bool = True) -> Change:
    """Delete documents (by file name) from the folder and the index."""
    names = list(dict.fromkeys(names))
    present = {s.name: s.path for s in scan(settings.docs_dir).sources}
    unknown = [n for n in names if n not in present]
    if unknown or not names:
        listed = "、".join(sorted(present))
        raise UnknownDocument(
            f"没有名为 {'、'.join(unknown) or '（空）'} 的文件 (unknown document); 可选的文件: {listed}"
        )
    if set(present) <= set(names):
        raise ValueError("不能删除全部文件：索引至少需要一份文件 (can't remove every document)")
    for n in names:
        present[n].unlink()
    return _change(settings, embedder, names, progress)
