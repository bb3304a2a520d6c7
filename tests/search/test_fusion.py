from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policyqa.search.fusion import reciprocal_rank_fusion, weighted_fusion


def test_rrf_matches_the_formula() -> None:
    dense = [(1, 0.9), (2, 0.8), (3, 0.1)]
    sparse = [(3, 7.0), (1, 2.0)]
    fused = dict(reciprocal_rank_fusion([dense, sparse], k=60))
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[2] == pytest.approx(1 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert [i for i, _ in reciprocal_rank_fusion([dense, sparse])] == [1, 3, 2]


def test_weighted_fusion_normalises_each_list() -> None:
    dense = [(1, 0.9), (2, 0.5)]
    sparse = [(2, 10.0), (3, 0.0)]
    fused = dict(weighted_fusion(dense, sparse, dense_weight=0.7))
    assert fused == pytest.approx({1: 0.7, 2: 0.3, 3: 0.0})
    assert weighted_fusion([], [], 0.5) == []


@given(
    st.lists(st.tuples(st.integers(0, 50), st.floats(-1, 1)), unique_by=lambda t: t[0], max_size=30),
    st.lists(st.tuples(st.integers(0, 50), st.floats(0, 20)), unique_by=lambda t: t[0], max_size=30),
)
def test_fusions_rank_every_candidate_once_in_score_order(dense, sparse) -> None:
    for fused in (reciprocal_rank_fusion([dense, sparse]), weighted_fusion(dense, sparse, 0.5)):
        ids = [i for i, _ in fused]
        assert sorted(ids) == sorted({i for i, _ in dense} | {i for i, _ in sparse})
        scores = [s for _, s in fused]
        assert scores == sorted(scores, reverse=True)
