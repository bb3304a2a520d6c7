"""Typed results of `PolicyIndex.ask`: an extractive answer whose every citation is a verbatim span."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from policyqa.search.retrieval import Hit

AnswerState = Literal["answered", "partial", "unsure", "refused"]


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
    score: float  # P(this quote answers the question), the answerability scorer's calibrated probability
    page_label: str | None = None  # the printed label of `page` where it differs from the page index ("iii")
    answer_start: int | None = None  # the words that answer: document.text[answer_start:answer_end], inside the quote
    answer_end: int | None = None


@dataclass(frozen=True)
class SentenceCheck:
    """One sentence of a generated answer, checked against the quotes it cites."""

    text: str  # the sentence without its [n] markers
    markers: list[int]
    supported: bool
    problems: list[str]  # why not, in words a reader can check ("the number 1999 is not in quote [1]")
    overlap: float  # share of the sentence's content words found in the cited quotes
    similarity: float  # best cosine between the sentence and a cited quote


@dataclass(frozen=True)
class GeneratedAnswer:
    """What the language model wrote, after the check; `source` says which text the Answer shows."""

    source: Literal["generated", "quoted"]
    model: str
    sentences: list[SentenceCheck]  # every generated sentence, supported or not
    quoted_text: str  # the extractive answer, shown instead when source == "quoted"
    fallback: str | None = None  # why the quoted answer is shown


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # quotes (whitespace folded for reading) each followed by its marker, e.g. "… signed in Doha [1]"
    abstained: bool  # state == "refused" (kept for callers written before `state`)
    citations: list[Citation]
    passages: list[Hit]  # what was read, each scored by P(a close match); on refusal the "nearest material"
    confidence: float  # P(the first quote answers), or of the closest evidence when unsure or refused
    message: str = ""  # `note`, and on a refusal REFUSAL_TEXT and `reason` after it, in one string (older callers)
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    # "partial": some parts of the question are answered, others not; "unsure": the closest evidence is quoted but
    # may not answer (text starts with compose.UNSURE_TEXT); "refused": nothing is quoted
    state: AnswerState = "answered"
    reason: str = ""  # one line the reader can check, e.g. "No passage mentions 'Putin'."
    generated: GeneratedAnswer | None = None  # set when a language model was asked (policyqa.answer.generate)
    note: str = ""  # for the reader beside the answer, e.g. that the question is not in a script the model reads

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
