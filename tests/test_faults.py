"""Faults: a build killed mid-way, and a model failing mid-answer."""

import os
import signal
import subprocess
import sys
import textwrap
import time

from rag.embeddings import HashingEmbedder
from rag.index import identity, load, load_or_build

from .conftest import ROOT, fake_settings

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


def test_sigkill_mid_build_leaves_previous_index(seeds_copy, tmp_path):
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
    # The next start sees it is stale and rebuilds, never loading a half-written one.
    after = load_or_build(s, e, progress=False)
    assert "new.txt" in after.documents
    assert load(s.index_dir, identity(s, e)).dense.ntotal == len(after.chunks)
    assert not list(s.index_dir.glob(".tmp-*"))  # the killed build's leftovers are gone
