from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from policyqa import build_index, open_index
from policyqa.search.mmr import mmr_order


def reference_mmr(query: np.ndarray, docs: np.ndarray, k: int, diversity: float) -> list[int]:
    chosen: list[int] = []
    for _ in range(min(k, len(docs))):

        def gain(i: int) -> float:
            redundancy = max((float(docs[i] @ docs[j]) for j in chosen), default=0.0)
            return (1 - diversity) * float(docs[i] @ query) - (diversity * redundancy if chosen else 0.0)

        chosen.append(max((i for i in range(len(docs)) if i not in chosen), key=lambda i: (gain(i), -i)))
    return chosen


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 12), st.floats(0.0, 0.9))
def test_matches_reference(seed: int, k: int, diversity: float) -> None:
    rng = np.random.default_rng(seed)
    docs = rng.normal(size=(15, 8))
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    query = docs[0] + 0.1 * rng.normal(size=8)
    query /= np.linalg.norm(query)
    assert mmr_order(query, docs, k, diversity) == reference_mmr(query, docs, k, diversity)


def test_near_duplicates_are_pushed_down() -> None:
    query = np.array([1.0, 0.0, 0.0])
    a = np.array([0.99, 0.14, 0.0])
    docs = np.stack([a, a, np.array([0.8, 0.0, 0.6])])
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    assert mmr_order(query, docs, 2, diversity=0.0) == [0, 1]
    assert mmr_order(query, docs, 2, diversity=0.5) == [0, 2]


def test_search_with_mmr_returns_distinct_passages(tmp_path: Path, corpus: Path) -> None:
    paragraph = "Personal data is kept for twelve months and then deleted from all backups."
    for n in range(4):
        (corpus / f"copy{n}.txt").write_text(paragraph, encoding="utf-8")
    (corpus / "other.txt").write_text(
        "Personal data retention differs for payroll records: ten years.", encoding="utf-8"
    )
    build_index(corpus, tmp_path / "index")
    idx = open_index(tmp_path / "index")
    plain = [h.text for h in idx.search("How long is personal data kept?", k=3)]
    diverse = [h.text for h in idx.search("How long is personal data kept?", k=3, mmr=True)]
    assert plain.count(paragraph) == 3
    assert diverse.count(paragraph) < 3 and len(diverse) == 3
    assert not any(a == b for a, b in itertools.pairwise(diverse))
