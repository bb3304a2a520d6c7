"""The numpy forward pass against the real sentence-transformers model."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from policyqa.embed.numpy_bert import NumpyBertEncoder, erf, supports
from tests.conftest import BUNDLED_CORPUS, BUNDLED_DOC

TEXTS = [
    "",
    "Doha",
    "Where was the peace agreement between the US and the Taliban signed?",
    "Übergangsregierung — 和平协议 — مفاوضات السلام",
    "word " * 400,  # past the 256-token window: truncated the same way
    "  spaces\tand\nnewlines  ",
]


def corpus_texts() -> list[str]:
    text = (BUNDLED_CORPUS / BUNDLED_DOC).read_text(encoding="utf-8")
    return TEXTS + [text[i : i + 700] for i in range(0, len(text), 350)]


@pytest.mark.parametrize("batch_size", [1, 3, 32])
def test_matches_sentence_transformers(embedder, batch_size: int) -> None:
    texts = corpus_texts()
    expected = embedder.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    got = NumpyBertEncoder(embedder.model_dir, embedder.max_seq_length, batch_size=batch_size).encode(texts)
    assert got.shape == expected.shape and got.dtype == np.float32
    assert float(np.abs(got - expected).max()) < 2e-6
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)


def test_erf_matches_math_erf() -> None:
    x = np.linspace(-6, 6, 20001, dtype=np.float32)
    reference = np.array([math.erf(float(v)) for v in x])
    # A&S's 1.5e-7 plus float32 cancellation in 1 - poly·exp(-x²) near 0, where GELU multiplies it by ~x anyway
    assert float(np.abs(erf(x) - reference).max()) < 1e-6
    assert erf(x).dtype == np.float32


def _copy_model(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("model.safetensors"))
    (target / "model.safetensors").symlink_to(source / "model.safetensors")
    return target


def test_supports_only_the_recipe_it_implements(embedder, tmp_path: Path) -> None:
    assert supports(embedder.model_dir)
    cls_pooling = _copy_model(embedder.model_dir, tmp_path / "cls")
    config = json.loads((cls_pooling / "1_Pooling" / "config.json").read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    (cls_pooling / "1_Pooling" / "config.json").write_text(json.dumps(config))
    assert not supports(cls_pooling)

    roberta = _copy_model(embedder.model_dir, tmp_path / "roberta")
    config = json.loads((roberta / "config.json").read_text())
    (roberta / "config.json").write_text(json.dumps({**config, "model_type": "roberta"}))
    assert not supports(roberta)

    no_weights = _copy_model(embedder.model_dir, tmp_path / "no_weights")
    (no_weights / "model.safetensors").unlink()
    assert not supports(no_weights)
    assert not supports(tmp_path / "missing")
