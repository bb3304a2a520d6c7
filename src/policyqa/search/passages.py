"""Small-to-big: a matched chunk grown into the passage a reader is shown, of whole sentences, its first characters
its most relevant ones.

Chunks are small so that a match is precise; the passage around it gives the context. Each stored sentence near the
match (the build's sentences, `policyqa.ingest.sentences.passage_sentences`) has evidence: its cosine with the question
(the stored late-chunked sentence vector) plus the IDF-weighted share of the question's terms it holds. A passage
starts one sentence before the matched chunk's best sentence and runs on by whole sentences (before it only where
nothing more fits after): always to FIRM_SHARE x `span_chars`, and on to REACH x `span_chars` only while the next
sentence holds at least FADE of the best sentence's evidence. So a passage is short where the evidence sits in one
place and longer where it is spread, and a reading budget that counts from the first character keeps what matters.
Passages start and end on sentence boundaries (a heading leads its section's first sentence, as the sentence
splitter keeps them) and are exact slices of the document text, so offsets, pages and the highlight work as for a
chunk. A passage does not grow into one already shown for a better match, and a match inside a shown passage is not
shown again: results are distinct passages. Each passage carries its best sentence's evidence (what `retrieve`
orders passages by, beside the fused score). Chosen by 2-fold cross-validation over the PolicyQA dev policies
(benchmarks/passage_ablation.py; BENCHMARKS.md, "Retrieval quality").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from policyqa.index.records import ChunkRecord
from policyqa.index.store import IndexReader
from policyqa.ingest.terms import stems

MIN_NEIGHBOUR_CHARS = 40  # the farthest to look: a passage of span_chars holds at most span_chars / 40 chunks
HEADING_CHARS = 100  # the longest line taken for a heading at a passage's end
SENTENCE_CLOSERS = tuple(".!?;:…\"'”’)]")
# The passage's extent (benchmarks/passage_ablation.py, 54 settings, 2 folds): fold A chose these with the targets
# raised by 0.03, in both orders; the other choices were firm 800, fade 0.5 or 0.7, term weight 0.5 or 2, reach 1,500.
FIRM_SHARE = 0.64  # a passage always grows to this share of span_chars (704 of 1,100) ...
REACH = 1.8  # ... and on to this multiple of it (1,980 of 1,100) while the sentences keep evidence:
FADE = 0.6  # the next sentence's evidence is at least this share of the best one's
TERM_WEIGHT = 1.0  # a sentence's evidence: cosine + this x the IDF-weighted share of the question's terms it holds
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # as BM25 tokenises (bm25s' default pattern)


@dataclass(frozen=True)
class Passage:
    record: ChunkRecord  # the matched chunk's record widened to the passage (its id stays the match's)
    held: tuple[int, ...]  # ids of the chunks the passage overlaps, in document order
    evidence: float  # the best evidence (cosine + TERM_WEIGHT x term share) of a sentence of the passage


class QueryTerms:
    """The question's terms as BM25 stems with their IDF in the index; `share` is the IDF-weighted share of them a
    text holds (0 for a question without a term the index weighs)."""

    def __init__(self, generation: IndexReader, query: str):
        words = list(dict.fromkeys(_TOKEN.findall(query.lower())))
        weights = generation.idf(words) if words else []
        self.weights: dict[str, float] = {}
        for stem, (weight, _known) in zip(stems(words), weights, strict=True):
            if weight > 0:
                self.weights[stem] = max(weight, self.weights.get(stem, 0.0))
        self.total = sum(self.weights.values())

    def share(self, text: str) -> float:
        if not self.total:
            return 0.0
        held = {_stem(w) for w in _TOKEN.findall(text.lower())}
        return sum(w for t, w in self.weights.items() if t in held) / self.total

    def shares(self, texts: list[str]) -> np.ndarray:
        return np.array([self.share(t) for t in texts])


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:  # a corpus has few distinct words: stemming each once per process is what is left
    return stems([word])[0]


class Sentences:
    """The stored sentences of chunks with their cosine to the question, read in bulk (one query for the first few
    candidates' neighbourhoods: a query per passage cost a third of the passage work) and kept for the search."""

    def __init__(self, generation: IndexReader, query_vector: np.ndarray | None, query: str = ""):
        self.generation, self.query_vector = generation, query_vector
        self.terms = QueryTerms(generation, query) if query else None
        self.rows: dict[int, list[tuple[int, int, float]]] = {}
        self.windows: dict[tuple[int, int], list[ChunkRecord]] = {}
        self.term_shares: dict[tuple[int, int], float] = {}  # by sentence span: neighbouring passages share many

    def evidence(self, rows: list[tuple[int, int, float]], text: str, origin: int) -> Evidence:
        """Each sentence's cosine + TERM_WEIGHT x its share of the question's terms; `text` starts at `origin`."""
        return Evidence(rows, text, origin, self)

    def window(self, record: ChunkRecord, reach: int) -> list[ChunkRecord]:
        """The chunks within `reach` characters of `record` on either side."""
        if (record.id, reach) not in self.windows:
            self.windows[record.id, reach] = window(self.generation, record, reach)
        return self.windows[record.id, reach]

    def preload(self, records: Iterable[ChunkRecord], span_chars: int) -> None:
        self.load(c.id for r in records for c in self.window(r, span_chars))

    def load(self, chunk_ids: Iterable[int]) -> None:
        wanted = [i for i in dict.fromkeys(chunk_ids) if i not in self.rows]
        for i in wanted:
            self.rows[i] = []
        found = self.generation.sentences(wanted)
        if not found:
            return
        if self.query_vector is None:
            cosines = [0.0] * len(found)
        else:
            cosines = (np.stack([s.vector for s in found]) @ self.query_vector).tolist()
        for s, cos in zip(found, cosines, strict=True):
            self.rows[s.chunk_id].append((s.start, s.end, cos))

    def of(self, chunks: list[ChunkRecord]) -> list[tuple[int, int, float]]:
        """The distinct sentences of these chunks, in text order, with their cosine to the question."""
        self.load(c.id for c in chunks)
        unique = {(a, b): cos for c in chunks for a, b, cos in self.rows[c.id]}
        return [(a, b, unique[a, b]) for a, b in sorted(unique)]


class Evidence:
    """The evidence of the sentences `rows`, each worked out when first asked for: a passage looks at its matched
    sentences and the few it grows by, not at every sentence it could reach."""

    def __init__(self, rows: list[tuple[int, int, float]], text: str, origin: int, sentences: Sentences):
        self.rows, self.text, self.origin, self.sentences = rows, text, origin, sentences

    def __getitem__(self, i: int) -> float:
        a, b, cosine = self.rows[i]
        terms, shares = self.sentences.terms, self.sentences.term_shares
        if terms is None:
            return cosine
        if (a, b) not in shares:
            shares[a, b] = terms.share(self.text[a - self.origin : b - self.origin])
        return cosine + TERM_WEIGHT * shares[a, b]

    def best(self, lo: int, hi: int) -> float:
        return max(self[i] for i in range(lo, hi + 1))


def window(generation: IndexReader, record: ChunkRecord, span_chars: int) -> list[ChunkRecord]:
    """The chunks of `record`'s document that end within `span_chars` before it or start within `span_chars` after
    it, in document order, without their text. Read a few at a time: most chunks are far longer than the worst case."""
    most = max(2, span_chars // MIN_NEIGHBOUR_CHARS)
    reach = min(most, span_chars // max(record.end - record.start, MIN_NEIGHBOUR_CHARS) + 2)
    while True:
        neighbours = generation.neighbours(record, reach)
        short_before = neighbours[0].id == record.id - reach and neighbours[0].end > record.start - span_chars
        short_after = neighbours[-1].id == record.id + reach and neighbours[-1].start < record.end + span_chars
        if not (short_before or short_after) or reach >= most:
            break
        reach = min(most, 2 * reach)
    return [n for n in neighbours if n.end > record.start - span_chars and n.start < record.end + span_chars]


def grow(
    generation: IndexReader,
    record: ChunkRecord,
    span_chars: int,
    shown: list[ChunkRecord],
    query_vector: np.ndarray | None = None,
    sentences: Sentences | None = None,
) -> Passage:
    """`record` widened by whole sentences of its document, none of a shown passage, from one sentence before its
    best sentence, to FIRM_SHARE..REACH x `span_chars` characters by the sentences' evidence (a single longer sentence
    stays whole)."""
    sentences = sentences or Sentences(generation, query_vector)
    # Most passages end well within `span_chars` of their match: read that far first, and REACH x as far only for a
    # passage that runs to the edge of what was read (one strictly inside it comes out the same from a wider read).
    for reach in (span_chars, int(span_chars * REACH)):
        chunks = sentences.window(record, reach)
        rows = sentences.of(chunks)
        matched = [i for i, (a, b, _) in enumerate(rows) if b > record.start and a < record.end]
        if not matched:  # a chunk without stored sentences (cannot happen in a sound index): shown as matched
            return Passage(record, (record.id,), 0.0)
        rows, matched = free_run(rows, matched, [s for s in shown if s.doc_id == record.doc_id])
        starts, ends = [a for a, _, _ in rows], [b for _, b, _ in rows]
        origin = starts[0]
        text = generation.document_slice(record.doc_id, origin, ends[-1])
        evidence = sentences.evidence(rows, text, origin)
        best = max(matched, key=lambda i: evidence[i])
        lo, hi = sentence_run(starts, ends, evidence, best, span_chars)
        if lo > 0 and hi < len(rows) - 1:
            break
    while hi > max(lo, best) and heading_like(text[starts[hi] - origin : ends[hi] - origin]):
        hi -= 1  # a heading leads its section: one left at the end would stand without its text
    start, end = starts[lo], ends[hi]
    text = text[start - origin : end - origin]
    held = tuple(c.id for c in chunks if c.end > start and c.start < end)
    first = next(c for c in chunks if c.end > start)
    last = [c for c in chunks if c.start < end][-1]
    passage = replace(
        record, start=start, end=end, page=first.page, page_end=last.page_end or first.page, heading=first.heading,
        text=text,
    )
    return Passage(passage, held, evidence.best(lo, hi))


def heading_like(sentence: str) -> bool:
    """A short line without a sentence's closing punctuation ("5.0 Rules of Engagement", "FRR-VDR-05")."""
    line = sentence.strip()
    return len(line) <= HEADING_CHARS and "\n" not in line and not line.endswith(SENTENCE_CLOSERS)


def sentence_run(
    starts: list[int], ends: list[int], evidence: Evidence | np.ndarray, best: int, span_chars: int
) -> tuple[int, int]:
    """First and last index of the passage's sentences (`starts`/`ends` hold no gap a shown passage makes): the best
    sentence and the one before it, grown after it (before it where nothing more fits after) to FIRM_SHARE x
    `span_chars`, then on to REACH x `span_chars` while the next sentence holds FADE of the best one's evidence.
    Without any evidence (no question vector, no term the index weighs) the passage grows to `span_chars`."""
    top = float(evidence[best])
    firm, reach = (int(span_chars * FIRM_SHARE), int(span_chars * REACH)) if top > 0 else (span_chars, span_chars)
    lo = hi = best
    if lo > 0 and ends[hi] - starts[lo - 1] <= reach:
        lo -= 1  # the sentence before the best one often introduces it
    while True:
        after = hi + 1 < len(starts) and ends[hi + 1] - starts[lo] <= reach
        before = lo > 0 and ends[hi] - starts[lo - 1] <= reach
        if ends[hi] - starts[lo] >= firm:
            after = after and evidence[hi + 1] >= FADE * top
            before = before and evidence[lo - 1] >= FADE * top
        if not (after or before):
            return lo, hi
        if after:
            hi += 1
        else:
            lo -= 1


def overlaps(record: ChunkRecord, shown: list[ChunkRecord]) -> bool:
    return any(s.doc_id == record.doc_id and record.start < s.end and s.start < record.end for s in shown)


def free_run(
    rows: list[tuple[int, int, float]], matched: list[int], shown: list[ChunkRecord]
) -> tuple[list[tuple[int, int, float]], list[int]]:
    """The sentences around the matched ones up to the nearest shown passage on each side, and the matched ones'
    new indexes. (A shown passage never holds a matched sentence: it is whole sentences and does not overlap the
    match, which they cover, so each shown passage lies wholly before or after them.)"""
    first, last = rows[matched[0]][0], rows[matched[-1]][1]
    low = max((s.end for s in shown if s.end <= first), default=0)
    high = min((s.start for s in shown if s.start >= last), default=last + 10**12)
    lo = next(i for i in range(matched[0] + 1) if rows[i][0] >= low)
    hi = max(i for i in range(matched[-1], len(rows)) if rows[i][1] <= high)
    return rows[lo : hi + 1], [i - lo for i in matched]
