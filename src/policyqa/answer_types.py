"""Typed results of `PolicyIndex.ask`: an extractive answer whose every citation is a verbatim span."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from policyqa.retrieval import Hit

AnswerState = Literal["answered", "partial", "refused"]


@dataclass(frozen=True)
class Citation:
    marker: int  # the [n] in Answer.text
    doc_id: str
    title: str
    page: int | None
    heading: str | None
    start: int  # document.text[start:end] == quote, exactly
    end: int
    quote: str
    passage: str  # the retrieved chunk the quote was taken from
    passage_start: int
    passage_end: int
    score: float  # the evidence score of this quote (the one compared with the refusal threshold)


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # quotes (whitespace folded for reading) each followed by its marker, e.g. "… signed in Doha [1]"
    abstained: bool  # state == "refused" (kept for callers written before `state`)
    citations: list[Citation]
    passages: list[Hit]  # what was read, each scored by its best sentence's evidence; on refusal the "nearest material"
    confidence: float  # the evidence score compared with the refusal threshold
    message: str = ""  # why it refused, or a note for the reader
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    state: AnswerState = "answered"  # "partial": some parts of the question are answered, others not (see reason)
    reason: str = ""  # one line the reader can check, e.g. "No passage mentions 'Putin'."

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
