from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import policyqa
from policyqa import open_index
from policyqa.errors import IndexFormatError, IndexNotFoundError, QueryError
from policyqa.index.store import open_store
from policyqa.search.retrieval import QueryTruncatedWarning
from tests.conftest import BUNDLED_DOC, DOHA_QUESTION

HIT_FIELDS = {"text", "score", "doc_id", "title", "start", "end", "page", "heading"}


def test_doha_question_returns_the_doha_chunk_first(bundled_store: str) -> None:
    hits = open_index(bundled_store).search(DOHA_QUESTION, k=5)
    assert len(hits) == 5 and "Doha" in hits[0].text
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert set(vars(hits[0])) >= HIT_FIELDS


def test_hits_and_chunks_are_exact_slices_of_the_document(bundled_store: str) -> None:
    idx = open_index(bundled_store)
    text = idx.document_text(BUNDLED_DOC)
    chunks = list(idx.chunks())
    assert len(chunks) == len(idx) > 0
    assert all(text[c.start : c.end] == c.text for c in chunks)
    for hit in idx.search("economic development of Afghanistan", k=3):
        assert text[hit.start : hit.end] == hit.text and hit.title


def test_doc_filter(bundled_store: str) -> None:
    idx = open_index(bundled_store)
    assert {h.doc_id for h in idx.search(DOHA_QUESTION, k=3, doc_ids=[BUNDLED_DOC])} == {BUNDLED_DOC}
    with pytest.raises(QueryError, match="no such document"):
        idx.search(DOHA_QUESTION, doc_ids=["missing.txt"])


@pytest.mark.parametrize("query", ["", "   \n\t ", None, 42])
def test_bad_queries_are_clear_errors(bundled_index: Path, query: object) -> None:
    with pytest.raises(QueryError):
        open_index(bundled_index).search(query)  # type: ignore[arg-type]


@pytest.mark.parametrize("k", [0, -1, 10_000, 2.5, True])
def test_bad_k(bundled_index: Path, k: object) -> None:
    with pytest.raises(QueryError, match="k must be"):
        open_index(bundled_index).search("Doha", k=k)  # type: ignore[arg-type]


def test_huge_query_is_truncated_with_a_warning(bundled_index: Path) -> None:
    query = DOHA_QUESTION + " peace" * 20_000  # ~120 KB
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hits = open_index(bundled_index).search(query, k=2)
    assert len(hits) == 2
    assert any(issubclass(w.category, QueryTruncatedWarning) for w in caught)


def test_k_larger_than_index_returns_everything(bundled_store: str) -> None:
    """Every chunk is shown, inside one of the distinct passages (small-to-big grows matches into passages)."""
    idx = open_index(bundled_store)
    hits = idx.search("Tashkent", k=999)
    spans = sorted((h.start, h.end) for h in hits)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))
    chunks = list(idx.chunks())
    assert len(chunks) == len(idx) > len(hits)
    assert all(any(h.start <= c.start and c.end <= h.end for h in hits) for c in chunks)
    assert sorted(i for h in hits for i in h.chunk_ids) == sorted(c.id for c in chunks)
    reader = open_store(bundled_store).open_current()
    try:
        for hit in hits:  # twice: the second read may come from the reader's memory
            text = reader.document_text(hit.doc_id) or ""
            assert hit.text == text[hit.start : hit.end]
            assert reader.document_slice(hit.doc_id, hit.start, hit.end) == hit.text
            assert reader.document_slice(hit.doc_id, hit.start, hit.end) == hit.text
    finally:
        reader.close()


def test_missing_and_damaged_index_errors_say_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="policyqa build"):
        open_index(tmp_path / "none")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "CURRENT").write_text("../../etc", encoding="utf-8")
    with pytest.raises(IndexFormatError, match="policyqa build"):
        open_index(tmp_path / "bad")


def test_front_matter_and_reading_notes_are_kept_with_the_document(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "leave.md").write_text(
        "---\ntitle: Leave policy\ndate: 2024-05-01\n---\n# Leave\n\nStaff get 25 days of leave.\n", encoding="utf-8"
    )
    (corpus / "saved.pdf").write_text("Plain notes saved under a PDF name. " * 5, encoding="utf-8")
    report = policyqa.build_index(corpus, tmp_path / "index", progress=False, log=lambda _m: None)
    assert "read as plain text" in report.reading_notes["saved.pdf"][0] and "note on saved.pdf" in report.summary()
    index = policyqa.open_index(tmp_path / "index")
    doc = index.document("leave.md")
    assert doc.title == "Leave policy" and ("date", "2024-05-01") in doc.metadata and "date:" not in doc.text
    notes = [d.notes for d in index.documents() if d.doc_id == "saved.pdf"][0]
    assert notes == tuple(report.reading_notes["saved.pdf"])
