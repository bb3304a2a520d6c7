"""Shared fixtures: the real bundled model, real FAISS, real files in temporary folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
BUNDLED_CORPUS = REPO / "corpus"
BUNDLED_DOC = "afghanistan_central_asia_security_conference_2020.txt"
DOHA_QUESTION = "Where was the peace agreement between the US and the Taliban signed?"


@pytest.fixture(scope="session")
def embedder():
    from policyqa.embed.embedder import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def bundled_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled corpus, built once per test session; tests must not modify it."""
    from policyqa import build_index

    index_dir = tmp_path_factory.mktemp("bundled") / "index"
    build_index(BUNDLED_CORPUS, index_dir)
    return index_dir


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A private copy of the bundled corpus that a test may change."""
    path = tmp_path / "corpus"
    shutil.copytree(BUNDLED_CORPUS, path)
    return path


# The store-facing tests run on both stores: a folder (FAISS+SQLite) and milvus-lite (a .db file, in process).
STORES = ["folder", "milvus"]


def store_location(kind: str, folder: Path) -> str:
    return str(folder / "index") if kind == "folder" else f"milvus://{folder}/index.db"


@pytest.fixture
def handlers(corpus: Path, bundled_index: Path, tmp_path: Path):  # -> policyqa_app.handlers.Handlers
    """The web app's handlers over a private copy of the bundled index and corpus (the `ui` extra)."""
    from policyqa_app.handlers import Handlers
    from policyqa_app.state import AppState

    index = tmp_path / "index"
    shutil.copytree(bundled_index, index, ignore=shutil.ignore_patterns("lock"))
    return Handlers(AppState(index, corpus))


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store location of each kind in the test's temporary folder."""
    return store_location(request.param, tmp_path)


@pytest.fixture(scope="session", params=STORES)
def bundled_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The bundled corpus built once per session into each kind of store; tests must not modify it."""
    if request.param == "folder":
        return str(request.getfixturevalue("bundled_index"))
    from policyqa import build_index

    location = store_location("milvus", tmp_path_factory.mktemp("bundled-milvus"))
    build_index(BUNDLED_CORPUS, location)
    return location
