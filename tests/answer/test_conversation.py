"""Conversation turns through the facade: a follow-up carries the previous turn's subject, typed end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyqa import open_index
from policyqa.answer.conversation import ConversationTurn
from policyqa.api import PolicyIndex
from tests.conftest import DOHA_QUESTION


@pytest.fixture(scope="module")
def index(bundled_index: Path) -> PolicyIndex:
    return open_index(bundled_index)


def test_a_question_that_stands_alone_is_searched_as_asked(index: PolicyIndex) -> None:
    turn = index.ask_followup("  Where was the peace agreement   between the US and the Taliban signed? ")
    assert isinstance(turn, ConversationTurn) and not turn.expanded and turn.subject == ""
    assert turn.question == turn.query == turn.answered_from == DOHA_QUESTION
    assert not turn.answer.abstained and "Doha" in turn.answer.text


def test_a_follow_up_carries_the_subject_of_the_previous_turn(index: PolicyIndex) -> None:
    first = index.ask_followup("When was the International Conference on Afghanistan held in Tashkent?")
    second = index.ask_followup("And who initiated it?", first, k=5, mode="hybrid")
    assert second.expanded and "Tashkent" in second.subject and second.query.startswith("And who initiated it?")
    assert second.answered_from in (second.query, second.question)
    assert "Mirziyoyev" in second.answer.text
    alone = index.ask_followup("Who organized the conference?", second)
    assert not alone.expanded and alone.query == "Who organized the conference?"


def test_a_long_question_is_cut_to_what_retrieval_reads(index: PolicyIndex) -> None:
    from policyqa.search.retrieval import MAX_QUERY_CHARS

    with pytest.warns(UserWarning):
        turn = index.ask_followup("Who returns the office keys? " + "x" * 5000)
    assert len(turn.question) == len(turn.query) == MAX_QUERY_CHARS and not turn.expanded


def test_the_readers_note_and_the_refusal_reason_are_fields_of_their_own(index: PolicyIndex) -> None:
    refused = index.ask("Какой срок хранения видеозаписей?")
    assert refused.state == "refused" and refused.reason and "Latin script" in refused.note
    assert refused.message == f"{refused.note} The corpus does not answer this question. {refused.reason}"
    answered = index.ask(DOHA_QUESTION)
    assert answered.note == answered.message == "" and answered.reason
