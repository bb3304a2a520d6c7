"""What the MCP tools return: typed results an assistant reads as structured output (JSON with a schema).

Every passage, quote and span carries its doc_id and offsets into the document's indexed text:
`read_document(doc_id, start, end).text` is the same characters, so a citation can be checked.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from policyqa.answer.types import Answer, Citation
from policyqa.index.records import DocumentRecord
from policyqa.search.retrieval import Hit

AnswerState = Literal["answered", "partial", "unsure", "refused"]


class Passage(BaseModel):
    rank: int
    score: float = Field(description="P(a close match): the calibrated probability that the passage is on the query")
    doc_id: str
    title: str
    page: int | None = Field(description="1-based page index of the passage's start; null for documents without pages")
    page_label: str | None = Field(None, description="the printed page label where it differs from the page index")
    heading: str | None = Field(description="the section the passage is in")
    start: int = Field(description="document text[start:end] is `text`, exactly")
    end: int
    text: str

    @classmethod
    def of(cls, hit: Hit) -> Passage:
        return cls(**{name: getattr(hit, name) for name in cls.model_fields})


class SearchResult(BaseModel):
    query: str
    passages: list[Passage]
    close_match: bool = Field(description="false when no passage is a close match: the corpus may not cover it")


class Quote(BaseModel):
    marker: int = Field(description="the [n] in the answer text")
    doc_id: str
    title: str
    page: int | None
    page_label: str | None = None
    heading: str | None
    start: int = Field(description="document text[start:end] is the quote, exactly")
    end: int
    quote: str
    score: float = Field(description="P(this quote answers the question), calibrated")
    answer_start: int | None = Field(None, description="text[answer_start:answer_end]: the words that answer")
    answer_end: int | None = None

    @classmethod
    def of(cls, citation: Citation) -> Quote:
        return cls(**{name: getattr(citation, name) for name in cls.model_fields})


class AskResult(BaseModel):
    question: str
    state: AnswerState = Field(
        description="answered / partial (some parts answered) / unsure (closest evidence quoted, may not answer) / "
        "refused (the corpus does not say; nothing quoted)"
    )
    reason: str = Field(description="why, in one line a reader can check")
    text: str = Field(description="the answer: verbatim quotes each followed by its [n] marker")
    confidence: float = Field(description="P(the first quote answers); of the closest evidence when unsure/refused")
    citations: list[Quote]
    nearest: list[Passage] = Field(description="the passages read; on a refusal, the nearest material")

    @classmethod
    def of(cls, answer: Answer) -> AskResult:
        return cls(
            question=answer.question,
            state=answer.state,
            reason=answer.reason or answer.message,
            text=answer.text,
            confidence=answer.confidence,
            citations=[Quote.of(c) for c in answer.citations],
            nearest=[Passage.of(h) for h in answer.passages],
        )


class CompareCell(BaseModel):
    question: str
    doc_id: str
    title: str
    state: AnswerState
    quote: str = Field(description='document text[start:end], exactly; "" when the document does not answer')
    answer: str = Field(description="the words that answer, inside the quote; empty when none are picked out")
    page: int | None
    page_label: str | None = None
    start: int | None
    end: int | None
    evidence: float = Field(description="P(the quote answers), calibrated; of the closest evidence when it does not")
    sha256: str = Field(description="of the source file, to check the citation later")
    reason: str = ""

    @classmethod
    def of(cls, row: Any) -> CompareCell:
        return cls(**{name: getattr(row, name) for name in cls.model_fields})


class CompareResult(BaseModel):
    rows: list[CompareCell] = Field(description="one per (question, document), question by question")


class DocumentInfo(BaseModel):
    doc_id: str
    title: str
    sha256: str
    size: int = Field(description="bytes of the source file")
    chunks: int
    notes: list[str] = Field([], description="how the file was read, or that it changed since the build")

    @classmethod
    def of(cls, record: DocumentRecord, note: str | None = None) -> DocumentInfo:
        notes = [*record.notes, *([note] if note else [])]
        return cls(
            doc_id=record.doc_id,
            title=record.title,
            sha256=record.sha256,
            size=record.size,
            chunks=record.chunks,
            notes=notes,
        )


class DocumentList(BaseModel):
    generation: str = Field(description="the index generation answering now")
    documents: list[DocumentInfo]
    not_indexed: list[str] = Field([], description="files in the corpus folder that the index does not hold yet")


class DocumentSpan(BaseModel):
    doc_id: str
    title: str
    start: int
    end: int = Field(description="the text is document text[start:end], exactly")
    text: str
    length: int = Field(description="characters in the whole document")
    page: int | None = Field(description="the page `start` is on; null for documents without pages")
    page_label: str | None = None
    truncated: bool = Field(description="true when the span asked for was longer than one read; read on from `end`")
