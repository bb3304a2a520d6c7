"""Cheap features of a (question part, quote) pair, the input of the answerability scorer (`answer.scorer`).

Everything here is computed from what `analyse` already has: the sentence's cosine with the question (late-chunked
vectors stored at build time), IDF-weighted coverage, the question's names found in the sentence itself or in the
document's title, the focus term (the part's rarest non-name word), the expected answer type found in the sentence
and next to the matched words, the passage's retrieval rank and the sentence's place among the candidates.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from policyqa.answer.grounding import (
    HOW_MEASURES,
    STOPWORDS,
    AnswerType,
    QuestionPart,
    Term,
    WordSet,
    coverage,
    has_type,
    words,
)

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
    "verb_in_sentence",
    "has_verb",
    "typed_by_focus",
    "max_missing",
    "pairs_in_sentence",
    "modifier_mismatch",
    "cover_gap",
    "names_missing_any",
    "typed_extra",
    "names_elsewhere",
    "focus_elsewhere",
    "person_named",
)
NEAR = 8  # words either side of a matched question word where the answer type must appear
FOCUS_NEAR = 6  # ... and of the focus word, for the answer type next to the focus
PAIR_SPAN = 3  # two neighbouring question terms count as a pair in the sentence when this close
_MEASURE = re.compile(rf"\bhow ({'|'.join(sorted(HOW_MEASURES))})\b|\bwhat (percentage|share|proportion)\b", re.I)
_AUX_DO = re.compile(r"\b(did|does|do|will|would|can|could|should|must|shall)\b", re.I)
_IRREGULAR = frozenset(
    re.findall(r"\w+", "held took spoke won led made gave said met began sent left told wrote brought paid ran became "
               "chose found drew lost built sold bought set put cut hit let rose fell grew knew saw")
)
# a word before the matched title that changes who is meant ("Deputy Director" is not "the Director")
_MODIFIERS = frozenset(
    re.findall(r"\w+", "deputy vice former acting assistant interim honorary first second next previous ex co")
)


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
    asked = " ".join(t.word for t in part.terms)
    hits = [i for i, w in enumerate(tokens) if _matches(asked, w)]
    keep = {j for i in hits for j in range(max(0, i - NEAR), min(len(tokens), i + NEAR + 1))}
    return " ".join(tokens[j] for j in sorted(keep))

# words that make a run of capitalised words a body, a place or a document rather than a person
_NOT_PERSON = frozenset(
    re.findall(
        r"\w+",
        "institute council club center centre foundation university ministry republic agreement conference declaration "
        "organisation organization agency office committee department commission studies relations affairs union "
        "states nations bank fund board program programme act law strategy framework central asian east west north "
        "south united european international national federal general government state city region",
    )
)
_CAPITAL_RUN = re.compile(r"(?<![.!?]\s)\b[A-Z][\w’'-]+(?:\s+(?:[A-Z]\.\s*)?[A-Z][\w’'-]+)+")


def person_named(sentence: str, question: str) -> bool:
    """The sentence names a person the question does not: two or more capitalised words in a row ("Akramjon
    Nematov", "SHALANDA D. YOUNG") that are not a body or place ("Valdai International Discussion Club")."""
    asked = _term_set(question)
    for match in _CAPITAL_RUN.finditer(sentence):
        if match.start() == 0:
            continue
        found = words(match.group())
        if not any(w.lower() in _NOT_PERSON for w in found) and not all(asked.has(w) for w in found):
            return True
    return False


def expected_type(part: QuestionPart) -> AnswerType | None:
    """The part's expected answer type; "how long / how far / what percentage" ask for a number too."""
    return part.expects or ("number" if _MEASURE.search(part.text) else None)


def main_verbs(part: QuestionPart) -> list[Term]:
    """The part's verbs, by form: past forms ("chaired", "held") and, after "did/does/will ...", its last plain word
    ("What did the review conclude?")."""
    plain = [t for t in part.terms if not t.is_name]
    verbs = [t for t in plain if (t.word.lower().endswith("ed") and len(t.word) > 4) or t.word.lower() in _IRREGULAR]
    tokens = [w for w in words(part.text) if w.lower() not in STOPWORDS]
    if _AUX_DO.search(part.text) and tokens and plain and tokens[-1] == plain[-1].word and plain[-1] not in verbs:
        verbs.append(plain[-1])
    return verbs


@lru_cache(maxsize=4096)
def _term_set(term: str) -> WordSet:
    return WordSet(term)


@lru_cache(maxsize=1 << 16)
def _matches(term: str, token: str) -> bool:
    """The question term (or terms) match this word of a sentence (WordSet's loose match). Pure, and the same pairs
    come back across sentences, questions and compare's cells: cached, as the match is most of the features' cost."""
    return _term_set(term).has(token)


@lru_cache(maxsize=1024)
def _part_facts(part: QuestionPart) -> tuple[tuple[Term, ...], AnswerType | None, frozenset[str]]:
    """What sentence_facts reads of the question part, the same for every candidate: verbs, expected type, words."""
    return tuple(main_verbs(part)), expected_type(part), frozenset(w.lower() for w in words(part.text))


def _positions(tokens: list[str], held: dict[str, bool]) -> dict[str, list[int]]:
    """Where each question term stands in the sentence (only terms the sentence holds are looked for)."""
    return {term: [i for i, w in enumerate(tokens) if _matches(term, w)] for term, found in held.items() if found}


def sentence_facts(part: QuestionPart, sentence: str, found: WordSet, focus: Term | None) -> list[float]:
    """Features read off the sentence itself: verbs, the answer type next to the focus, the weightiest missing term,
    question word pairs kept together, a modifier that changes who is meant."""
    tokens = words(sentence)
    lowered = [w.lower() for w in tokens]
    verbs, kind, asked = _part_facts(part)
    held = {t.word: found.has(t.word) for t in part.terms}
    total = sum(t.weight for t in part.terms) or 1.0
    missing = [t.weight for t in part.terms if not held[t.word]]
    typed_by_focus = 1.0 if kind is None else 0.0
    at = _positions(tokens, held)
    if kind is not None and focus is not None:
        for i in at.get(focus.word, []):
            near = " ".join(tokens[max(0, i - FOCUS_NEAR) : i + FOCUS_NEAR + 1])
            typed_by_focus = max(typed_by_focus, 1.0 if has_type(kind, near, part.text) else 0.0)
    pairs = list(zip(part.terms, part.terms[1:], strict=False))
    kept = 0
    for a, b in pairs:
        kept += any(abs(i - j) <= PAIR_SPAN for i in at.get(a.word, []) for j in at.get(b.word, []))
    mismatch = 0.0
    for places in at.values():
        for i in places:
            if i > 0 and lowered[i - 1] in _MODIFIERS and lowered[i - 1] not in asked:
                mismatch = 1.0
    typed_extra = 1.0 if kind is not None and kind != part.expects and has_type(kind, sentence, part.text) else 0.0
    return [
        sum(held[v.word] for v in verbs) / len(verbs) if verbs else 1.0,
        1.0 if verbs else 0.0,
        typed_by_focus,
        max(missing, default=0.0) / total,
        kept / len(pairs) if pairs else 1.0,
        mismatch,
        0.0,  # cover_gap: set by the caller, which sees every candidate
        0.0,
        typed_extra,
        0.0,  # names_elsewhere and focus_elsewhere: set by pair_features, which has the passages' words
        0.0,
        1.0 if part.expects != "person" else float(person_named(sentence, part.text)),
    ]


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
    best_cover: float,
    passages: WordSet,
) -> tuple[list[float], PairFacts]:
    """`passages`: the words of every sentence read for this question (and the documents' names): a question word
    found there but not in this quote is one the documents hold apart from it (a near miss by another name)."""
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
        *sentence_facts(part, sentence, found, focus),
    ]
    row[NAMES.index("cover_gap")] = row[NAMES.index("cover_sentence")] - best_cover
    row[NAMES.index("names_missing_any")] = 1.0 if len(in_title) < len(names) else 0.0
    quoted = WordSet(quote)
    apart = [t for t in names if passages.has(t.word) and not quoted.has(t.word) and not title_words.has(t.word)]
    row[NAMES.index("names_elsewhere")] = len(apart) / len(names) if names else 0.0
    row[NAMES.index("focus_elsewhere")] = (
        1.0 if focus is not None and passages.has(focus.word) and not quoted.has(focus.word) else 0.0
    )
    # the reason line speaks of the quote (the sentence and any neighbour it took)
    in_quote = [t for t in names if quoted.has(t.word)]
    facts = PairFacts(
        tuple(t.word for t in in_quote),
        tuple(t.word for t in names if t not in in_quote),
        focus.word if focus else None,
        focus is not None and quoted.has(focus.word),
        part.expects is not None and has_type(part.expects, quote, part.text),
    )
    return row, facts
