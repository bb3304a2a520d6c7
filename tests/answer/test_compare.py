"""PolicyIndex.compare on real files with the real model and index: one row per (question, document)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from policyqa import build_index, open_index
from policyqa.answer.compare import MAX_CELLS, MAX_QUESTIONS, CompareRow, compare_documents, row_from_answer
from policyqa.answer.verify import verify_quote
from policyqa.api import PolicyIndex
from policyqa.errors import QueryError
from tests.answer.three_policies import FACTS, OTHER, POLICIES, QUESTION, SILENT
from tests.conftest import BUNDLED_CORPUS, BUNDLED_DOC, DOHA_QUESTION


def test_one_row_per_question_and_document_with_the_files_sha256(three: tuple[Path, PolicyIndex]) -> None:
    corpus, index = three
    rows = index.compare([QUESTION, OTHER])
    documents = [d.doc_id for d in index.documents()]
    assert sorted(documents) == sorted(POLICIES)
    assert [(r.question, r.doc_id) for r in rows] == [(q, d) for q in (QUESTION, OTHER) for d in documents]
    for row in rows:
        assert isinstance(row, CompareRow)
        assert row.sha256 == hashlib.sha256((corpus / row.doc_id).read_bytes()).hexdigest()
        assert 0.0 <= row.evidence <= 1.0
        if row.start is None:
            assert row.state == "refused" and row.quote == "" and row.end is None
            continue
        assert index.document_text(row.doc_id)[row.start : row.end] == row.quote  # type: ignore[index]
        assert verify_quote(corpus / row.doc_id, row.doc_id, row.sha256, row.start, row.end, row.quote).ok  # type: ignore[arg-type]
        if row.answer:
            assert row.quote[row.answer_start - row.start : row.answer_end - row.start] == row.answer  # type: ignore[operator]


def test_each_document_gives_its_own_fact_and_the_silent_one_does_not_answer(three: tuple[Path, PolicyIndex]) -> None:
    _, index = three
    rows = {r.doc_id: r for r in index.compare([QUESTION])}
    for doc_id, fact in FACTS.items():
        assert fact in rows[doc_id].quote, rows[doc_id]
    silent = rows[SILENT]
    assert not silent.answers and silent.state in ("unsure", "refused")
    assert "31 days" not in silent.quote and "90 days" not in silent.quote
    assert silent.reason


def test_a_row_is_what_ask_restricted_to_the_document_decides(three: tuple[Path, PolicyIndex]) -> None:
    _, index = three
    documents = index.documents()
    rows = index.compare([QUESTION, OTHER])
    expected = [row_from_answer(index.ask(q, doc_ids=[d.doc_id]), d) for q in (QUESTION, OTHER) for d in documents]
    assert rows == expected


def test_documents_chosen_by_id_or_path(three: tuple[Path, PolicyIndex]) -> None:
    _, index = three
    wanted = [SILENT, "riverside_surveillance_policy.txt"]
    chosen = index.compare([QUESTION], wanted)
    assert [r.doc_id for r in chosen] == [d.doc_id for d in index.documents() if d.doc_id in wanted]
    assert [r.doc_id for r in index.compare([QUESTION], path="north*")] == ["northfield_cctv_policy.txt"]


@pytest.mark.parametrize(
    ("questions", "doc_ids", "path", "message"),
    [
        ([], None, None, "at least one question"),
        (QUESTION, None, None, "must be a list"),
        (["  "], None, None, "empty"),
        ([QUESTION] * (MAX_QUESTIONS + 1), None, None, f"at most {MAX_QUESTIONS}"),
        ([QUESTION], ["missing.txt"], None, "no such document"),
        ([QUESTION], [], None, "at least one document"),
        ([QUESTION], None, "nothing/*", "matches the path"),
    ],
)
def test_bad_requests_are_clear_errors(
    three: tuple[Path, PolicyIndex], questions: object, doc_ids: list[str] | None, path: str | None, message: str
) -> None:
    _, index = three
    with pytest.raises(QueryError, match=message):
        index.compare(questions, doc_ids, path=path)  # type: ignore[arg-type]


def test_too_large_a_grid_is_refused_before_any_work(three: tuple[Path, PolicyIndex]) -> None:
    _, index = three
    documents = index.documents()
    vectors = index.encode_texts([QUESTION])
    questions = [QUESTION] * (MAX_CELLS // len(documents) + 1)
    with pytest.raises(QueryError, match="choose documents"):
        compare_documents(
            index.generation, questions, np.repeat(vectors, len(questions), 0), documents, index.encode_texts
        )


def test_answered_row_has_its_answer_words(bundled_index: Path) -> None:
    index = open_index(bundled_index)
    (row,) = index.compare([DOHA_QUESTION])
    assert row.doc_id == BUNDLED_DOC and row.state == "answered" and row.answers
    assert row.answer == "Doha" and "Doha" in row.quote
    assert row.sha256 == hashlib.sha256((BUNDLED_CORPUS / BUNDLED_DOC).read_bytes()).hexdigest()


def test_a_pdf_row_names_the_quotes_page_and_verifies_against_the_pdf(tmp_path: Path) -> None:
    from tests.filemakers import make_pdf

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    pages = [
        "Eastfield Transport Authority Camera Policy. The authority runs cameras on buses and at stations.",
        "Retention. CCTV footage is kept for 60 days and is then deleted automatically.",
    ]
    make_pdf(corpus / "eastfield.pdf", pages)
    build_index(corpus, tmp_path / "index")
    index = open_index(tmp_path / "index")
    (row,) = index.compare([QUESTION])
    assert "60 days" in row.quote and row.page == 2
    assert row.start is not None and row.end is not None
    assert verify_quote(corpus / "eastfield.pdf", row.doc_id, row.sha256, row.start, row.end, row.quote).ok
    assert not verify_quote(corpus / "eastfield.pdf", row.doc_id, row.sha256, row.start + 3, row.end, row.quote).ok


def test_how_long_is_answered_by_the_document_that_states_the_duration(three: tuple[Path, PolicyIndex]) -> None:
    # "long" is the kind of question (a duration), not a word the quote must hold
    _, index = three
    answer = index.ask(QUESTION, doc_ids=["northfield_cctv_policy.txt"])
    assert answer.state == "answered", answer.reason
    assert "31 days" in answer.citations[0].quote
    for row in index.compare([QUESTION]):
        assert "'long'" not in row.reason, row
