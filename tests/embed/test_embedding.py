"""Embedding backends: which one is used, what the manifest records, and queries without torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from policyqa import Settings, build_index, open_index
from policyqa.embed.embedder import Embedder, backend_of, default_backend
from policyqa.errors import PolicyQAError
from policyqa.index.faiss_sqlite.files import current_manifest
from tests.conftest import BUNDLED_CORPUS, DOHA_QUESTION, REPO

FRESH_PROCESS = """
import json, sys
from policyqa import open_index
index = open_index(sys.argv[1])
hits = index.search(sys.argv[2], k=5)
answer = index.ask(sys.argv[2])
print(json.dumps({
    "torch_imported": "torch" in sys.modules or "sentence_transformers" in sys.modules,
    "hits": [[h.chunk_id, h.score] for h in hits],
    "answer": answer.text,
}))
"""


def test_manifest_records_the_backend(bundled_index: Path) -> None:
    assert default_backend() == "openvino"  # a dependency, so the default wherever policyqa is installed
    manifest = current_manifest(bundled_index)
    assert manifest is not None and backend_of(manifest) == "openvino"
    assert current_manifest(bundled_index.parent / "nowhere") is None


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(PolicyQAError, match="unknown embedding backend 'tensorflow'"):
        Embedder(backend="tensorflow")
    with pytest.raises(PolicyQAError, match=r"\$POLICYQA_BACKEND: unknown embedding backend 'jax'; choose one of"):
        Settings.from_env({"POLICYQA_BACKEND": "jax"})


def test_backend_order_explicit_then_settings_then_index(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Embedder().backend == "openvino"
    assert Embedder(index_backend="torch").backend == "torch"
    assert Embedder(index_backend="something-newer").backend == "openvino"  # unknown names in manifests ignored
    from_environment = Settings.from_env({"POLICYQA_BACKEND": "torch"})
    assert from_environment.embedder({"model": {"backend": "openvino"}}).backend == "torch"
    assert Embedder(backend="openvino").backend == "openvino"
    monkeypatch.setenv("POLICYQA_BACKEND", "torch")  # read by the entry points only: the library does not see it
    assert Embedder().backend == "openvino" and Settings().embedder(None).backend == "openvino"


@pytest.mark.parametrize("backend", ["torch", "openvino"])
def test_a_fresh_process_searches_and_answers_without_torch(backend: str, tmp_path: Path, embedder) -> None:
    """The CLI's cold path imports no torch on either backend. On torch indexes the numpy encoder stands in for
    sentence-transformers: same ranking, scores and answer as sentence-transformers in this process."""
    index_dir = tmp_path / "index"
    build_index(BUNDLED_CORPUS, index_dir, backend=backend, log=lambda _m: None)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO / "src")}
    env.pop("POLICYQA_BACKEND", None)
    run = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, str(index_dir), DOHA_QUESTION],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    fresh = json.loads(run.stdout)
    assert fresh["torch_imported"] is False

    embedder.model  # noqa: B018 - torch loaded here, so a torch index encodes with sentence-transformers
    index = open_index(index_dir)
    assert index.embedder.backend == backend
    hits = index.search(DOHA_QUESTION, k=5)
    assert [chunk for chunk, _ in fresh["hits"]] == [h.chunk_id for h in hits]
    for (_, score), hit in zip(fresh["hits"], hits, strict=True):
        assert score == pytest.approx(hit.score, abs=1e-5)
    assert fresh["answer"] == index.ask(DOHA_QUESTION).text
    assert "Doha" in fresh["answer"]


def test_cli_rejects_an_unknown_backend(bundled_index: Path) -> None:
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "policyqa"),
            "search",
            "Doha",
            "--index",
            str(bundled_index),
            "--backend",
            "tensorflow",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "invalid choice: 'tensorflow'" in run.stderr


def test_build_without_a_backend_keeps_the_index_backend(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("POLICYQA_BACKEND", raising=False)
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, backend="torch", log=lambda _m: None)
    (corpus / "extra.txt").write_text("The ministers met in Tashkent to discuss water sharing.", encoding="utf-8")
    report = build_index(corpus, index_dir, log=lambda _m: None)
    assert report.full_rebuild_reason is None and report.added == 1
    assert backend_of(current_manifest(index_dir)) == "torch"
