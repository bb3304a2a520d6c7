"""Fixtures shared by the answer tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyqa import build_index, open_index
from policyqa.api import PolicyIndex
from tests.answer.three_policies import write_policies


@pytest.fixture(scope="session")
def three(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PolicyIndex]:
    """The three CCTV policies as a corpus folder and an index built from it (read-only for the tests)."""
    root = tmp_path_factory.mktemp("three_policies")
    corpus = write_policies(root / "corpus")
    build_index(corpus, root / "index")
    return corpus, open_index(root / "index")
