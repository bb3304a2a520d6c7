"""Pure functions that merge ranked lists of (chunk id, score) from dense and BM25 retrieval."""

from __future__ import annotations

from collections.abc import Sequence

Ranked = Sequence[tuple[int, float]]

RRF_K = 60


def reciprocal_rank_fusion(lists: Sequence[Ranked], k: int = RRF_K) -> list[tuple[int, float]]:
    """Cormack et al. 2009: score(d) = sum over lists of 1 / (k + rank of d), ranks from 1."""
    fused: dict[int, float] = {}
    for ranked in lists:
        for rank, (chunk_id, _score) in enumerate(ranked, 1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def weighted_fusion(dense: Ranked, sparse: Ranked, dense_weight: float) -> list[tuple[int, float]]:
    """Min-max normalise each list's scores to [0, 1], then dense_weight·dense + (1 − dense_weight)·bm25."""
    fused: dict[int, float] = {}
    for ranked, weight in ((dense, dense_weight), (sparse, 1.0 - dense_weight)):
        for chunk_id, normalised in _min_max(ranked):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight * normalised
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def _min_max(ranked: Ranked) -> list[tuple[int, float]]:
    if not ranked:
        return []
    scores = [s for _, s in ranked]
    low, high = min(scores), max(scores)
    if high == low:
        return [(chunk_id, 1.0) for chunk_id, _ in ranked]
    return [(chunk_id, (s - low) / (high - low)) for chunk_id, s in ranked]
