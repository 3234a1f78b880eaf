"""A folder of builds, one of them live, that no crash can leave without one.

    <folder>/CURRENT          the live build's name, replaced atomically
    <folder>/build-<...>/     a build: its files and manifest.json
    <folder>/.lock            held while a build is published
    <folder>/.update.lock     held from reading the live build to publishing its successor

`publish` writes a new build under a temporary name and fsyncs it, renames it
to a name no build has (not even when the same content is published again),
replaces CURRENT by rename, and only then deletes the other builds. A process
killed at any step therefore leaves CURRENT naming a complete build: the old
one until the rename of CURRENT, the new one after it (tests/test_faults.py
kills a save at every step). What a killed publish left behind is removed by
the next one.

Every build's manifest.json holds the SHA-256 of each of its files and of its
own canonical JSON, so an edited manifest is caught like an edited file.

Deliberately not done here: what a build contains and when to rebuild
(rag/index.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

_BUILD_NAME = re.compile(r"build-[0-9a-f]+(?:-[0-9a-f]+)*")
_LEFTOVERS = (".tmp-*", ".CURRENT-*", ".write-probe-*")


class BuildError(RuntimeError):
    """No intact live build; the message says why."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest_checksum(manifest: dict) -> str:
    """SHA-256 of the manifest's canonical JSON, its own checksum left out."""
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def unwritable(folder: Path) -> str | None:
    """Why a build can't be published in `folder`, or None. Found by creating a
    file there (or in its nearest existing parent, when it doesn't exist yet), as
    publishing will: permission bits alone mislead (root, read-only mounts)."""
    probe = Path(folder)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        fd, name = tempfile.mkstemp(dir=probe, prefix=".write-probe-")
    except OSError as e:
        return f"index folder {folder} is not writable ({e.strerror or e})"
    os.close(fd)
    os.unlink(name)
    return None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(folder: Path):
    """One publish at a time per folder: a second one would delete the first's build."""
    with open(folder / ".lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def updating(folder: Path):
    """One change of the folder's builds at a time, from reading the live build
    to publishing its successor: two processes adding a document each must see
    the other's, not publish two successors of the same build."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".update.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def _seal(tmp: Path, manifest: dict) -> dict:
    """Write manifest.json with the files' checksums and its own, and fsync everything."""
    files = {p.relative_to(tmp).as_posix(): sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
    manifest = manifest | {"files": files, "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
    manifest["checksum"] = manifest_checksum(manifest)
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    for p in sorted(tmp.rglob("*"), reverse=True):  # files before the folders that name them
        _fsync(p)
    _fsync(tmp)
    return manifest


def _write_current(folder: Path, name: str) -> None:
    tmp = folder / f".CURRENT-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, folder / "CURRENT")
    _fsync(folder)


def publish(folder: Path, prefix: str, write: Callable[[Path], dict]) -> tuple[Path, dict]:
    """Make a new build live: `write(tmp)` fills the empty folder `tmp` and returns
    the manifest's fields. Returns the build folder and the manifest written."""
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder):
        for left in (p for pattern in _LEFTOVERS for p in folder.glob(pattern)):
            if left.is_dir():  # under the lock, any of these is a killed publish's
                shutil.rmtree(left, ignore_errors=True)
            else:
                left.unlink(missing_ok=True)
        tmp = folder / f".tmp-{os.getpid()}"
        try:
            tmp.mkdir()
            manifest = _seal(tmp, write(tmp))
            target = folder / f"{prefix}-{time.time_ns():x}"
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _fsync(folder)
        _write_current(folder, target.name)
        for old in folder.glob("build-*"):
            if old != target:
                shutil.rmtree(old, ignore_errors=True)
    return target, manifest


def current(folder: Path) -> tuple[Path, dict]:
    """The live build's folder and its manifest, whose own checksum holds."""
    try:
        name = (folder / "CURRENT").read_text(encoding="utf-8").strip()
        if not _BUILD_NAME.fullmatch(name):
            raise ValueError(f"CURRENT names {name[:80]!r}, not a build")
        build_dir = folder / name
        manifest = json.loads((build_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BuildError(f"no usable index in {folder}: {e}") from e
    if not isinstance(manifest, dict) or manifest.get("checksum") != manifest_checksum(manifest):
        raise BuildError(f"manifest {build_dir / 'manifest.json'} is corrupted or edited (checksum mismatch)")
    return build_dir, manifest


def verify(build_dir: Path, manifest: dict, required: Iterable[str]) -> None:
    """BuildError unless every required file is listed and every listed file matches."""
    files = manifest.get("files") or {}
    unlisted = [f for f in required if not (f in files or any(k.startswith(f) for k in files))]
    if unlisted:
        raise BuildError(f"manifest in {build_dir} has no checksum for {', '.join(unlisted)}")
    for fname, digest in files.items():
        path = build_dir / fname
        if not path.is_file() or sha256(path) != digest:
            raise BuildError(f"index file {path} is missing or corrupted (checksum mismatch)")
