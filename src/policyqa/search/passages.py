"""Small-to-big: a matched chunk grown with its neighbours in the document into the passage a reader is shown.

Chunks are small so that a match is precise; the passage around it gives the context. A chunk is grown by its
neighbours (the next, then the previous, alternately) while the passage stays within `span_chars`; the passage is
an exact slice of the document text, so offsets, pages and the highlight work as for a chunk. A passage does not
grow into one already shown for a better match, and a match inside a shown passage is not shown again: results
are distinct passages and every matched chunk is in one of them. (Limiting the text before the match, so that a
reader meets it near the top, did not raise hit@5 or the hit within 1,500 characters under cross-validation:
benchmarks/retrieval_ablation.py, "lead-limited".)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from policyqa.index.records import ChunkRecord
from policyqa.index.store import IndexReader

MIN_NEIGHBOUR_CHARS = 40  # the farthest to look: a passage of span_chars holds at most span_chars / 40 chunks


@dataclass(frozen=True)
class Grown:
    lo: int  # first and last index into the neighbours list
    hi: int
    start: int
    end: int
    page: int | None
    page_end: int | None


def grow(
    generation: IndexReader, record: ChunkRecord, span_chars: int, shown: list[ChunkRecord]
) -> tuple[ChunkRecord, tuple[int, ...]]:
    """`record` widened by neighbouring chunks of its document, not shown ones, to at most `span_chars` characters;
    with the ids of the chunks the passage holds, in document order."""
    if span_chars <= record.end - record.start:
        return record, (record.id,)
    # Read a few neighbours of the match's own size first and widen only when the passage reaches their edge: most
    # chunks are far longer than the worst case, and reading 2 * span_chars / 40 rows per result cost more than the
    # growing itself.
    most = max(2, span_chars // MIN_NEIGHBOUR_CHARS)
    reach = min(most, span_chars // max(record.end - record.start, MIN_NEIGHBOUR_CHARS) + 2)
    while True:
        neighbours = generation.neighbours(record, reach)
        grown = grow_within(neighbours, record, span_chars, shown)
        at_edge = (grown.lo == 0 and neighbours[0].id == record.id - reach) or (
            grown.hi == len(neighbours) - 1 and neighbours[-1].id == record.id + reach
        )
        if not at_edge or reach >= most:
            break
        reach = min(most, 2 * reach)
    held = tuple(n.id for n in neighbours[grown.lo : grown.hi + 1])
    if (grown.start, grown.end) == (record.start, record.end):
        return record, held
    text = generation.document_slice(record.doc_id, grown.start, grown.end)
    passage = replace(
        record,
        start=grown.start,
        end=grown.end,
        page=grown.page,
        page_end=grown.page_end,
        heading=neighbours[grown.lo].heading,
        text=text,
    )
    return passage, held


def grow_within(neighbours: list[ChunkRecord], record: ChunkRecord, span_chars: int, shown: list[ChunkRecord]) -> Grown:
    """The passage around `record` from these neighbours (document order), within the run no shown passage holds."""
    pos = next(i for i, n in enumerate(neighbours) if n.id == record.id)
    first, last = pos, pos
    while first > 0 and not overlaps(neighbours[first - 1], shown):
        first -= 1
    while last + 1 < len(neighbours) and not overlaps(neighbours[last + 1], shown):
        last += 1
    start, end, page, page_end = record.start, record.end, record.page, record.page_end
    lo = hi = pos
    grown = True
    while grown:
        grown = False
        if hi < last and max(end, neighbours[hi + 1].end) - start <= span_chars:
            hi += 1
            end, page_end = max(end, neighbours[hi].end), neighbours[hi].page_end or page_end
            grown = True
        if lo > first and end - min(start, neighbours[lo - 1].start) <= span_chars:
            lo -= 1
            start, page = min(start, neighbours[lo].start), neighbours[lo].page
            grown = True
    return Grown(lo, hi, start, end, page, page_end)


def overlaps(record: ChunkRecord, shown: list[ChunkRecord]) -> bool:
    return any(s.doc_id == record.doc_id and record.start < s.end and s.start < record.end for s in shown)
