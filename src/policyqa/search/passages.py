"""Small-to-big: a matched chunk grown into the passage a reader is shown, of whole sentences.

Chunks are small so that a match is precise; the passage around it gives the context. A passage is the sentences
the matched chunk overlaps (the build's stored sentences, `policyqa.ingest.sentences.passage_sentences`), grown by
whole sentences while it stays within `span_chars`: it starts and ends on sentence boundaries (a heading leads its
section's first sentence, as the sentence splitter keeps them). It grows towards the side whose next sentence is
nearer the question (cosine with the stored late-chunked sentence vectors; after, then before, without a question
vector), and at most LEAD_CHARS before its first matched sentence while more fits after it, so its first characters
are the matched ones. The passage is an exact slice of the document text, so offsets, pages and the highlight work
as for a chunk. A passage does not grow into one already shown for a better match, and a match inside a shown
passage is not shown again: results are distinct passages. Each passage carries its best sentence's cosine (the
evidence `retrieve` orders passages by, beside the fused score). Chosen by 2-fold cross-validation over the PolicyQA
dev policies (benchmarks/passage_ablation.py; benchmarks-history.md, "Retrieval, fourth round").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from policyqa.index.records import ChunkRecord
from policyqa.index.store import IndexReader

MIN_NEIGHBOUR_CHARS = 40  # the farthest to look: a passage of span_chars holds at most span_chars / 40 chunks
HEADING_CHARS = 100  # the longest line taken for a heading at a passage's end
SENTENCE_CLOSERS = tuple(".!?;:…\"'”’)]")
LEAD_CHARS = 300  # most text before the first matched sentence while more fits after it (folds chose 150 and 300)


@dataclass(frozen=True)
class Passage:
    record: ChunkRecord  # the matched chunk's record widened to the passage (its id stays the match's)
    held: tuple[int, ...]  # ids of the chunks the passage overlaps, in document order
    evidence: float  # the best cosine between the question and a sentence of the passage (0 without a vector)


class Sentences:
    """The stored sentences of chunks with their cosine to the question, read in bulk (one query for the first few
    candidates' neighbourhoods: a query per passage cost a third of the passage work) and kept for the search."""

    def __init__(self, generation: IndexReader, query_vector: np.ndarray | None):
        self.generation, self.query_vector = generation, query_vector
        self.rows: dict[int, list[tuple[int, int, float]]] = {}
        self.windows: dict[int, list[ChunkRecord]] = {}

    def window(self, record: ChunkRecord, span_chars: int) -> list[ChunkRecord]:
        if record.id not in self.windows:
            self.windows[record.id] = window(self.generation, record, span_chars)
        return self.windows[record.id]

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
    """`record` widened by whole sentences of its document, none of a shown passage, to at most `span_chars`
    characters (a single longer sentence stays whole)."""
    sentences = sentences or Sentences(generation, query_vector)
    chunks = sentences.window(record, span_chars)
    rows = sentences.of(chunks)
    matched = [i for i, (a, b, _) in enumerate(rows) if b > record.start and a < record.end]
    if not matched:  # a chunk without stored sentences (cannot happen in a sound index): shown as matched
        return Passage(record, (record.id,), 0.0)
    rows, matched = free_run(rows, matched, [s for s in shown if s.doc_id == record.doc_id])
    starts, ends = [a for a, _, _ in rows], [b for _, b, _ in rows]
    cos = np.array([c for _, _, c in rows])
    lo, hi = sentence_run(starts, ends, cos, matched[0], matched[-1], span_chars)
    start, end = starts[lo], ends[hi]
    text = record.text if (start, end) == (record.start, record.end) else generation.document_slice(
        record.doc_id, start, end
    )
    while hi > max(lo, matched[-1]) and heading_like(text[starts[hi] - start : ends[hi] - start]):
        hi -= 1  # a heading leads its section: one left at the end would stand without its text
    end, text = ends[hi], text[: ends[hi] - start]
    held = tuple(c.id for c in chunks if c.end > start and c.start < end)
    first = next(c for c in chunks if c.end > start)
    last = [c for c in chunks if c.start < end][-1]
    passage = replace(
        record, start=start, end=end, page=first.page, page_end=last.page_end or first.page, heading=first.heading,
        text=text,
    )
    return Passage(passage, held, float(cos[lo : hi + 1].max()))


def heading_like(sentence: str) -> bool:
    """A short line without a sentence's closing punctuation ("5.0 Rules of Engagement", "FRR-VDR-05")."""
    line = sentence.strip()
    return len(line) <= HEADING_CHARS and "\n" not in line and not line.endswith(SENTENCE_CLOSERS)


def sentence_run(
    starts: list[int], ends: list[int], cos: np.ndarray, lo: int, hi: int, span_chars: int
) -> tuple[int, int]:
    """First and last index of the passage's sentences: the matched run lo..hi (cut from its weaker end while it is
    longer than `span_chars`), grown by contiguous sentences (`starts`/`ends` hold no gap a shown passage makes:
    a step is allowed only onto the next sentence in text order) towards the question."""
    while ends[hi] - starts[lo] > span_chars and lo < hi:
        if cos[lo] < cos[hi]:
            lo += 1
        else:
            hi -= 1
    anchor = starts[lo]
    while True:
        after = hi + 1 < len(starts) and ends[hi + 1] - starts[lo] <= span_chars
        before = lo > 0 and ends[hi] - starts[lo - 1] <= span_chars
        before = before and (anchor - starts[lo - 1] <= LEAD_CHARS or not after)
        if not (after or before):
            return lo, hi
        if after and (not before or cos[hi + 1] >= cos[lo - 1]):
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
