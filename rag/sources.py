"""Which entries of the documents folder are read, and how their bytes become text.

An entry is a source when its suffix is supported and its name isn't hidden. A
source is read only when that is safe and sensible:

- its name is valid UTF-8: the name is the document's id, written into the
  index's JSON files, and a name with undecodable bytes can't be;
- it is a regular file: a folder named x.txt has no text, and opening a FIFO
  would block the build until something writes to it;
- a symbolic link resolves inside the documents folder: a link to /etc/passwd
  would otherwise be indexed and quoted as a cited answer;
- it can be opened (permissions).

Every source that fails is skipped with a message naming it (escaped when the
name isn't valid UTF-8) and everything else is read, so one bad entry never
fails the build. The outcome depends only on the folder's contents: the same
folder gives the same sources and the same messages every time.

Text is UTF-16 or UTF-32 when it opens with their byte-order mark, otherwise
UTF-8 (with or without BOM) or GB18030 (a superset of GBK). A file with NUL
bytes in neither UTF-16 nor UTF-32 is binary and skipped.

Deliberately not done here: parsing text into documents (rag/documents.py).
"""

from __future__ import annotations

import codecs
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf", ".png", ".jpg", ".jpeg")

# Longest first: the UTF-32-LE mark starts with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_TEXT_CONTROLS = frozenset("\t\n\r\f\v")


class DocumentError(ValueError):
    """A source file that cannot be read as a document; the message names it."""


@dataclass(frozen=True)
class Source:
    path: Path  # the entry in the documents folder (a link stays a link)
    name: str  # file name: the document's id
    size: int
    sha256: str


@dataclass(frozen=True)
class Scan:
    sources: tuple[Source, ...]  # sorted by name
    skipped: tuple[str, ...]  # one message per entry left out, in name order


def shown(name: str) -> str:
    """A file name as it can be printed and logged: undecodable bytes and
    control characters escaped (b'\\xff' shows as \\xff)."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _valid_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # surrogate-escaped bytes from a non-UTF-8 name
        return False
    return True


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def open_source(path: Path) -> BinaryIO:
    """Open a file for reading, refusing anything but a regular file. Non-blocking,
    so that a FIFO swapped in after the check can't hang the build."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    f = os.fdopen(fd, "rb")
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        f.close()
        raise DocumentError(f"{shown(Path(path).name)}: {_kind(mode)}, not a regular file, skipped")
    return f


def _digest(path: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with open_source(path) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return size, h.hexdigest()


def _check(path: Path, root: Path) -> Source | str:
    """The entry as a source, or the message saying why it is skipped."""
    name = path.name
    if not _valid_name(name):
        return f"{shown(name)}: file name is not valid UTF-8, skipped"
    try:
        if path.is_symlink():
            # realpath(strict=True) raises for a missing target and for a loop alike.
            target = Path(os.path.realpath(path, strict=True))
            if not target.is_relative_to(root):
                return f"{name}: link to {shown(str(target))}, outside the documents folder, skipped"
        mode = os.stat(path).st_mode
    except OSError as e:
        return f"{name}: broken link ({e.strerror or e}), skipped"
    if not stat.S_ISREG(mode):
        return f"{name}: {_kind(mode)}, not a regular file, skipped"
    try:
        size, digest = _digest(path)
    except DocumentError as e:
        return str(e)
    except OSError as e:
        return f"{name}: can't be read ({e.strerror or e}), skipped"
    return Source(path, name, size, digest)


def scan(folder: Path) -> Scan:
    """The sources of a folder that can be read, and a message for each left out.
    Hidden entries and unsupported suffixes are not sources and get no message."""
    folder = Path(folder)
    try:
        names = sorted(os.listdir(folder))
    except OSError as e:
        raise DocumentError(f"documents folder {folder} can't be read ({e.strerror or e})") from e
    root = folder.resolve()
    sources, skipped = [], []
    for name in names:
        if name.startswith(".") or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
            continue
        checked = _check(folder / name, root)
        (sources if isinstance(checked, Source) else skipped).append(checked)
    return Scan(tuple(sources), tuple(skipped))


def source_files(folder: Path) -> list[Path]:
    """The readable sources of a folder, sorted by name."""
    return [s.path for s in scan(folder).sources]


def _looks_like_text(text: str) -> bool:
    return not any(ch < " " and ch not in _TEXT_CONTROLS for ch in text)


def read_text(path: Path) -> str:
    """Decode a file: UTF-16/32 by their BOM, else UTF-8 (BOM or not), else GB18030."""
    with open_source(path) as f:
        data = f.read()
    name = shown(Path(path).name)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                break
            if _looks_like_text(text):
                return text.lstrip("\ufeff")
            break
    if b"\x00" in data:
        raise DocumentError(f"{name}: binary file (contains NUL bytes), skipped")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DocumentError(f"{name}: cannot decode as UTF-8, UTF-16 or GBK, skipped")
