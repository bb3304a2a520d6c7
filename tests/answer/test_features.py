"""The scorer's sentence features on the failure kinds issue 23 lists: each pair differs only in what the feature
must see."""

from __future__ import annotations

from policyqa.answer.features import NAMES, main_verbs, person_named, sentence_facts
from policyqa.answer.grounding import QuestionPart, WordSet, question_parts


def part_of(question: str) -> QuestionPart:
    # longer words weigh more: a stand-in IDF that makes the rarest word the longest, as in a real index
    return question_parts(question, lambda found: [(float(len(w)), True) for w in found])[0]


def fact(question: str, sentence: str, name: str) -> float:
    part = part_of(question)
    plain = [t for t in part.terms if not t.is_name]
    focus = max(plain, key=lambda t: t.weight) if plain else None
    facts = sentence_facts(part, sentence, WordSet(sentence), focus)
    return facts[NAMES.index(name) - NAMES.index("verb_in_sentence")]


def test_the_main_verb_is_found_by_its_form() -> None:
    assert [t.word for t in main_verbs(part_of("Who chaired the panel?"))] == ["chaired"]
    assert [t.word for t in main_verbs(part_of("What did the review conclude?"))] == ["conclude"]
    question = "Who chaired the panel?"
    assert fact(question, "Experts from five countries took part in the panel.", "verb_in_sentence") == 0
    assert fact(question, "The panel was chaired by Maria Lopez.", "verb_in_sentence") == 1


def test_the_answer_type_must_stand_next_to_the_focus() -> None:
    question = "How many inspectors were deployed?"
    near = "Under the plan the agency deployed 40 inspectors in the north."
    far = "Inspectors were deployed across the northern region after the long review of the plan, which took 25 months."
    assert fact(question, near, "typed_by_focus") == 1
    assert fact(question, far, "typed_by_focus") == 0


def test_a_deputy_is_not_the_head() -> None:
    question = "Who is the Director of the Institute?"
    assert fact(question, "First Deputy Director of the Institute Akramjon Nematov spoke.", "modifier_mismatch") == 1
    assert fact(question, "The Director of the Institute, Akramjon Nematov, spoke.", "modifier_mismatch") == 0


def test_who_needs_a_person_not_any_capitalised_word() -> None:
    assert person_named("In turn, Andrey Bystritsky, Chairman of the Council, said so.", "Who chairs the Council?")
    assert not person_named("Experts from Russia took part in the panel.", "Who chaired the panel?")
    assert not person_named(
        "Analysts came from the Kazakhstan Institute for Strategic Studies under the President of the Republic of "
        "Kazakhstan.",
        "Who is the President of Kazakhstan?",
    )
    assert person_named("Approved: SHALANDA D. YOUNG, Director", "Who signed the memorandum?")


def test_question_words_kept_together() -> None:
    question = "When was the peace agreement signed?"
    together = "The peace agreement was signed in Doha in February."
    apart = "Peace returned slowly; an agreement on trade was signed in 2019."
    assert fact(question, together, "pairs_in_sentence") > fact(question, apart, "pairs_in_sentence")


def test_how_long_asks_for_a_duration_not_for_the_word_long() -> None:
    question = "How long is CCTV footage kept?"
    assert [t.word for t in part_of(question).terms] == ["CCTV", "footage", "kept"]
    stating = "CCTV footage is kept for 31 days and is then deleted."
    assert fact(question, stating, "max_missing") == 0
    assert fact(question, stating, "typed_by_focus") == 1  # "how long" still expects a number next to the focus
    assert fact(question, "CCTV footage is kept in a locked room.", "typed_by_focus") == 0
    # "long" that is not the kind of the question stays a word the quote must hold
    assert "long" in [t.word for t in part_of("Is there a long retention period for footage?").terms]
