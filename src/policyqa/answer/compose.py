"""Extractive answers: score the sentences of the retrieved passages, quote the one that answers, or refuse.

No generative model is trusted here, so every quote is an exact span of a document (a sentence, or a sentence and
the neighbour that carries the answer or continues it). Two stages: `analyse` scores sentences (their vectors were
stored at build time) and checks what each part of the question asks for; `decide` applies the calibrated limits
(`Limits`), so a calibration can try many limits on one analysis. An answer is "answered", "partial" (some parts
of the question are covered, others not) or "refused", with a one-line reason the reader can check.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from policyqa.answer.grounding import (
    TYPE_WORDS,
    AnswerType,
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
from policyqa.answer.types import Answer, AnswerState, Citation
from policyqa.index.store import IndexReader
from policyqa.ingest.sentences import passage_sentences, sentence_spans
from policyqa.search.retrieval import Hit

DENSE_WEIGHT = 0.55  # the rest is the IDF-weighted share of the question's terms the quote contains
MAX_SENTENCES = 3
FOLLOW_MARGIN = 0.06  # extra quotes must score within this of the best one
DUPLICATE_COSINE = 0.92
TRIES = 3  # the best sentences tried, in order, as the quote of a part
REFUSAL_TEXT = "The corpus does not answer this question."


@dataclass(frozen=True)
class Limits:
    """The decision, calibrated by benchmarks/answer_quality.py --calibrate (BENCHMARKS.md, "Answers users can
    trust"): the most near-misses refused while PolicyQA's answerable questions are refused at most 5% of the time.
    A share limit above 1 turns its check off."""

    # least evidence score of a quote; 0.20 with late-chunked sentence vectors (both halves chose it; 0.25 would
    # refuse 5.1% of PolicyQA), 0.25 with sentences embedded separately
    threshold: float = 0.20
    max_unseen: float = 1.01  # largest IDF-weighted share of a part's terms that no passage read may lack
    max_absent: float = 1.01  # the same for terms that no chunk of the whole index contains
    names_in_quote: bool = True  # the quote must contain the question's names (capitalised words, numbers)
    checked_types: frozenset[AnswerType] = field(default_factory=lambda: frozenset({"number", "date", "day"}))


LIMITS = Limits()
REFUSAL_THRESHOLD = LIMITS.threshold


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
    evidence: float
    absent_names: tuple[str, ...]  # the part's names the quote lacks
    typed: bool  # holds the kind of answer the part expects (or expects none)


@dataclass(frozen=True)
class PartEvidence:
    part: QuestionPart
    windows: tuple[Window, ...]  # best first
    unseen_names: tuple[str, ...]  # names no passage read contains
    unseen: tuple[str, ...]  # terms no passage read contains
    unseen_share: float
    absent: tuple[str, ...] = ()  # terms no chunk of the index contains
    absent_share: float = 0.0


@dataclass(frozen=True)
class Analysis:
    question: str
    hits: list[Hit]  # re-scored with their best sentence's evidence, best first
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
        held = [row for i in held_chunks(hit) for row in stored.get(i, [])]
        spans = sorted(held, key=lambda row: row[:2]) or [
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
    dim = len(vectors[0]) if vectors else 0
    return found, np.array(vectors, dtype=np.float32).reshape(len(found), dim)


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
    evidence = [_part_evidence(p, sentences, found, everything, texts, names) for p in parts]
    whole = QuestionPart(question, tuple(t for p in parts for t in p.terms), None)
    scored = [
        DENSE_WEIGHT * s.dense + (1 - DENSE_WEIGHT) * coverage(whole, f) for s, f in zip(sentences, found, strict=True)
    ]
    best_of: dict[int, float] = {}
    for s, score in zip(sentences, scored, strict=True):
        best_of[s.hit.chunk_id] = max(best_of.get(s.hit.chunk_id, -1.0), score)
    rescored = sorted((replace(h, score=round(best_of.get(h.chunk_id, 0.0), 4)) for h in hits), key=lambda h: -h.score)
    return Analysis(question, rescored, sentences, vectors, evidence, note)


def _part_evidence(
    part: QuestionPart,
    sentences: list[Sentence],
    found: list[WordSet],
    everything: WordSet,
    texts: dict[str, str],
    doc_names: dict[str, WordSet],
) -> PartEvidence:
    unseen = missing(part.terms, everything)
    names = [t for t in part.terms if t.is_name and t not in unseen]
    total = sum(t.weight for t in part.terms) or 1.0
    scores = [
        DENSE_WEIGHT * s.dense + (1 - DENSE_WEIGHT) * coverage(part, f) for s, f in zip(sentences, found, strict=True)
    ]
    order = np.argsort(-np.array(scores), kind="stable")[:TRIES] if scores else []
    windows = tuple(_window(part, names, int(i), sentences, texts, doc_names) for i in order)
    return PartEvidence(
        part,
        windows,
        tuple(t.word for t in unseen if t.is_name and not is_acronym(t.word)),  # "ISRS" may be spelt out
        tuple(t.word for t in unseen),
        sum(t.weight for t in unseen) / total,
        tuple(t.word for t in part.terms if not t.in_index),
        sum(t.weight for t in part.terms if not t.in_index) / total,
    )


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
) -> Window:
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
    quote = text[start:end]
    words = WordSet(quote)
    evidence = DENSE_WEIGHT * s.dense + (1 - DENSE_WEIGHT) * coverage(part, words)
    absent = tuple(t.word for t in missing(names, words))
    return Window(s.hit, start, end, quote, index, evidence, absent, has_type(part.expects, quote, part.text))


@dataclass(frozen=True)
class PartVerdict:
    part: QuestionPart
    window: Window | None  # the quote that answers it, if any
    reason: str


def judge(evidence: PartEvidence, limits: Limits) -> PartVerdict:
    part = evidence.part
    if evidence.unseen_names:
        return PartVerdict(part, None, f"No passage mentions {_listed(evidence.unseen_names)}.")
    if evidence.absent_share > limits.max_absent:
        return PartVerdict(part, None, f"No passage in the index mentions {_listed(evidence.absent)}.")
    if evidence.unseen_share > limits.max_unseen:
        return PartVerdict(part, None, f"No passage mentions {_listed(evidence.unseen)}.")
    for window in evidence.windows:
        typed = window.typed or part.expects not in limits.checked_types
        named = not window.absent_names or not limits.names_in_quote
        if named and typed and window.evidence >= limits.threshold:
            return PartVerdict(part, window, "")
    if not evidence.windows:
        return PartVerdict(part, None, "No passage to answer from.")
    best = evidence.windows[0]
    if best.absent_names and limits.names_in_quote:
        return PartVerdict(part, None, f"The closest passage does not mention {_listed(best.absent_names)}.")
    if not best.typed and part.expects in limits.checked_types:
        wanted = TYPE_WORDS[part.expects]  # type: ignore[index]
        return PartVerdict(part, None, f"The closest passages give no {wanted}, which the question asks for.")
    return PartVerdict(
        part, None, f"Evidence {best.evidence:.2f} is below {limits.threshold:.2f}: no passage is close enough."
    )


def _listed(items: tuple[str, ...]) -> str:
    quoted = [f"'{w}'" for w in items[:3]]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def decide(analysis: Analysis, limits: Limits = LIMITS) -> Answer:
    """The answer, partial answer or refusal that `limits` give for this analysis."""
    if not analysis.sentences:
        empty = "No passages to answer from: the index is empty or the filters match no document."
        reason = empty if not analysis.hits else REFUSAL_TEXT
        message = " ".join(filter(None, [analysis.note, reason]))
        return Answer(
            analysis.question, REFUSAL_TEXT, True, [], analysis.hits, 0.0, message, state="refused", reason=reason
        )
    verdicts = [judge(e, limits) for e in analysis.parts]
    answered = [v for v in verdicts if v.window is not None]
    best = max((w.evidence for e in analysis.parts for w in e.windows[:1]), default=0.0)
    if not answered:
        reason = (
            verdicts[0].reason if len(verdicts) == 1 else " ".join(f"'{v.part.text}': {v.reason}" for v in verdicts)
        )
        message = " ".join(filter(None, [analysis.note, f"{REFUSAL_TEXT} {reason}"]))
        return Answer(
            analysis.question, REFUSAL_TEXT, True, [], analysis.hits, best, message, state="refused", reason=reason
        )
    windows = _quotes(analysis, answered, limits)
    citations = [_citation(n, w) for n, w in enumerate(windows, 1)]
    text = " ".join(f"{' '.join(c.quote.split())} [{c.marker}]" for c in citations)
    state: AnswerState = "answered" if len(answered) == len(verdicts) else "partial"
    if state == "answered":
        names = [t.word for t in answered[0].part.terms if t.is_name]
        shown = (names + [t.word for t in sorted(answered[0].part.terms, key=lambda t: -t.weight) if not t.is_name])[:3]
        mentions = f"; the quote mentions {_listed(tuple(shown))}" if shown else ""
        reason = f"Evidence {windows[0].evidence:.2f} ≥ {limits.threshold:.2f}{mentions}."
    else:
        missed = [v for v in verdicts if v.window is None]
        reason = (
            "Answers "
            + "; ".join(f"'{v.part.text}'" for v in answered)
            + ". Not answered: "
            + "; ".join(f"'{v.part.text}' ({v.reason.rstrip('.')})" for v in missed)
            + "."
        )
    message = " ".join(filter(None, [analysis.note]))
    confidence = windows[0].evidence
    return Answer(
        analysis.question, text, False, citations, analysis.hits, confidence, message, state=state, reason=reason
    )


def _quotes(analysis: Analysis, answered: list[PartVerdict], limits: Limits) -> list[Window]:
    """Each answered part's quote, then further quotes that score close to the best and pass the same checks."""
    chosen: list[Window] = []
    for verdict in answered:
        if verdict.window and not any(_overlaps(verdict.window, w) for w in chosen):
            chosen.append(verdict.window)
    top = chosen[0].evidence
    for evidence in analysis.parts:
        for w in evidence.windows:
            if len(chosen) >= MAX_SENTENCES or w.evidence < max(limits.threshold, top - FOLLOW_MARGIN):
                continue
            typed = w.typed or evidence.part.expects not in limits.checked_types
            duplicate = any(
                _overlaps(w, c)
                or float(analysis.vectors[w.sentence] @ analysis.vectors[c.sentence]) >= DUPLICATE_COSINE
                for c in chosen
            )
            if typed and (not w.absent_names or not limits.names_in_quote) and not duplicate:
                chosen.append(w)
    return chosen


def _overlaps(a: Window, b: Window) -> bool:
    return a.hit.doc_id == b.hit.doc_id and a.start < b.end and b.start < a.end


def compose_answer(
    question: str,
    question_vector: np.ndarray,
    hits: list[Hit],
    generation: IndexReader,
    encode: Callable[[list[str]], np.ndarray],
    limits: Limits = LIMITS,
) -> Answer:
    started = time.perf_counter()
    answer = decide(analyse(question, question_vector, hits, generation, encode), limits)
    return replace(answer, seconds=time.perf_counter() - started)


def _citation(marker: int, window: Window) -> Citation:
    hit = window.hit
    return Citation(
        marker=marker,
        doc_id=hit.doc_id,
        title=hit.title,
        page=hit.page,
        heading=hit.heading,
        start=window.start,
        end=window.end,
        quote=window.quote,
        passage=hit.text,
        passage_start=hit.start,
        passage_end=hit.end,
        score=window.evidence,
    )
