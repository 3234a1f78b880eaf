"""Faults: a build killed mid-way, a save killed at each of its steps, and a
model failing mid-answer."""

import builtins
import io
import itertools
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from rag.embeddings import HashingEmbedder
from rag.index import build, identity, load, load_or_build, save

from .conftest import ROOT, fake_settings
from .test_index import Recording

SLOW_BUILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from rag.embeddings import HashingEmbedder
    from rag.index import load_or_build
    from rag.settings import Settings

    class Slow(HashingEmbedder):
        def embed(self, texts, kind):
            print("embedding", flush=True)
            time.sleep(0.2)
            return super().embed(texts, kind)

    s = Settings(docs_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2]), embedder="hash")
    load_or_build(s, Slow(), progress=False)
    print("done", flush=True)
    """
)


def test_sigkill_mid_add_leaves_previous_index(seeds_copy, tmp_path):
    s = fake_settings(seeds_copy, tmp_path / "idx")
    e = HashingEmbedder()
    before = load_or_build(s, e, progress=False)
    (seeds_copy / "new.txt").write_text("一、新文件\n郑州市新增口袋公园30个。", encoding="utf-8")

    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_BUILD, str(seeds_copy), str(s.index_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "embedding"  # mid-build
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)

    # The previous build is still whole and CURRENT still names it.
    survivor = load(s.index_dir)
    assert len(survivor.chunks) == len(before.chunks)
    assert "new.txt" not in survivor.documents
    # The next start sees it is stale and adds the file, never loading a half-written build.
    e = Recording()
    after = load_or_build(s, e, progress=False)
    assert "new.txt" in after.documents
    assert e.texts and all("口袋公园" in t or "新文件" in t for t in e.texts)  # only the new file is embedded
    assert load(s.index_dir, identity(s, e)).search.dense_index.ntotal == len(after.chunks)
    assert not list(s.index_dir.glob(".tmp-*"))  # the killed build's leftovers are gone


# File-system calls a save makes, each one a step at which it can be killed.
# shutil.rmtree, pathlib and numpy go through these; faiss writes through C
# fopen, between two of them.
_OS_STEPS = ("open", "mkdir", "rename", "replace", "fsync", "unlink", "rmdir")


def _kill_before_step(n: int) -> None:
    """From now on, SIGKILL this process just before its n-th file-system step."""
    count = itertools.count(1)

    def hooked(fn):
        def step(*args, **kwargs):
            if next(count) == n:
                os.kill(os.getpid(), signal.SIGKILL)
            return fn(*args, **kwargs)

        return step

    for name in _OS_STEPS:
        setattr(os, name, hooked(getattr(os, name)))
    builtins.open = io.open = hooked(io.open)


def _save_killed_at(index, folder, n: int) -> bool:
    """Save in a forked child killed before step n; False if it finished first."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            _kill_before_step(n)
            save(index, folder)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return True
    assert os.waitstatus_to_exitcode(status) == 0, "the save failed without being killed"
    return False


@pytest.mark.parametrize("rebuild", ["identical", "changed"])
def test_sigkill_at_every_step_of_save_leaves_a_loadable_index(tmp_path, rebuild):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("一、公园\n郑州市新增口袋公园30个。\n二、道路\n新建道路12条。", encoding="utf-8")
    e = HashingEmbedder()
    s = fake_settings(docs, tmp_path / "pristine")
    old = build(s, e, progress=False)
    save(old, s.index_dir)
    if rebuild == "changed":
        (docs / "b.txt").write_text("一、学校\n新建中小学15所。", encoding="utf-8")
    new = build(s, e, progress=False)
    sizes = {len(old.chunks), len(new.chunks)}

    outcomes = set()
    for n in itertools.count(1):
        folder = tmp_path / f"kill-{n}"
        shutil.copytree(s.index_dir, folder)
        if not _save_killed_at(new, folder, n):
            break
        survivor = load(folder)  # never missing, never half-written
        assert len(survivor.chunks) in sizes, n
        outcomes.add("new" if survivor.manifest["build"] == new.manifest["build"] else "old")
        if rebuild == "identical":  # same sources: nothing to rebuild after the crash
            load(folder, identity(s, e))
        # The next save removes what the killed one left behind.
        save(new, folder)
        names = sorted(p.name for p in folder.iterdir() if p.name != ".lock")
        assert names[0] == "CURRENT" and len(names) == 2 and names[1].startswith("build-"), (n, names)
        shutil.rmtree(folder)
    assert n > 20  # the hooks did see the save's steps
    if rebuild == "changed":
        assert outcomes == {"old", "new"}  # killed both before and after CURRENT switched
