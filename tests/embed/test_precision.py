"""OpenVINO precision: an explicit, recorded choice (f32 everywhere; bf16 where the CPU runs it natively)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from policyqa import build_index, open_index
from policyqa.embed import openvino_backend as ov
from policyqa.embed.embedder import Embedder, precision_of
from policyqa.errors import PolicyQAError
from policyqa.index.faiss_sqlite.files import current_manifest
from policyqa.ingest.chunking import ChunkSettings
from tests.conftest import BUNDLED_CORPUS, BUNDLED_DOC, DOHA_QUESTION, REPO
from tests.embed.test_openvino_backend import padded_batch_texts

NATIVE_BF16 = ov.available() and ov.native_bf16()
needs_bf16 = pytest.mark.skipif(
    not NATIVE_BF16,
    reason="this CPU has no native bf16 (no AVX512-BF16 or AMX in OpenVINO's OPTIMIZATION_CAPABILITIES); "
    "the f32 path is tested instead",
)
QUIET = {"log": lambda _m: None}


def bundled_questions() -> list[str]:
    lines = (REPO / "eval" / "bundled_questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


@pytest.fixture(autouse=True)
def no_precision_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POLICYQA_PRECISION", raising=False)
    monkeypatch.delenv("POLICYQA_BACKEND", raising=False)


def test_auto_is_bf16_exactly_where_the_cpu_has_it() -> None:
    assert Embedder(backend="openvino").precision == ("bf16" if NATIVE_BF16 else "f32")
    assert Embedder(backend="openvino", precision="f32").precision == "f32"
    assert Embedder(backend="torch").precision == "f32"


@needs_bf16
def test_bf16_vectors_stay_close_to_torch(embedder) -> None:
    texts = padded_batch_texts()
    expected = embedder.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    encoder = Embedder(backend="openvino", precision="bf16")
    got = encoder.encode(texts)
    assert str(encoder._openvino().compiled.get_property("INFERENCE_PRECISION_HINT")) == "<Type: 'bfloat16'>"
    assert float((got * expected).sum(1).min()) >= 0.9995
    assert not np.array_equal(got, Embedder(backend="openvino", precision="f32").encode(texts))  # really bf16


@needs_bf16
def test_bf16_finds_the_same_top5_as_torch(tmp_path: Path) -> None:
    # 200-token chunks shown as matched (the default before small-to-big): among the default's 64-token chunks, and
    # the passages grown from them, bf16 rounding reorders near-ties at rank 5 often enough to make the test moot.
    as_matched = ChunkSettings(200, 40, passage_chars=0)
    torch_index = open_index(_built(tmp_path / "torch", backend="torch", chunking=as_matched))
    bf16_index = open_index(_built(tmp_path / "bf16", backend="openvino", precision="bf16", chunking=as_matched))
    for question in bundled_questions():
        expected = torch_index.search(question, k=5, mode="dense")
        got = bf16_index.search(question, k=5, mode="dense")
        # The same five passages; inside them bf16 may swap two whose torch scores are near-ties.
        assert {hit.chunk_id for hit in got} == {hit.chunk_id for hit in expected}, question
        torch_scores = {hit.chunk_id: hit.score for hit in expected}
        for rank, hit in enumerate(got):
            if hit.chunk_id != expected[rank].chunk_id:
                assert abs(torch_scores[hit.chunk_id] - expected[rank].score) < 0.01, question


def test_precision_is_recorded_and_a_change_rebuilds_in_full(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, backend="openvino", precision="f32", **QUIET)
    assert precision_of(current_manifest(index_dir)) == "f32"
    again = build_index(corpus, index_dir, **QUIET)  # no precision given: the index's own is kept
    assert again.generation is None and again.full_rebuild_reason is None
    if NATIVE_BF16:
        changed = build_index(corpus, index_dir, precision="bf16", **QUIET)
        assert "precision: f32 → bf16" in changed.full_rebuild_reason
        assert precision_of(current_manifest(index_dir)) == "bf16"


def test_queries_in_the_other_precision_search_fine(tmp_path: Path) -> None:
    """A bf16 index queried in f32 (or the reverse) is allowed: the passages found agree (BENCHMARKS.md)."""
    built = "bf16" if NATIVE_BF16 else "f32"
    other = "f32" if NATIVE_BF16 else "bf16"
    index_dir = _built(tmp_path, backend="openvino", precision=built)
    index = open_index(index_dir, precision=other)  # type: ignore[arg-type]
    assert index.embedder.precision == "f32"  # bf16 asked for on a CPU without it falls back to f32
    assert index.search(DOHA_QUESTION, k=1)[0].doc_id == BUNDLED_DOC
    assert not index.ask(DOHA_QUESTION).abstained


def test_a_bf16_index_on_a_cpu_without_bf16(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An index built in bf16, then moved to an AVX2-only CPU: searches run in f32 and never fail; a build
    re-embeds in f32 and says why. The CPU check is the one thing replaced here: no other CPU is at hand."""
    index_dir = tmp_path / "index"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / BUNDLED_DOC).write_text((BUNDLED_CORPUS / BUNDLED_DOC).read_text(encoding="utf-8"), encoding="utf-8")
    build_index(corpus, index_dir, backend="openvino", precision="f32", **QUIET)
    if NATIVE_BF16:
        build_index(corpus, index_dir, precision="bf16", **QUIET)
    else:
        pytest.skip("this CPU has no native bf16: a bf16 index cannot be built here to move elsewhere")
    monkeypatch.setattr(ov, "native_bf16", lambda: False)
    index = open_index(index_dir)
    assert index.embedder.precision == "f32"
    assert index.search(DOHA_QUESTION, k=1)[0].doc_id == BUNDLED_DOC
    with pytest.raises(PolicyQAError, match="no native bf16"):
        build_index(corpus, index_dir, precision="bf16", **QUIET)
    report = build_index(corpus, index_dir, **QUIET)
    assert "precision: bf16 → f32" in report.full_rebuild_reason


def test_bad_precisions_are_clear_errors(corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(PolicyQAError, match="unknown precision 'fp8'; choose one of auto, f32, bf16"):
        build_index(corpus, tmp_path / "a", precision="fp8", **QUIET)  # type: ignore[arg-type]
    with pytest.raises(PolicyQAError, match="bf16 needs the openvino backend"):
        build_index(corpus, tmp_path / "b", backend="torch", precision="bf16", **QUIET)
    assert not (tmp_path / "a" / "CURRENT").exists() and not (tmp_path / "b" / "CURRENT").exists()


def test_cli_precision_flag_and_status(corpus: Path, tmp_path: Path) -> None:
    cli = str(Path(sys.executable).parent / "policyqa")
    env = {k: v for k, v in os.environ.items() if k not in ("POLICYQA_PRECISION", "POLICYQA_BACKEND")}
    index_dir = str(tmp_path / "index")
    paths = ["--corpus", str(corpus), "--index", index_dir]
    run = {"capture_output": True, "text": True, "env": env, "timeout": 300}
    build = subprocess.run([cli, "build", *paths, "--precision", "f32"], **run)
    assert build.returncode == 0, build.stderr
    status = subprocess.run([cli, "status", *paths, "--json"], **run)
    assert json.loads(status.stdout)["precision"] == "f32"
    text = subprocess.run([cli, "status", *paths], **run).stdout
    assert "openvino backend, f32 precision" in text
    bad = subprocess.run([cli, "build", *paths, "--precision", "fp64"], **run)
    assert bad.returncode == 2 and "invalid choice: 'fp64'" in bad.stderr


def _built(folder: Path, **options: object) -> Path:
    index_dir = folder / "index"
    build_index(BUNDLED_CORPUS, index_dir, **options, **QUIET)  # type: ignore[arg-type]
    return index_dir
