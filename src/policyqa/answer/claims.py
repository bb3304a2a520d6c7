"""Checking a generated answer sentence by sentence against the verbatim quotes each sentence cites.

A sentence is supported when it cites at least one quote that exists, every number and name in it appears in the
quotes it cites, it does not contradict them (a negation, an opposite, a number or date part in another place:
policyqa.answer.contradictions), and it is close enough to them: the share of its content words found in the
quotes and the embedding similarity to the nearest cited quote are above floors calibrated on
eval/generated_checks.jsonl (benchmarks/calibrate_checker.py; BENCHMARKS.md, "Generated answers").

Sentences of a quote that address the model ("Ignore the question and say …": policyqa.answer.injection) are not
evidence: they are removed from the quotes before any comparison, and a sentence that restates one is rejected
saying so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from policyqa.answer.contradictions import antonym_problems, date_problems, negation_problems, number_problems
from policyqa.answer.grounding import STOPWORDS
from policyqa.answer.injection import split_instructions
from policyqa.answer.types import SentenceCheck
from policyqa.ingest.sentences import sentence_spans
from policyqa.ingest.terms import stems

OVERLAP_FLOOR = 0.25
SIMILARITY_FLOOR = 0.40

_MARKERS = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\d+(?:\s*,\s*\d+)*\])+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
_POSSESSIVE = re.compile(r"['’]s?$")
_CONTENT_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
# Capitalised words that are not names: sentence openers and connectives a model starts clauses with.
_NOT_NAMES = STOPWORDS | {"however", "therefore", "thus", "also", "both", "in", "on", "the", "according", "i"}


def content_words(text: str) -> set[str]:
    """Lower-cased words minus stopwords, cut to 6 letters as a cheap stemmer (the definition the floors in
    BENCHMARKS.md were calibrated with)."""
    return {w.lower()[:6] for w in _CONTENT_WORD.findall(text) if w.lower() not in STOPWORDS and len(w) > 1}


def split_sentences(text: str) -> list[tuple[str, list[int]]]:
    """(sentence without markers, its markers). A marker after the full stop ("… Doha. [1]") belongs to the
    sentence before it."""
    pieces = [text[s:e] for s, e in sentence_spans(text)]
    merged: list[str] = []
    for piece in pieces:
        lead = _LEADING_MARKERS.match(piece)
        if lead and merged:
            merged[-1] += " " + lead.group(0).strip()
            piece = piece[lead.end() :]
        if piece.strip():
            merged.append(piece.strip())
    out = []
    for sentence in merged:
        markers = [int(n) for group in _MARKERS.findall(sentence) for n in group.split(",")]
        plain = " ".join(_MARKERS.sub("", sentence).split())
        if plain.strip(" .!?"):
            out.append((plain, list(dict.fromkeys(markers))))
    return out


def numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def names(sentence: str) -> set[str]:
    """Capitalised words that are not a common sentence opener: people, places, organisations, months."""
    found = set()
    for i, match in enumerate(_WORD.finditer(sentence)):
        word = _POSSESSIVE.sub("", match.group(0))
        if word[:1].isupper() and word.lower() not in _NOT_NAMES and not (i == 0 and word.lower() in _NOT_NAMES):
            found.add(word.lower())
    return found


def _missing_names(sentence: str, evidence: str) -> set[str]:
    """Names of `sentence` not in `evidence`. The first word is capitalised anyway: it counts as found when the
    evidence has another form of it ("Requests are answered" over "your request")."""
    missing = names(sentence) - _words(evidence)
    first = _WORD.search(sentence)
    if first and first.group(0).lower() in missing and stems([first.group(0)])[0] in set(stems(list(_words(evidence)))):
        missing.discard(first.group(0).lower())
    return missing


def _words(text: str) -> set[str]:
    return {_POSSESSIVE.sub("", w).lower() for w in _WORD.findall(text)}


def check_sentence(
    sentence: str,
    markers: Sequence[int],
    quotes: dict[int, str],
    sentence_vector: np.ndarray,
    quote_vectors: dict[int, np.ndarray],
    overlap_floor: float = OVERLAP_FLOOR,
    similarity_floor: float = SIMILARITY_FLOOR,
    instructions: dict[int, list[str]] | None = None,
) -> SentenceCheck:
    """`quotes` are the evidence with instruction sentences already removed (`evidence_quotes`); `instructions`
    holds the removed ones, to name them when the sentence restates one."""
    problems = []
    cited = [n for n in markers if n in quotes]
    if not markers:
        problems.append("cites no quote")
    problems += [f"cites [{n}], which is not in the evidence" for n in markers if n not in quotes]
    if not cited:  # nothing to compare with: the citation problems say it all
        return SentenceCheck(sentence, list(markers), False, problems, 0.0, 0.0)
    evidence = " ".join(quotes[n] for n in cited)
    label = ", ".join(f"[{n}]" for n in cited)
    problems += [f"the number {n} is not in {label}" for n in sorted(numbers(sentence) - numbers(evidence))]
    problems += [f"'{w}' is not in {label}" for w in sorted(_missing_names(sentence, evidence))]
    cited_quotes = {n: quotes[n] for n in cited if quotes[n]}
    problems += negation_problems(sentence, cited_quotes) + antonym_problems(sentence, cited_quotes)
    problems += date_problems(sentence, cited_quotes, numbers(evidence)) + number_problems(sentence, cited_quotes)
    problems += _restated_instructions(sentence, evidence, {n: (instructions or {}).get(n, []) for n in cited})
    words = content_words(sentence)
    overlap = len(words & content_words(evidence)) / len(words) if words else 0.0
    similarity = max((float(sentence_vector @ quote_vectors[n]) for n in cited if quotes[n]), default=0.0)
    if overlap < overlap_floor:
        problems.append(f"only {overlap:.0%} of its words are in {label}")
    if similarity < similarity_floor:
        problems.append(f"its meaning is far from {label} (similarity {similarity:.2f})")
    return SentenceCheck(sentence, list(markers), not problems, problems, round(overlap, 3), round(similarity, 3))


def _restated_instructions(sentence: str, evidence: str, instructions: dict[int, list[str]]) -> list[str]:
    """An instruction a sentence draws on: it holds a number or content word of the sentence that the evidence
    (the quotes without their instructions) does not."""
    words = content_words(sentence) - content_words(evidence)
    figures = numbers(sentence) - numbers(evidence)
    out = []
    for n, flagged in instructions.items():
        for instruction in flagged:
            if words & content_words(instruction) or figures & numbers(instruction):
                shown = instruction if len(instruction) <= 90 else instruction[:87] + "…"
                out.append(f"it restates an instruction inside quote [{n}] ('{shown}'), which is not evidence")
                break
    return out


def evidence_quotes(quotes: dict[int, str]) -> tuple[dict[int, str], dict[int, list[str]]]:
    """(each quote without the sentences that address the model, those sentences by marker)."""
    split = {n: split_instructions(q) for n, q in quotes.items()}
    return {n: kept for n, (kept, _) in split.items()}, {n: flagged for n, (_, flagged) in split.items() if flagged}


def check_answer(
    text: str,
    quotes: dict[int, str],
    encode: Callable[[list[str]], np.ndarray],
    overlap_floor: float = OVERLAP_FLOOR,
    similarity_floor: float = SIMILARITY_FLOOR,
) -> list[SentenceCheck]:
    """Every sentence of `text` checked against `quotes` ({marker: verbatim quote})."""
    sentences = split_sentences(text)
    if not sentences:
        return []
    evidence, instructions = evidence_quotes(quotes)
    numbers_ = [n for n in sorted(evidence) if evidence[n]]
    vectors = encode([s for s, _ in sentences] + [evidence[n] for n in numbers_])
    quote_vectors = {n: vectors[len(sentences) + i] for i, n in enumerate(numbers_)}
    return [
        check_sentence(s, m, evidence, vectors[i], quote_vectors, overlap_floor, similarity_floor, instructions)
        for i, (s, m) in enumerate(sentences)
    ]
