"""Cheap features of a (question part, quote) pair, the input of the answerability scorer (`answer.scorer`).

Everything here is computed from what `analyse` already has: the sentence's cosine with the question (late-chunked
vectors stored at build time), IDF-weighted coverage, the question's names found in the sentence itself or in the
document's title, the focus term (the part's rarest non-name word), the expected answer type found in the sentence
and next to the matched words, the passage's retrieval rank and the sentence's place among the candidates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from policyqa.answer.grounding import QuestionPart, WordSet, coverage, has_type, words

NAMES = (
    "bias",
    "dense",
    "dense_gap",
    "cover_sentence",
    "cover_quote",
    "names_sentence",
    "names_with_title",
    "has_names",
    "focus_in_sentence",
    "content_share",
    "typed_sentence",
    "typed_near",
    "typed_quote",
    "expects_type",
    "hit_rank",
    "order",
    "unseen_share",
    "absent_share",
    "log_words",
    "runner_up_gap",
    "dense_rank",
    "same_passage",
    "log_terms",
)
NEAR = 8  # words either side of a matched question word where the answer type must appear


@dataclass(frozen=True)
class PairFacts:
    """What the reason line may say: only facts of the quote itself."""

    names_found: tuple[str, ...]  # the question's names the quote contains
    names_missing: tuple[str, ...]  # ... and those it lacks (a document title may still hold them)
    focus: str | None  # the part's rarest non-name term
    focus_found: bool  # the quote holds it
    typed: bool  # the quote holds the expected kind of answer


def near_words(sentence: str, found: WordSet, part: QuestionPart) -> str:
    """The sentence's words within NEAR of a word the question also uses."""
    tokens = words(sentence)
    asked = WordSet(" ".join(t.word for t in part.terms))
    hits = [i for i, w in enumerate(tokens) if asked.has(w)]
    keep = {j for i in hits for j in range(max(0, i - NEAR), min(len(tokens), i + NEAR + 1))}
    return " ".join(tokens[j] for j in sorted(keep))


def pair_features(
    part: QuestionPart,
    sentence: str,
    quote: str,
    title_words: WordSet,
    dense: float,
    best_dense: float,
    runner_up: float,
    hit_rank: int,
    order: int,
    unseen_share: float,
    absent_share: float,
    dense_rank: int,
    same_passage: float,
) -> tuple[list[float], PairFacts]:
    found = WordSet(sentence)
    names = [t for t in part.terms if t.is_name]
    in_sentence = [t for t in names if found.has(t.word)]
    in_title = [t for t in names if found.has(t.word) or title_words.has(t.word)]
    plain = [t for t in part.terms if not t.is_name]
    focus = max(plain, key=lambda t: t.weight) if plain else None
    focus_found = focus is not None and found.has(focus.word)
    typed = has_type(part.expects, sentence, part.text)
    near = near_words(sentence, found, part)
    row = [
        1.0,
        dense,
        dense - best_dense,
        coverage(part, found),
        coverage(part, WordSet(quote)),
        len(in_sentence) / len(names) if names else 1.0,
        len(in_title) / len(names) if names else 1.0,
        1.0 if names else 0.0,
        1.0 if focus_found or focus is None else 0.0,
        sum(found.has(t.word) for t in plain) / len(plain) if plain else 1.0,
        1.0 if typed else 0.0,
        1.0 if has_type(part.expects, near, part.text) else 0.0,
        1.0 if has_type(part.expects, quote, part.text) else 0.0,
        0.0 if part.expects is None else 1.0,
        1.0 / (1 + hit_rank),
        1.0 / (1 + order),
        unseen_share,
        absent_share,
        math.log1p(len(words(sentence))) / 5,
        dense - runner_up,
        1.0 / (1 + dense_rank),
        same_passage,
        math.log1p(len(part.terms)) / 3,
    ]
    quoted = WordSet(quote)  # the reason line speaks of the quote (the sentence and any neighbour it took)
    in_quote = [t for t in names if quoted.has(t.word)]
    facts = PairFacts(
        tuple(t.word for t in in_quote),
        tuple(t.word for t in names if t not in in_quote),
        focus.word if focus else None,
        focus is not None and quoted.has(focus.word),
        part.expects is not None and has_type(part.expects, quote, part.text),
    )
    return row, facts
