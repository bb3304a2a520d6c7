"""Compare: every question asked of every chosen document, one row per (question, document).

Each row is what `PolicyIndex.ask(question, doc_ids=[doc_id])` decides (answered / partial / unsure / refused, the
same limits), reduced to its most probable quote. Each question is embedded once; retrieval is restricted to one
document at a time, so a document that says nothing on the question cannot borrow another's passages. The
second-stage re-ranker is not used (it is off by default): it would re-score 20 passages in every cell.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, cast

import numpy as np

from policyqa.answer.compose import LIMITS, Limits, analyse
from policyqa.answer.decision import decide
from policyqa.answer.pages import with_quote_pages
from policyqa.answer.types import Answer, AnswerState
from policyqa.errors import QueryError
from policyqa.index.records import DocumentRecord
from policyqa.index.store import IndexReader
from policyqa.search.retrieval import Mode, clean_query, retrieve

MAX_QUESTIONS = 20  # a comparison is a grid a person reads; 20 questions x a corpus is already a report
MAX_CELLS = 2000  # (question, document) pairs in one call: ~10 ms each here, so a call stays under half a minute
COMPARE_K = 5  # passages read per (question, document), as `ask` reads by default


@dataclass(frozen=True)
class CompareRow:
    """One cell of the grid. `quote` is document.text[start:end] exactly ("" with None offsets when refused);
    `answer` the words that answer inside it ("" when none are picked out); `evidence` the scorer's calibrated
    P(the quote answers), or of the closest evidence when unsure or refused; `sha256` that of the source file."""

    question: str
    doc_id: str
    title: str
    state: AnswerState
    quote: str
    answer: str
    page: int | None
    page_label: str | None
    start: int | None
    end: int | None
    answer_start: int | None
    answer_end: int | None
    evidence: float
    sha256: str
    reason: str = ""  # the answer's one-line reason ("P 0.12 that the quote answers …", "No passage mentions …")

    @property
    def answers(self) -> bool:
        return self.state in ("answered", "partial")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_questions(questions: object) -> list[str]:
    """The questions cleaned (whitespace folded), or a QueryError saying what is wrong."""
    if isinstance(questions, str) or not isinstance(questions, list | tuple):
        raise QueryError("questions must be a list of questions")
    if not questions:
        raise QueryError("ask at least one question to compare documents on")
    if len(questions) > MAX_QUESTIONS:
        raise QueryError(f"at most {MAX_QUESTIONS} questions in one comparison, got {len(questions)}")
    return [clean_query(q) for q in questions]


def row_from_answer(answer: Answer, document: DocumentRecord) -> CompareRow:
    """The row for one document's answer: its most probable quote, or an empty quote when refused."""
    if not answer.citations:
        return CompareRow(
            answer.question, document.doc_id, document.title, answer.state, "", "", None, None, None, None, None,
            None, round(float(answer.confidence), 4), document.sha256, answer.reason,
        )
    c = answer.citations[0]
    picked = c.answer_start is not None and c.answer_end is not None and (c.answer_start, c.answer_end) != (
        c.start, c.end
    )
    words = c.quote[c.answer_start - c.start : c.answer_end - c.start] if picked else ""  # type: ignore[operator]
    return CompareRow(
        answer.question, document.doc_id, document.title, answer.state, c.quote, words, c.page, c.page_label,
        c.start, c.end, c.answer_start if picked else None, c.answer_end if picked else None, c.score,
        document.sha256, answer.reason,
    )


def compare_documents(
    generation: IndexReader,
    questions: list[str],
    vectors: np.ndarray,
    documents: list[DocumentRecord],
    encode: Callable[[list[str]], np.ndarray],
    *,
    k: int = COMPARE_K,
    mode: Mode = "hybrid",
    limits: Limits = LIMITS,
) -> list[CompareRow]:
    """Rows question by question, documents in the order given. `vectors[i]` is questions[i] embedded."""
    if len(questions) * len(documents) > MAX_CELLS:
        raise QueryError(
            f"{len(questions)} questions x {len(documents)} documents is more than {MAX_CELLS:,} answers in one "
            "comparison; choose documents (doc_ids, or a path glob) or ask fewer questions at once"
        )
    generation = cast(IndexReader, _ReadOnce(generation))
    rows = []
    for question, vector in zip(questions, vectors, strict=True):
        for document in documents:
            hits = retrieve(generation, question, vector, k, [document.doc_id], mode)
            answer = with_quote_pages(decide(analyse(question, vector, hits, generation, encode), limits), generation)
            rows.append(row_from_answer(answer, document))
    return rows


class _ReadOnce:
    """The generation, with the document list and texts read once for the whole grid (every (question, document)
    cell would read them again: a tenth of the time on the PolicyQA policies)."""

    def __init__(self, reader: IndexReader):
        self._reader = reader
        self._documents: list[DocumentRecord] | None = None
        self._texts: dict[str, str | None] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)

    def __len__(self) -> int:
        return len(self._reader)

    def documents(self) -> list[DocumentRecord]:
        if self._documents is None:
            self._documents = self._reader.documents()
        return self._documents

    def document_text(self, doc_id: str) -> str | None:
        if doc_id not in self._texts:
            self._texts[doc_id] = self._reader.document_text(doc_id)
        return self._texts[doc_id]
