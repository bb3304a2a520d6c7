from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyqa import build_index, open_index
from policyqa.answer.compose import LIMITS, REFUSAL_TEXT, UNSURE_TEXT, Limits
from policyqa.errors import QueryError
from policyqa.ingest.sentences import sentence_spans
from tests.conftest import BUNDLED_DOC, DOHA_QUESTION, REPO

QUESTIONS = [json.loads(line) for line in (REPO / "eval" / "bundled_questions.jsonl").read_text().splitlines() if line]
ANSWERABLE = [q for q in QUESTIONS if q["answerable"]]
UNANSWERABLE = [q for q in QUESTIONS if not q["answerable"]]
NEAR_MISS = [q for q in UNANSWERABLE if q["kind"] == "near-miss"]
OFF_TOPIC = [q for q in UNANSWERABLE if q["kind"] == "off-topic"]


def fold(text: str) -> str:
    return " ".join(text.split()).lower()


@pytest.fixture(scope="module")
def answers(bundled_store: str) -> dict[str, object]:
    idx = open_index(bundled_store)
    return {q["question"]: idx.ask(q["question"]) for q in QUESTIONS}


def test_question_set_is_large_enough() -> None:
    assert len(ANSWERABLE) >= 20 and len(UNANSWERABLE) >= 5
    assert len(NEAR_MISS) >= 40 and sum(q["kind"] == "paraphrase" for q in ANSWERABLE) >= 20
    assert all(q["kind"] in ("original", "paraphrase") for q in ANSWERABLE)
    text = (REPO / "corpus" / BUNDLED_DOC).read_text(encoding="utf-8")
    assert all(q["answer"] in text for q in ANSWERABLE)


def test_every_citation_is_a_verbatim_span(bundled_store: str, answers: dict) -> None:
    idx = open_index(bundled_store)
    cited = 0
    for answer in answers.values():
        assert answer.abstained == (answer.state == "refused") and answer.reason
        assert answer.state == "refused" or answer.citations
        for citation in answer.citations:
            text = idx.document_text(citation.doc_id)
            assert text[citation.start : citation.end] == citation.quote
            spans = sentence_spans(text)  # a quote is whole sentences: never cut mid-sentence
            assert citation.start in {a for a, _ in spans} and citation.end in {b for _, b in spans}
            assert text[citation.passage_start : citation.passage_end] == citation.passage
            assert citation.start < citation.passage_end and citation.end > citation.passage_start
            assert f"[{citation.marker}]" in answer.text and fold(citation.quote) in fold(answer.text)
            cited += 1
    assert cited >= 30


def test_doha_answer_leads_with_the_answering_sentence(answers: dict) -> None:
    answer = answers["Where was the peace agreement between the United States and the Taliban signed?"]
    # answered, or (below the calibrated limit) the same sentence shown as the closest evidence
    shown = answer.text.removeprefix(UNSURE_TEXT).lstrip()
    assert answer.state in ("answered", "unsure") and shown.startswith("A major step forward")
    assert "Doha" in answer.citations[0].quote and answer.citations[0].marker == 1
    assert answer.citations[0].doc_id == BUNDLED_DOC and answer.citations[0].title


def test_answerable_questions_are_answered_with_the_expected_text(answers: dict) -> None:
    correct = [
        q["question"]
        for q in ANSWERABLE
        if answers[q["question"]].state != "refused" and fold(q["answer"]) in fold(answers[q["question"]].text)
    ]
    # Measured 60/62 with the calibrated limits (benchmarks-history.md, "Answers users can trust");
    # below 58 is a regression.
    assert len(correct) >= 58, sorted(set(q["question"] for q in ANSWERABLE) - set(correct))


def test_unanswerable_questions_are_not_answered(answers: dict) -> None:
    kept = [q["question"] for q in NEAR_MISS if answers[q["question"]].state in ("unsure", "refused")]
    # Not answered: refused, or only the closest evidence shown as unsure. The scorer was trained on these questions
    # (in sample; out-of-fold figures in BENCHMARKS.md), so this guards against regressions only.
    assert len(kept) >= 50, sorted(set(q["question"] for q in NEAR_MISS) - set(kept))
    for off_topic in OFF_TOPIC:
        answer = answers[off_topic["question"]]
        assert answer.abstained and answer.text == REFUSAL_TEXT and not answer.citations
        assert answer.passages, "a refusal still shows the nearest material"


def test_other_script_gets_a_clear_message(bundled_store: str) -> None:
    answer = open_index(bundled_store).ask("Где было подписано мирное соглашение?")
    assert "Latin script" in answer.message


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_is_an_error(bundled_index: Path, question: str) -> None:
    with pytest.raises(QueryError, match="empty"):
        open_index(bundled_index).ask(question)


def test_huge_question_is_answered_after_truncation(bundled_index: Path) -> None:
    with pytest.warns(UserWarning, match="only the first"):
        answer = open_index(bundled_index).ask(DOHA_QUESTION + " signed" * 30_000)
    assert "Doha" in answer.text


def test_document_filter_and_no_text_index(tmp_path: Path, corpus: Path) -> None:
    (corpus / "other.md").write_text("# Leave\n\nStaff get 25 days of annual leave.", encoding="utf-8")
    build_index(corpus, tmp_path / "index")
    idx = open_index(tmp_path / "index")
    answer = idx.ask("How many days of annual leave do staff get?", doc_ids=["other.md"])
    assert not answer.abstained and answer.citations[0].doc_id == "other.md" and "25 days" in answer.text
    assert all(c.doc_id == BUNDLED_DOC for c in idx.ask(DOHA_QUESTION, doc_ids=[BUNDLED_DOC]).citations)


def test_filters_matching_nothing_give_a_clear_message(bundled_store: str) -> None:
    answer = open_index(bundled_store).ask(DOHA_QUESTION, path="no-such-folder/*")
    assert answer.abstained and not answer.passages and "filters match no document" in answer.message


def test_a_missing_name_is_said_and_scores_are_probabilities(answers: dict) -> None:
    putin = answers["What did Vladimir Putin say about Afghanistan?"]
    assert putin.state in ("unsure", "refused") and "mention" in putin.reason and "'Putin'" in putin.reason
    assert putin.passages and putin.confidence < LIMITS.resolved()[0]
    answer_at, _ = LIMITS.resolved()
    for answer in answers.values():  # one meaning of score: P, of the best sentence for a passage, never a rank
        scores = [h.score for h in answer.passages]
        assert scores == sorted(scores, reverse=True) and all(0 <= s < 1 for s in scores)
        if answer.state in ("answered", "partial"):
            assert all(c.score >= answer_at for c in answer.citations) and answer.confidence >= answer_at
        else:
            assert answer.confidence < answer_at


def test_the_quote_takes_the_neighbour_that_holds_the_answer(answers: dict) -> None:
    who = answers["Who considers the Uzbek side an indispensable condition for solving the Afghan equation?"]
    assert who.state == "answered" and "Andrei Bystritsky" in who.citations[0].quote
    assert "In his opinion" in who.citations[0].quote  # the sentence that matched, with the one naming its subject
    role = answers["How did Bystritsky characterise the Uzbek side's role in the Afghan settlement?"]
    assert "Commenting on the role" in role.citations[0].quote and "indispensable" in role.citations[0].quote


def test_partly_covered_question_says_which_part_is_answered(bundled_store: str) -> None:
    question = "When was the International Conference on Afghanistan held in Tashkent, and how much did it cost?"
    # the date part scores P 0.77, below the calibrated 0.91 (so `ask` is unsure); a lower limit shows the partial path
    answer = open_index(bundled_store).ask(question, limits=Limits(threshold=0.5))
    assert answer.state == "partial" and not answer.abstained and "March 2018" in answer.text
    assert "Not answered" in answer.reason and "how much did it cost" in answer.reason
