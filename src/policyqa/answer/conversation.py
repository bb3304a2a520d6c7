"""A conversation's turns: the question, what was searched for it (a follow-up carries the previous turn's subject,
search/followup.py), and its answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from policyqa.answer.types import Answer
from policyqa.search.followup import best_answer, expand_followup
from policyqa.search.retrieval import MAX_QUERY_CHARS


@dataclass(frozen=True)
class ConversationTurn:
    question: str  # as asked, spaces folded, cut to what retrieval reads (MAX_QUERY_CHARS)
    query: str  # what was searched: the question, or a follow-up with `subject` added (cut the same way)
    subject: str  # the words carried over from the previous turn; "" when the question stands alone
    answered_from: str  # `query` or `question` (as asked): whichever found the stronger evidence
    answer: Answer

    @property
    def expanded(self) -> bool:
        return bool(self.subject)


def next_turn(
    ask: Callable[[str], Answer], question: str, previous: ConversationTurn | None = None
) -> ConversationTurn:
    """`question` asked with `ask` as the turn after `previous`: expanded with its subject when it leans on it."""
    expansion = expand_followup(question, previous.query if previous is not None else None)
    answer, answered_from = best_answer(ask, expansion)
    return ConversationTurn(
        expansion.question[:MAX_QUERY_CHARS],
        expansion.query[:MAX_QUERY_CHARS],
        expansion.subject,
        answered_from[:MAX_QUERY_CHARS],
        answer,
    )
