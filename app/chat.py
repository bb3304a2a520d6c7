"""A conversation as the Ask tab keeps it: each turn's library value (`policyqa.ConversationTurn`) and its HTML."""

from __future__ import annotations

from dataclasses import dataclass

from policyqa import Answer, ConversationTurn

HISTORY_QUESTION_CHARS = 300  # the history shows the start of a long question, not megabytes of it


def shown_question(question: str) -> str:
    shown = " ".join(str(question)[: HISTORY_QUESTION_CHARS * 2].split())
    return shown if len(shown) <= HISTORY_QUESTION_CHARS else shown[:HISTORY_QUESTION_CHARS] + "…"


@dataclass(frozen=True)
class ChatTurn:
    n: int  # counted from the conversation's first turn: keeps citation ids unique after old turns are dropped
    asked: ConversationTurn  # the question, what was searched for it, and its answer (the generated one if any)
    answer_html: str
    sources_html: str
    sources_label: str  # the summary line of the sources
    sources_open: bool  # an answer's sources start open; closest evidence and nearest material collapsed

    @property
    def answer(self) -> Answer:
        return self.asked.answer

    @property
    def question(self) -> str:
        """The question as shown: its start, when it is long."""
        return shown_question(self.asked.question)

    @property
    def outcome(self) -> str:
        """How the question went, for the browser's history."""
        answer = self.answer
        if answer.abstained:
            return "not answered by the corpus"
        return f"{answer.state}, {len(answer.citations)} source(s)"
