"""Shared fixtures: a copy of the seeds, and a fast pipeline built on fakes
(hashing embedder, scripted LLM) that needs no model."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from rag import Pipeline, Settings
from rag.llms import ScriptedLLM, first_choices

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
GDP = "004_7c7b9bfef2df6a5e.txt"


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for f in SEEDS.glob("*.txt"):
        shutil.copy(f, folder / f.name)
    return folder


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fake_settings(docs: Path, index_dir: Path, **changes) -> Settings:
    # The refusal threshold is calibrated for e5; hashing vectors score lower.
    changes = {"refuse_below": 0.2} | changes
    return Settings(docs_dir=docs, index_dir=index_dir, embedder="hash", llm="scripted", **changes)


@pytest.fixture(scope="session")
def fake_index_dir(tmp_path_factory) -> tuple[Path, Path]:
    """Seeds and an index built once per session with the hashing embedder."""
    base = tmp_path_factory.mktemp("fake")
    docs = base / "docs"
    docs.mkdir()
    for f in SEEDS.glob("*.txt"):
        shutil.copy(f, docs / f.name)
    Pipeline(fake_settings(docs, base / "index")).index  # noqa: B018 - builds it
    return docs, base / "index"


@pytest.fixture
def fake_pipeline(fake_index_dir):
    """A pipeline on fakes whose LLM copies the first offered sentence."""
    docs, index_dir = fake_index_dir

    def make(script=None, **changes) -> Pipeline:
        llm = ScriptedLLM(script if script is not None else first_choices(1))
        return Pipeline(fake_settings(docs, index_dir, **changes), llm=llm)

    return make


@pytest.fixture
def all_offered(monkeypatch):
    """Offer the model every evidence sentence after the lead, not only those
    close to the best: tests of what happens to the model's output need it to
    have a choice, so that it is asked at all."""
    from rag import answering

    monkeypatch.setattr(answering, "_MARGIN", 1.0)


@pytest.fixture
def server(fake_pipeline):
    """Base URL of a serve endpoint over the fake pipeline, on 127.0.0.1."""
    import threading

    from rag.serve import serve

    srv = serve(fake_pipeline(), "127.0.0.1", 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


@pytest.fixture(scope="session")
def real_pipeline() -> Pipeline:
    """The bundled models and the real index (built on first use)."""
    return Pipeline(Settings())
