"""Extractive answers, first stage: the sentences of the retrieved passages, each candidate quote and its features.

No generative model is trusted here, so every quote is an exact span of a document (a sentence, or a sentence and
the neighbour that carries the answer or continues it). `analyse` scores sentences (their vectors were stored at
build time), builds each part's candidate quotes and asks the answerability scorer (`answer.scorer`) for
P(the quote answers the part); `answer.decision.decide` turns those probabilities into answered / unsure / refused,
so a calibration can try many limits on one analysis.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from policyqa.answer.features import PairFacts, pair_features
from policyqa.answer.grounding import (
    QuestionPart,
    Term,
    WordSet,
    continues_previous,
    coverage,
    has_type,
    is_acronym,
    missing,
    question_parts,
)
from policyqa.answer.scorer import load_scorer
from policyqa.answer.span import answer_span
from policyqa.index.store import IndexReader
from policyqa.ingest.sentences import passage_sentences, sentence_spans
from policyqa.search.retrieval import Hit

DENSE_WEIGHT = 0.55  # orders the sentences tried: the rest is the IDF-weighted share of the question's terms
TRIES = 6  # the best sentences by that order, each scored by the answerability model
REFUSAL_TEXT = "The corpus does not answer this question."
UNSURE_TEXT = "The documents may not answer this; the closest evidence is:"


@dataclass(frozen=True)
class Limits:
    """`threshold`: the least scorer probability of an `answered` quote; `close`: the least P(a close match) of the
    best passage for the closest evidence to be shown as `unsure` (below it: `refused`, and search says no passage
    is a close match). None takes the calibrated limits saved with the model (benchmarks/train_scorer.py)."""

    threshold: float | None = None
    close: float | None = None

    def resolved(self) -> tuple[float, float]:
        scorer = load_scorer()
        answer = scorer.answer if self.threshold is None else self.threshold
        return answer, scorer.close_match if self.close is None else self.close

    def answer_at(self, part: QuestionPart) -> float:
        """The least P of an `answered` quote for this part: one that expects a typed answer has its own limit."""
        if self.threshold is not None:
            return self.threshold
        scorer = load_scorer()
        typed = scorer.answer if scorer.answer_typed is None else scorer.answer_typed
        return typed if part.expects is not None else scorer.answer


LIMITS = Limits()


@dataclass(frozen=True)
class Sentence:
    hit: Hit
    start: int
    end: int
    text: str
    dense: float  # cosine with the question


@dataclass(frozen=True)
class Window:
    """A quote: document.text[start:end], one sentence or two neighbours."""

    hit: Hit
    start: int
    end: int
    quote: str
    sentence: int  # index of its best sentence in Analysis.sentences
    evidence: float  # P(the quote answers the part), from the scorer
    features: tuple[float, ...]
    facts: PairFacts
    span: tuple[int, int]  # the words that answer, document offsets inside [start, end)


@dataclass(frozen=True)
class PartEvidence:
    part: QuestionPart
    windows: tuple[Window, ...]  # most probable first
    unseen_names: tuple[str, ...]  # names no passage read (nor a document title) contains


@dataclass(frozen=True)
class Analysis:
    question: str
    hits: list[Hit]  # each scored by P(a close match) of its best sentence, best first
    sentences: list[Sentence]
    vectors: np.ndarray
    parts: list[PartEvidence]
    note: str = ""


def is_mostly_latin(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return not letters or sum(ord(c) < 0x250 for c in letters) / len(letters) >= 0.5


def candidates(
    generation: IndexReader, hits: list[Hit], encode: Callable[[list[str]], np.ndarray]
) -> tuple[list[tuple[Hit, int, int, str]], np.ndarray]:
    """Whole sentences of the retrieved passages (deduplicated) with the vectors stored at build time: those of every
    chunk a passage holds (one chunk, or several for a small-to-big passage)."""
    stored: dict[int, list[tuple[int, int, np.ndarray]]] = {}
    for s in generation.sentences(i for h in hits for i in held_chunks(h)):
        stored.setdefault(s.chunk_id, []).append((s.start, s.end, s.vector))
    texts: dict[str, str] = {}
    seen: set[tuple[str, int, int]] = set()
    found: list[tuple[Hit, int, int, str]] = []
    vectors: list[np.ndarray | None] = []
    for hit in hits:
        text = texts.setdefault(hit.doc_id, generation.document_text(hit.doc_id) or "")
        # a chunk's stored sentences may reach past a passage cut at sentence boundaries: quote only the passage's
        held = [row for i in held_chunks(hit) for row in stored.get(i, []) if row[0] < hit.end and row[1] > hit.start]
        spans: list[tuple[int, int, np.ndarray | None]] = [*sorted(held, key=lambda row: row[:2])] or [
            (a, b, None) for a, b in passage_sentences(text, hit.start, hit.end)
        ]
        for start, end, vector in spans:
            if (hit.doc_id, start, end) not in seen:
                seen.add((hit.doc_id, start, end))
                found.append((hit, start, end, text[start:end]))
                vectors.append(vector)
    missing_rows = [i for i, v in enumerate(vectors) if v is None]  # an index whose chunk lost its sentence rows
    if missing_rows:
        for i, v in zip(missing_rows, encode([found[i][3] for i in missing_rows]), strict=True):
            vectors[i] = v
    return found, np.array(vectors, dtype=np.float32).reshape(len(found), -1) if found else np.zeros((0, 0), np.float32)


def held_chunks(hit: Hit) -> tuple[int, ...]:
    return hit.chunk_ids or (hit.chunk_id,)


def analyse(
    question: str,
    question_vector: np.ndarray,
    hits: list[Hit],
    generation: IndexReader,
    encode: Callable[[list[str]], np.ndarray],
) -> Analysis:
    note = (
        ""
        if is_mostly_latin(question)
        else ("The question is not in Latin script; the embedding model reads English, so matches are unreliable.")
    )
    pool, vectors = candidates(generation, hits, encode)
    dense = vectors @ question_vector if len(pool) else np.zeros(0)
    sentences = [Sentence(h, a, b, t, float(d)) for (h, a, b, t), d in zip(pool, dense, strict=True)]
    parts = question_parts(question, generation.idf)
    found = [WordSet(s.text) for s in sentences]
    naming = {s.hit.doc_id: document_words(s.hit) for s in sentences}
    names = {doc_id: WordSet(words) for doc_id, words in naming.items()}
    everything = WordSet(" ".join([s.text for s in sentences] + list(naming.values())))
    texts = {s.hit.doc_id: generation.document_text(s.hit.doc_id) or "" for s in sentences}
    ranks = {h.chunk_id: n for n, h in enumerate(hits)}
    evidence = [_part_evidence(p, sentences, found, everything, texts, names, ranks) for p in parts]
    whole = QuestionPart(question, tuple(t for p in parts for t in p.terms), None)
    scorer = load_scorer()
    best_of: dict[int, float] = {}
    for s, f in zip(sentences, found, strict=True):
        p = scorer.passage_probability(s.dense, coverage(whole, f))
        best_of[s.hit.chunk_id] = max(best_of.get(s.hit.chunk_id, 0.0), p)
    rescored = sorted((replace(h, score=round(best_of.get(h.chunk_id, 0.0), 4)) for h in hits), key=lambda h: -h.score)
    return Analysis(question, rescored, sentences, vectors, evidence, note)


def _part_evidence(
    part: QuestionPart,
    sentences: list[Sentence],
    found: list[WordSet],
    everything: WordSet,
    texts: dict[str, str],
    doc_names: dict[str, WordSet],
    ranks: dict[int, int],
) -> PartEvidence:
    unseen = missing(part.terms, everything)
    total = sum(t.weight for t in part.terms) or 1.0
    unseen_share = sum(t.weight for t in unseen) / total
    absent_share = sum(t.weight for t in part.terms if not t.in_index) / total
    names = [t for t in part.terms if t.is_name and t not in unseen]
    scores = [
        DENSE_WEIGHT * s.dense + (1 - DENSE_WEIGHT) * coverage(part, f) for s, f in zip(sentences, found, strict=True)
    ]
    order = [int(i) for i in np.argsort(-np.array(scores), kind="stable")[:TRIES]] if scores else []
    dense = sorted((s.dense for s in sentences), reverse=True)
    scorer = load_scorer()
    windows = []
    tried = [sentences[i].hit.chunk_id for i in order]
    best_cover = max((coverage(part, found[i]) for i in order), default=0.0)
    for n, i in enumerate(order):
        start, end = _window(part, names, i, sentences, texts, doc_names)
        s = sentences[i]
        runner_up = dense[1] if len(dense) > 1 and s.dense >= dense[0] else dense[0]
        row, facts = pair_features(
            part,
            s.text,
            texts[s.hit.doc_id][start:end],
            doc_names[s.hit.doc_id],
            s.dense,
            dense[0],
            runner_up,
            ranks.get(s.hit.chunk_id, len(ranks)),
            n,
            unseen_share,
            absent_share,
            sum(d > s.dense for d in dense),
            (tried.count(s.hit.chunk_id) - 1) / max(1, len(tried) - 1),  # neighbours that agree on the passage
            best_cover,
            everything,
        )
        span = answer_span(part, texts[s.hit.doc_id], start, end)
        quote = texts[s.hit.doc_id][start:end]
        windows.append(Window(s.hit, start, end, quote, i, scorer.probability(row), tuple(row), facts, span))
    # a quote that holds another candidate whole says the same with more words: keep the shorter one
    windows = [
        w for w in windows
        if not any(o is not w and o.hit.doc_id == w.hit.doc_id and w.start <= o.start and o.end <= w.end
                   and (o.start, o.end) != (w.start, w.end) for o in windows)
    ]
    windows.sort(key=lambda w: -w.evidence)
    unseen_names = tuple(t.word for t in unseen if t.is_name and not is_acronym(t.word))  # "ISRS" may be spelt out
    return PartEvidence(part, tuple(windows), unseen_names)


def document_words(hit: Hit) -> str:
    """The words naming a document: its title and its file name (separators read as spaces)."""
    return hit.title + " " + re.sub(r"[_\-./]+", " ", hit.doc_id)


def _window(
    part: QuestionPart,
    names: list[Term],
    index: int,
    sentences: list[Sentence],
    texts: dict[str, str],
    doc_names: dict[str, WordSet],
) -> tuple[int, int]:
    """The sentence, with the neighbour that holds what it lacks (a name, the expected answer type) or that
    continues it ("In his opinion, …", which may open the next paragraph). A name the document's own title or file
    name holds ("the 2019 strategy", a law by its state) counts as present: its sentences need not repeat it."""
    s = sentences[index]
    text = texts[s.hit.doc_id]
    names = missing(names, doc_names[s.hit.doc_id])
    low = text.rfind("\n\n", 0, max(text.rfind("\n\n", 0, s.start), 0)) + 1
    high = text.find("\n\n", s.end)
    high = text.find("\n\n", high + 2) if high >= 0 else -1
    spans = sentence_spans(text, low, len(text) if high < 0 else high)
    at = next((i for i, (a, b) in enumerate(spans) if a <= s.start < b), None)
    before = spans[at - 1] if at else None
    after = spans[at + 1] if at is not None and at + 1 < len(spans) else None
    start, end = s.start, s.end

    def lacks(a: int, b: int) -> int:
        quote = text[a:b]
        return len(missing(names, WordSet(quote))) + (not has_type(part.expects, quote, part.text))

    alone = lacks(start, end)
    fixes = [(lacks(min(sp[0], start), max(sp[1], end)), sp) for sp in (before, after) if sp is not None]
    fixes = [f for f in fixes if f[0] < alone]
    if fixes:
        a, b = min(fixes, key=lambda f: f[0])[1]
        start, end = min(a, start), max(b, end)
    elif after and continues_previous(text[after[0] : after[1]]):
        end = after[1]
    elif before and continues_previous(s.text):
        start = before[0]
    return start, end


def score_passages(
    question: str,
    question_vector: np.ndarray,
    hits: list[Hit],
    generation: IndexReader,
    encode: Callable[[list[str]], np.ndarray],
) -> list[Hit]:
    """The hits scored by P(a close match), the scorer's passage probability of their best sentence (the same number
    `ask` gives the passages it read), most probable first (ties keep the retrieval order), ranks renumbered."""
    if not hits:
        return hits
    pool, vectors = candidates(generation, hits, encode)
    whole = QuestionPart(question, tuple(t for p in question_parts(question, generation.idf) for t in p.terms), None)
    scorer = load_scorer()
    best_of: dict[int, float] = {}
    for (hit, _a, _b, text), d in zip(pool, vectors @ question_vector, strict=True):
        p = scorer.passage_probability(float(d), coverage(whole, WordSet(text)))
        best_of[hit.chunk_id] = max(best_of.get(hit.chunk_id, 0.0), p)
    scored = sorted((replace(h, score=round(best_of.get(h.chunk_id, 0.0), 4)) for h in hits), key=lambda h: -h.score)
    return [replace(h, rank=n) for n, h in enumerate(scored, 1)]
