"""BM25 against a from-scratch reference (Lucene-style idf, k1=1.5, b=0.75, the bm25s defaults)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from policyqa import build_index, open_index
from policyqa.index.faiss_sqlite.sparse import SparseIndex, write_bm25
from policyqa.ingest.terms import tokenize

TEXTS = [
    "Personal data is retained for twelve months after account closure.",
    "Cookies are used for analytics and advertising partners.",
    "Users may request deletion of personal data at any time.",
    "The retention schedule is reviewed yearly by the data protection officer.",
]


def reference_bm25(query: str, texts: list[str], k1: float = 1.5, b: float = 0.75) -> np.ndarray:
    docs = tokenize(texts)
    terms = set(tokenize([query])[0])
    avg = sum(map(len, docs)) / len(docs)
    scores = np.zeros(len(docs))
    for term in terms:
        df = sum(term in d for d in docs)
        if not df:
            continue
        idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
        for i, d in enumerate(docs):
            tf = d.count(term)
            scores[i] += idf * tf / (tf + k1 * (1 - b + b * len(d) / avg))  # Lucene drops (k1 + 1)
    return scores


@pytest.mark.parametrize("query", ["personal data retention", "cookies advertising", "deletion request", "yearly"])
def test_scores_match_the_reference(tmp_path: Path, query: str) -> None:
    write_bm25(TEXTS, np.array([10, 11, 12, 13]), tmp_path)
    index = SparseIndex(tmp_path)
    np.testing.assert_allclose(index.scores(query), reference_bm25(query, TEXTS), rtol=1e-5)


def test_filter_and_unknown_words(tmp_path: Path) -> None:
    write_bm25(TEXTS, np.array([10, 11, 12, 13]), tmp_path)
    index = SparseIndex(tmp_path)
    assert index.top("personal data", 5, allowed_chunk_ids=np.array([12, 13]))[0][0] == 12
    assert all(i in (12, 13) for i, _ in index.top("personal data", 5, allowed_chunk_ids=np.array([12, 13])))
    assert index.top("zxqv unknownword", 3) == []
    assert not any(p.suffix == ".pkl" for p in (tmp_path / "bm25").iterdir())


def test_bm25_follows_adds_edits_and_deletes(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir)
    (corpus / "zanzibar.md").write_text("# Audits\n\nThe Zanzibar clause requires audits.", encoding="utf-8")
    build_index(corpus, index_dir)
    idx = open_index(index_dir)
    assert idx.search("Zanzibar", k=1, mode="bm25")[0].doc_id == "zanzibar.md"
    (corpus / "zanzibar.md").write_text("# Audits\n\nThe Marrakesh annex requires audits.", encoding="utf-8")
    build_index(corpus, index_dir)
    idx.refresh()
    assert idx.search("Zanzibar", k=3, mode="bm25") == []
    assert idx.search("Marrakesh", k=1, mode="bm25")[0].doc_id == "zanzibar.md"
    (corpus / "zanzibar.md").unlink()
    build_index(corpus, index_dir)
    idx.refresh()
    assert all(h.doc_id != "zanzibar.md" for h in idx.search("Marrakesh annex audits", k=5, mode="bm25"))
