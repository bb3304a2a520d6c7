"""Extractive answers: score the sentences of the retrieved passages, quote the best ones verbatim, or refuse.

No generative model is trusted here, so every sentence shown is an exact span of a document, and when the best
evidence is weak the answer says the corpus does not answer the question and shows the nearest material.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from policyqa.answer_types import Answer, Citation
from policyqa.retrieval import Hit
from policyqa.sentences import sentence_spans
from policyqa.store import Generation

# Chosen with benchmarks/calibrate_refusal.py on eval/bundled_questions.jsonl (see BENCHMARKS.md).
REFUSAL_THRESHOLD = 0.42
DENSE_WEIGHT = 0.55  # the rest is lexical coverage of the question's content words
MAX_SENTENCES = 3
FOLLOW_MARGIN = 0.06  # extra sentences must score within this of the best one
DUPLICATE_COSINE = 0.92

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOPWORDS = set(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "about",
        "as",
        "into",
        "over",
        "under",
        "and",
        "or",
        "but",
        "nor",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "their",
        "there",
        "they",
        "them",
        "he",
        "she",
        "his",
        "her",
        "we",
        "our",
        "you",
        "your",
        "i",
        "me",
        "my",
        "according",
        "said",
        "say",
        "says",
        "did",
        "any",
        "some",
        "than",
        "then",
        "so",
        "such",
        "not",
        "no",
        "yes",
        "can",
        "could",
        "should",
        "would",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "also",
        "other",
        "besides",
        "what's",
    ]
)
REFUSAL_TEXT = "The corpus does not answer this question."


@dataclass(frozen=True)
class Candidate:
    hit: Hit
    start: int
    end: int
    quote: str


def content_words(text: str) -> set[str]:
    """Lower-cased words minus stopwords, cut to 6 letters as a cheap stemmer (policy/policies, sign/signed)."""
    return {w.lower()[:6] for w in _WORD.findall(text) if w.lower() not in _STOPWORDS and len(w) > 1}


def lexical_coverage(question_words: set[str], sentence: str) -> float:
    if not question_words:
        return 0.0
    return len(question_words & content_words(sentence)) / len(question_words)


def is_mostly_latin(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return not letters or sum(ord(c) < 0x250 for c in letters) / len(letters) >= 0.5


def candidates(generation: Generation, hits: list[Hit]) -> list[Candidate]:
    """Whole sentences overlapping each retrieved chunk, as exact document spans (deduplicated)."""
    seen: set[tuple[str, int, int]] = set()
    found: list[Candidate] = []
    for hit in hits:
        text = generation.document_text(hit.doc_id) or ""
        for start, end in sentence_spans(text, _paragraph_start(text, hit.start), _paragraph_end(text, hit.end)):
            if end <= hit.start or start >= hit.end or (hit.doc_id, start, end) in seen:
                continue
            seen.add((hit.doc_id, start, end))
            found.append(Candidate(hit, start, end, text[start:end]))
    return found


def _paragraph_start(text: str, offset: int) -> int:
    return text.rfind("\n\n", 0, offset) + 1 if offset else 0


def _paragraph_end(text: str, offset: int) -> int:
    found = text.find("\n\n", offset)
    return len(text) if found < 0 else found


def compose_answer(
    question: str,
    question_vector: np.ndarray,
    hits: list[Hit],
    generation: Generation,
    encode: Callable[[list[str]], np.ndarray],
    threshold: float = REFUSAL_THRESHOLD,
) -> Answer:
    started = time.perf_counter()
    note = (
        ""
        if is_mostly_latin(question)
        else ("The question is not in Latin script; the embedding model reads English, so matches are unreliable. ")
    )
    pool = candidates(generation, hits)
    if not pool:
        empty = "No passages to answer from: the index is empty or the filters match no document."
        message = note + (empty if not hits else REFUSAL_TEXT)
        return Answer(question, REFUSAL_TEXT, True, [], hits, 0.0, message.strip())
    vectors = encode([c.quote for c in pool])
    dense = vectors @ question_vector
    words = content_words(question)
    lexical = np.array([lexical_coverage(words, c.quote) for c in pool])
    scores = DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * lexical
    order = np.argsort(-scores)
    best = float(scores[order[0]])
    if best < threshold:
        message = note + f"{REFUSAL_TEXT} The closest passages are shown as nearest material."
        return Answer(question, REFUSAL_TEXT, True, [], hits, best, message.strip(), time.perf_counter() - started)
    chosen: list[int] = []
    for i in order:
        if len(chosen) == MAX_SENTENCES or scores[i] < max(threshold, best - FOLLOW_MARGIN):
            break
        if all(float(vectors[i] @ vectors[j]) < DUPLICATE_COSINE for j in chosen):
            chosen.append(int(i))
    citations = [_citation(n, pool[i], float(scores[i])) for n, i in enumerate(chosen, 1)]
    text = " ".join(f"{' '.join(c.quote.split())} [{c.marker}]" for c in citations)
    return Answer(question, text, False, citations, hits, best, note.strip(), time.perf_counter() - started)


def _citation(marker: int, candidate: Candidate, score: float) -> Citation:
    hit = candidate.hit
    return Citation(
        marker=marker,
        doc_id=hit.doc_id,
        title=hit.title,
        page=hit.page,
        heading=hit.heading,
        start=candidate.start,
        end=candidate.end,
        quote=candidate.quote,
        passage=hit.text,
        passage_start=hit.start,
        passage_end=hit.end,
        score=score,
    )
