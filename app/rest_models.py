"""Request and response models of the REST API (/api/v1): what the OpenAPI docs show and the server checks."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from policyqa import MAX_K, MAX_QUESTIONS, Answer, Citation, GeneratedAnswer, Hit

AnswerState = Literal["answered", "partial", "unsure", "refused"]


MAX_ID_CHARS = 4096  # PATH_MAX: no document id is longer


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is a 400, not silently ignored

    @model_validator(mode="after")
    def _plain_text(self) -> Strict:
        """JSON may carry what no file name or UTF-8 reply can: lone surrogates ("\\ud800") and NUL."""
        for name in type(self).model_fields:
            _check_text(name, getattr(self, name))
        return self


def _check_text(where: str, value: Any) -> None:
    if isinstance(value, str):
        if any("\ud800" <= c <= "\udfff" for c in value):
            raise ValueError(f"{where} has a lone surrogate (text that is not Unicode)")
        if "\x00" in value:
            raise ValueError(f"{where} has a NUL character")
    elif isinstance(value, list):
        for item in value:
            _check_text(where, item)
            if where == "doc_ids" and len(item) > MAX_ID_CHARS:
                raise ValueError(f"doc_ids has an id of {len(item)} characters, longer than any file name")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(where, key)
            _check_text(where, item)


class SearchRequest(Strict):
    query: str = Field(min_length=1, examples=["Where was the peace agreement signed?"])
    k: int = Field(5, ge=1, le=MAX_K, strict=True)  # strict: `true` or "3" is a 400, as on the command line
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    doc_ids: list[str] | None = Field(None, description="only these documents")
    path: str | None = Field(None, description='a glob on document ids, e.g. "policies/*.pdf"')
    where: dict[str, str] | None = Field(None, description="document fields: doc_id, title, type, folder, size, sha256")
    mmr: bool = False


class AskRequest(Strict):
    question: str = Field(min_length=1, examples=["Where was the peace agreement signed?"])
    k: int = Field(5, ge=1, le=MAX_K, strict=True)
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    doc_ids: list[str] | None = None
    path: str | None = None
    where: dict[str, str] | None = None
    generate: bool | None = Field(
        None, description="use the configured language model (default: when one is configured); quotes otherwise"
    )


class CompareRequest(Strict):
    questions: list[str] = Field(
        min_length=1, max_length=MAX_QUESTIONS, examples=[["How long is CCTV footage kept?"]],
        description=f"asked of every chosen document (1 to {MAX_QUESTIONS})",
    )
    doc_ids: list[str] | None = Field(None, description="only these documents (default: all)")
    path: str | None = Field(None, description='a glob on document ids, e.g. "policies/*.pdf"')
    k: int = Field(5, ge=1, le=MAX_K, strict=True, description="passages read per document")


class CompareRowOut(BaseModel):
    question: str
    doc_id: str
    title: str
    state: AnswerState = Field(description="answered / partial, or unsure / refused: the document does not answer")
    quote: str = Field(description="document text[start:end], exactly; empty when refused")
    answer: str = Field(description="the words in the quote that answer; empty when none are picked out")
    page: int | None
    page_label: str | None = None
    start: int | None
    end: int | None
    answer_start: int | None = None
    answer_end: int | None = None
    evidence: float = Field(description="P(the quote answers), the calibrated probability")
    sha256: str = Field(description="of the document's source file: a citation is checkable by sha256 and offsets")
    reason: str


class ExportContextOut(BaseModel):
    index_version: str
    model: str
    date: str


class CompareResponse(BaseModel):
    rows: list[CompareRowOut] = Field(description="one per (question, document), question by question")
    context: ExportContextOut


class HitOut(BaseModel):
    rank: int
    score: float = Field(description="P(a close match): the calibrated probability, the same meaning as in answers")
    doc_id: str
    title: str
    page: int | None
    page_label: str | None = Field(None, description="the printed page label where it differs from the page index")
    heading: str | None
    start: int
    end: int
    text: str

    @classmethod
    def of(cls, hit: Hit) -> HitOut:
        return cls(**{name: getattr(hit, name) for name in cls.model_fields})


class SearchResponse(BaseModel):
    hits: list[HitOut]
    close_match: bool = Field(True, description="false when no hit is a close match (every P below the model's limit)")


class CitationOut(BaseModel):
    marker: int
    doc_id: str
    title: str
    page: int | None
    page_label: str | None = Field(None, description="the printed page label where it differs from the page index")
    heading: str | None
    start: int = Field(description="document text[start:end] is the quote, exactly")
    end: int
    quote: str
    score: float = Field(description="P(this quote answers the question), the calibrated probability")
    answer_start: int | None = Field(None, description="document text[answer_start:answer_end]: the answering words")
    answer_end: int | None = None

    @classmethod
    def of(cls, citation: Citation) -> CitationOut:
        return cls(**{name: getattr(citation, name) for name in cls.model_fields})


class SentenceCheckOut(BaseModel):
    text: str
    markers: list[int]
    supported: bool
    problems: list[str]
    overlap: float
    similarity: float


class GenerationOut(BaseModel):
    source: Literal["generated", "quoted"] = Field(description="generated from quotes, or the quotes themselves")
    model: str | None = None
    fallback: str | None = Field(None, description="why the quoted answer is shown instead of a generated one")
    sentences: list[SentenceCheckOut] = Field([], description="every generated sentence and its check")
    quoted_text: str = Field(description="the extractive answer (quotes with [n])")

    @classmethod
    def of(cls, generated: GeneratedAnswer) -> GenerationOut:
        sentences = [SentenceCheckOut(**vars(s)) for s in generated.sentences]
        return cls(
            source=generated.source,
            model=generated.model,
            fallback=generated.fallback,
            sentences=sentences,
            quoted_text=generated.quoted_text,
        )


class AskResponse(BaseModel):
    question: str
    text: str
    state: AnswerState
    reason: str
    confidence: float = Field(description="P(the first quote answers); of the closest evidence when unsure or refused")
    citations: list[CitationOut]
    nearest: list[HitOut] = Field(description="the passages considered; on a refusal, the nearest material")
    generation: GenerationOut | None = None
    seconds: float

    @classmethod
    def of(cls, answer: Answer) -> AskResponse:
        return cls(
            question=answer.question,
            text=answer.text,
            state=answer.state,
            reason=answer.reason or answer.message,
            confidence=answer.confidence,
            citations=[CitationOut.of(c) for c in answer.citations],
            nearest=[HitOut.of(h) for h in answer.passages],
            generation=GenerationOut.of(answer.generated) if answer.generated else None,
            seconds=answer.seconds,
        )


class DocumentOut(BaseModel):
    doc_id: str
    title: str | None
    chunks: int | None
    size: int | None
    indexed: bool
    note: str = ""


class DocumentsResponse(BaseModel):
    documents: list[DocumentOut]


class UploadResponse(BaseModel):
    added: list[str] = Field(description="document ids the files were saved under")
    skipped: list[str] = Field([], description="files not saved: their content is already in the corpus")
    notes: list[str]


class DeleteResponse(BaseModel):
    deleted: str
    note: str


class BuildResponse(BaseModel):
    summary: str
    report: dict[str, Any]


class StatusResponse(BaseModel):
    indexed: bool
    building: bool
    generation: str | None = None
    model: str | None = None
    backend: str | None = None
    built_at: float | None = None
    documents: int = 0
    chunks: int = 0
    stale: dict[str, Any] = {}
    llm: str | None = Field(None, description="the language model used for generated answers, if configured")
    message: str | None = None
    watch: dict[str, Any] | None = Field(
        None, description="the corpus watcher: state, last build time, last error, files it could not read (off: null)"
    )


class ErrorResponse(BaseModel):
    message: str
    status: int
