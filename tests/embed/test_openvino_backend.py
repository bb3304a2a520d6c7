"""The optional OpenVINO backend: export once, cached atomically, vectors that match torch, manifest-driven."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from policyqa import Settings, build_index, open_index
from policyqa.embed import openvino_backend as ov
from policyqa.embed.embedder import Embedder, backend_of
from policyqa.errors import ModelMismatchError, ModelNotFoundError
from policyqa.index.faiss_sqlite.files import current_manifest
from tests.conftest import BUNDLED_CORPUS, BUNDLED_DOC, DOHA_QUESTION


@pytest.fixture(scope="module")
def ov_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ov_cache")


@pytest.fixture(scope="module")
def ov_index(ov_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp("ov") / "index"
    exporting_into_the_cache = Settings(cache_dir=ov_cache)
    build_index(BUNDLED_CORPUS, index_dir, backend="openvino", log=lambda _m: None, settings=exporting_into_the_cache)
    return index_dir


def test_f32_vectors_match_torch(embedder, ov_cache: Path) -> None:
    """f32 is forced (INFERENCE_PRECISION_HINT), so this runs on every CPU, bf16-capable ones included."""
    texts = padded_batch_texts()
    expected = embedder.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    encoder = Embedder(backend="openvino", precision="f32")
    got = encoder.encode(texts)
    assert str(encoder._openvino().compiled.get_property("INFERENCE_PRECISION_HINT")) == "<Type: 'float32'>"
    assert got.shape == expected.shape
    assert float(np.abs(got - expected).max()) < 1e-4
    assert float((got * expected).sum(1).min()) > 0.99999


def padded_batch_texts() -> list[str]:
    """Lengths from empty to past the 256-token window, so every batch holds padding."""
    text = (BUNDLED_CORPUS / BUNDLED_DOC).read_text(encoding="utf-8")
    return ["", "Doha", DOHA_QUESTION, "word " * 400] + [text[i : i + 900] for i in range(0, len(text), 450)]


def test_manifest_and_queries_follow_the_index(ov_index: Path) -> None:
    assert backend_of(current_manifest(ov_index)) == "openvino"
    index = open_index(ov_index)
    assert index.embedder.backend == "openvino"
    assert index.search(DOHA_QUESTION, k=1)[0].doc_id == BUNDLED_DOC
    answer = index.ask(DOHA_QUESTION)
    assert not answer.abstained and "Doha" in answer.text
    with pytest.raises(ModelMismatchError, match="openvino backend.*torch backend"):
        open_index(ov_index, backend="torch")


def test_switching_backend_forces_a_full_rebuild(ov_cache: Path, corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, backend="torch", log=lambda _m: None)
    report = build_index(corpus, index_dir, backend="openvino", log=lambda _m: None)
    assert report.full_rebuild_reason and "backend: torch → openvino" in report.full_rebuild_reason
    again = build_index(corpus, index_dir, log=lambda _m: None)  # no backend given: the index's one is kept
    assert again.generation is None and again.full_rebuild_reason is None
    back = build_index(corpus, index_dir, backend="torch", log=lambda _m: None)
    assert "backend: openvino → torch" in back.full_rebuild_reason


def test_export_is_cached(ov_index: Path, ov_cache: Path, embedder) -> None:
    def must_not_load() -> None:
        raise AssertionError("the cached export was not used")

    first = ov.exported_model(embedder.model_dir, lambda: embedder.model[0].auto_model, ov_cache)
    assert first.is_relative_to(ov_cache), "the build exported into the settings' cache folder"
    assert ov.exported_model(embedder.model_dir, must_not_load, ov_cache) == first
    assert first.is_file() and first.with_suffix(".bin").is_file()


def test_a_failed_export_leaves_nothing_behind(embedder, tmp_path: Path) -> None:
    cache = tmp_path / "cache"

    class Broken:
        def eval(self) -> None:
            pass

    with pytest.raises(Exception):  # noqa: B017 - whatever OpenVINO raises for a module it cannot convert
        ov.exported_model(embedder.model_dir, Broken, cache)
    leftovers = [p for p in (cache / "openvino").iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []
    assert ov.exported_model(embedder.model_dir, lambda: embedder.model[0].auto_model, cache).is_file()


def test_missing_package_is_a_clear_error(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ov, "available", lambda: False)
    with pytest.raises(ModelNotFoundError, match="needs the 'openvino' package; install it with pip install"):
        build_index(corpus, tmp_path / "index", backend="openvino", log=lambda _m: None)
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_cli_build_and_search_with_openvino(ov_cache: Path, corpus: Path, tmp_path: Path) -> None:
    cli = str(Path(sys.executable).parent / "policyqa")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "POLICYQA_CACHE": str(ov_cache)}
    index_dir = str(tmp_path / "index")
    build = subprocess.run(
        [cli, "build", "--corpus", str(corpus), "--index", index_dir, "--backend", "openvino"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    assert "warning" not in build.stderr.lower()
    status = subprocess.run(
        [cli, "status", "--corpus", str(corpus), "--index", index_dir],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert "openvino backend" in status.stdout and "up to date" in status.stdout
    search = subprocess.run(
        [cli, "search", DOHA_QUESTION, "--index", index_dir, "-k", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert search.returncode == 0 and BUNDLED_DOC in search.stdout


def test_one_shared_encoder_is_safe_across_threads(ov_index: Path) -> None:
    """Builds and searches in a server share one compiled model; concurrent calls must not mix their outputs."""
    from concurrent.futures import ThreadPoolExecutor

    texts = [[f"question {n} about the Doha agreement and regional security"] * (3 + n) for n in range(8)]
    expected = [Embedder(backend="openvino").encode(batch) for batch in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda batch: Embedder(backend="openvino").encode(batch), texts * 3))
    for n, vectors in enumerate(got):
        np.testing.assert_array_equal(vectors, expected[n % len(texts)])


def test_models_it_cannot_reproduce_stay_on_torch(embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CLS-pooled model would get wrong vectors from mean pooling: it defaults to torch, and openvino is refused."""
    import json
    import shutil

    monkeypatch.delenv("POLICYQA_BACKEND", raising=False)
    cls_model = tmp_path / "cls-model"
    shutil.copytree(embedder.model_dir, cls_model)
    pooling = json.loads((cls_model / "1_Pooling" / "config.json").read_text())
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    (cls_model / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    assert Embedder(cls_model).backend == "torch"
    with pytest.raises(ModelNotFoundError, match="mean pooling .* use --backend torch"):
        Embedder(cls_model, backend="openvino").require_backend()
