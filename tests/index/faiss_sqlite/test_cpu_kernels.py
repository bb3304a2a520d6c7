"""FAISS picks its SIMD kernels by CPU (NONE, AVX2, AVX512…). Results must not depend on which: every level this
CPU can run is forced in turn and checked against numpy, so an AVX2-only and an AVX-512 machine pass alike."""

from __future__ import annotations

from collections.abc import Iterator

import faiss
import numpy as np
import pytest

from policyqa.index.faiss_sqlite.vector_index import TARGET_RECALL, build_vector_index, exact_top, recall_at, search
from tests.index.faiss_sqlite.test_vector_index import DIM, embedding_like

LEVELS = sorted(
    name.removeprefix("SIMDLevel_")
    for name in dir(faiss)
    if name.startswith("SIMDLevel_")
    and name != "SIMDLevel_COUNT"
    and faiss.SIMDConfig.is_simd_level_available(getattr(faiss, name))
)


@pytest.fixture(params=LEVELS)
def simd_level(request: pytest.FixtureRequest) -> Iterator[str]:
    before = faiss.SIMDConfig.get_level()
    faiss.SIMDConfig.set_level(getattr(faiss, f"SIMDLevel_{request.param}"))
    assert faiss.SIMDConfig.get_level_name() == request.param
    yield request.param
    faiss.SIMDConfig.set_level(before)


def test_levels_cover_the_generic_and_avx2_kernels() -> None:
    assert {"NONE", "AVX2"} <= set(LEVELS)  # every x86-64 machine of this kind has these two


def test_flat_search_matches_numpy_on_every_level(simd_level: str) -> None:
    vectors = embedding_like(3000, seed=5)
    ids = np.arange(3000, dtype=np.int64) * 7
    index, _ = build_vector_index(ids, vectors, DIM, threshold=10**9)
    queries = embedding_like(50, seed=6)
    scores, found = search(index, queries, 10)
    expected = exact_top(queries, vectors, ids, 10)
    assert recall_at(found, expected) == 1.0, simd_level
    by_id = dict(zip(ids.tolist(), vectors, strict=True))
    reference = np.array([[by_id[int(i)] @ q for i in row] for row, q in zip(found, queries, strict=True)])
    np.testing.assert_allclose(scores, reference, atol=1e-5)


def test_ivf_recall_on_every_level(simd_level: str) -> None:
    vectors = embedding_like(4000, seed=7)
    ids = np.arange(4000, dtype=np.int64)
    index, info = build_vector_index(ids, vectors, DIM, threshold=1000)
    assert info["calibrated_recall_at_10"] > 0
    queries = embedding_like(200, seed=8)
    _, found = search(index, queries, 10)
    assert recall_at(found, exact_top(queries, vectors, ids, 10)) >= TARGET_RECALL, simd_level
