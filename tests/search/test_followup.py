"""Follow-up questions: which lean on the previous question, and what they are expanded to."""

from __future__ import annotations

import pytest

from policyqa.search.followup import expand_followup, leans_on_previous

PREVIOUS = "When was the International Conference on Afghanistan held in Tashkent?"


@pytest.mark.parametrize(
    "question",
    ["And who initiated it?", "who chaired it?", "What about the Doha agreement?", "and when?", "Where was that?"],
)
def test_short_questions_that_refer_back_are_expanded(question: str) -> None:
    assert leans_on_previous(question)
    expansion = expand_followup(question, PREVIOUS)
    assert expansion.expanded and expansion.query.startswith(question)
    assert "Tashkent" in expansion.subject and "When" not in expansion.subject  # content words, as written


@pytest.mark.parametrize(
    "question",
    [
        "Who organized the online conference on Afghanistan?",
        "Where was the peace agreement between the United States and the Taliban signed?",
        "Which Kyrgyz think tank represented Kyrgyzstan at the conference in the end of that month?",
    ],
)
def test_questions_that_stand_alone_are_searched_as_asked(question: str) -> None:
    expansion = expand_followup(question, PREVIOUS)
    assert not expansion.expanded and expansion.query == question


def test_first_question_and_empty_input() -> None:
    assert expand_followup("And who initiated it?", None).query == "And who initiated it?"
    assert expand_followup("   ", PREVIOUS).query == ""
    assert expand_followup("  who   chaired it? ", PREVIOUS).question == "who chaired it?"


def test_best_answer_keeps_the_stronger_evidence(bundled_index) -> None:
    from policyqa import open_index
    from policyqa.search.followup import best_answer

    index = open_index(bundled_index)
    previous = "Where was the peace agreement between the United States and the Taliban signed?"
    expansion = expand_followup("In which month was it signed?", previous)
    answer, used = best_answer(lambda text: index.ask(text), expansion)
    assert used == expansion.query and "February" in answer.text  # as asked, "it" finds the wrong sentence
    plain = index.ask(expansion.question)
    assert answer.confidence >= plain.confidence
    standalone = expand_followup("Who organized the conference?", previous)
    assert best_answer(lambda text: index.ask(text), standalone)[1] == "Who organized the conference?"
