"""The generated-sentence checker on hand-written good and bad sentences (eval/generated_checks.jsonl)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from policyqa.answer.claims import check_answer, names, numbers, split_sentences
from tests.conftest import BUNDLED_CORPUS, BUNDLED_DOC, REPO

CASES = [json.loads(line) for line in (REPO / "eval/generated_checks.jsonl").read_text("utf-8").splitlines() if line]
RULE_KINDS = {"wrong_number", "wrong_date", "wrong_name", "no_citation", "unknown_marker", "wrong_quote"}


def fold(text: str) -> str:
    return " ".join(text.replace("’", "'").split())


@pytest.fixture(scope="module")
def verdicts(embedder) -> list[tuple[dict, bool, list[str]]]:
    out = []
    for case in CASES:
        quotes = {int(n): q for n, q in case["quotes"].items()}
        (check,) = check_answer(case["sentence"], quotes, embedder.encode_queries)
        out.append((case, check.supported, check.problems))
    return out


def test_the_set_quotes_the_bundled_corpus_verbatim() -> None:
    corpus = fold((BUNDLED_CORPUS / BUNDLED_DOC).read_text("utf-8"))
    kinds = Counter(c["kind"] for c in CASES)
    assert kinds["good"] >= 15 and all(kinds[k] >= 1 for k in RULE_KINDS | {"unsupported"})
    for case in CASES:
        for quote in case["quotes"].values():
            assert fold(quote) in corpus, quote


def test_every_required_kind_of_bad_sentence_is_caught(verdicts: list) -> None:
    missed = [
        (c["kind"], c["sentence"]) for c, ok, _ in verdicts if not c["supported"] and ok and c["kind"] in RULE_KINDS
    ]
    assert missed == []


def test_good_sentences_pass_and_unsupported_claims_are_mostly_caught(verdicts: list) -> None:
    dropped_good = [(c["sentence"], problems) for c, ok, problems in verdicts if c["supported"] and not ok]
    assert dropped_good == []
    unsupported = [ok for c, ok, _ in verdicts if c["kind"] == "unsupported"]
    assert sum(not ok for ok in unsupported) >= len(unsupported) - 1


def test_problems_name_what_is_missing(embedder) -> None:
    quotes = {1: "The event was attended by over 80 authoritative experts from 11 countries."}
    (check,) = check_answer("Over 90 experts from Chile attended [1].", quotes, embedder.encode_queries)
    assert not check.supported
    assert "the number 90 is not in [1]" in check.problems and "'chile' is not in [1]" in check.problems
    (check,) = check_answer("Over 80 experts attended.", quotes, embedder.encode_queries)
    assert check.problems[0] == "cites no quote"


def test_sentences_keep_markers_written_after_the_full_stop() -> None:
    text = "The meeting was online. [1] It was held in 2020 [1, 2]. Experts took part [2][3]."
    assert split_sentences(text) == [
        ("The meeting was online.", [1]),
        ("It was held in 2020.", [1, 2]),
        ("Experts took part.", [2, 3]),
    ]
    assert split_sentences("") == [] and split_sentences("[1]") == []


def test_numbers_and_names_are_normalised() -> None:
    assert numbers("1,000 people on 26.08.2020, item 7.") == {"1000", "26.08.2020", "7"}
    assert names("The Taliban's office in Doha opened in February") == {"taliban", "doha", "february"}
    assert names("However, experts met.") == set()
