"""Maximal marginal relevance (Carbonell & Goldstein 1998): a pure re-ordering for diverse results."""

from __future__ import annotations

import numpy as np


def mmr_order(query: np.ndarray, candidates: np.ndarray, k: int, diversity: float = 0.5) -> list[int]:
    """Indices of `candidates` (rows, normalised) chosen greedily by
    (1 − diversity)·sim(query, d) − diversity·max sim(d, already chosen)."""
    if len(candidates) == 0 or k <= 0:
        return []
    relevance = candidates @ query
    similarity = candidates @ candidates.T
    chosen: list[int] = [int(np.argmax(relevance))]
    remaining = set(range(len(candidates))) - set(chosen)
    while remaining and len(chosen) < k:
        rest = np.array(sorted(remaining))
        redundancy = similarity[np.ix_(rest, np.array(chosen))].max(axis=1)
        scores = (1 - diversity) * relevance[rest] - diversity * redundancy
        best = int(rest[int(np.argmax(scores))])
        chosen.append(best)
        remaining.discard(best)
    return chosen
