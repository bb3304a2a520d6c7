"""Small-to-big: a matched chunk grown with its neighbours in the document into the passage a reader is shown.

Chunks are small so that a match is precise; the passage around it gives the context. A chunk is grown by its
neighbours (the next, then the previous, alternately) while the passage stays within `span_chars`; the passage is
an exact slice of the document text, so offsets, pages and the highlight work as for a chunk. A passage does not
grow into one already shown for a better match, and a match inside a shown passage is not shown again: results
are distinct passages and every matched chunk is in one of them.
"""

from __future__ import annotations

from dataclasses import replace

from policyqa.index.records import ChunkRecord
from policyqa.index.store import IndexReader

MIN_NEIGHBOUR_CHARS = 40  # how far to look: a passage of span_chars holds at most span_chars / 40 chunks


def grow(generation: IndexReader, record: ChunkRecord, span_chars: int, shown: list[ChunkRecord]) -> ChunkRecord:
    """`record` widened by neighbouring chunks of its document, not shown ones, to at most `span_chars` characters."""
    if span_chars <= record.end - record.start:
        return record
    reach = max(2, span_chars // MIN_NEIGHBOUR_CHARS)
    neighbours = generation.neighbours(record, reach)
    pos = next(i for i, n in enumerate(neighbours) if n.id == record.id)
    first, last = pos, pos  # the run of neighbours around the match that no shown passage holds
    while first > 0 and not overlaps(neighbours[first - 1], shown):
        first -= 1
    while last + 1 < len(neighbours) and not overlaps(neighbours[last + 1], shown):
        last += 1
    neighbours, pos = neighbours[first : last + 1], pos - first
    start, end, page, page_end = record.start, record.end, record.page, record.page_end
    lo = hi = pos
    grown = True
    while grown:
        grown = False
        if hi + 1 < len(neighbours) and max(end, neighbours[hi + 1].end) - start <= span_chars:
            hi += 1
            end, page_end = max(end, neighbours[hi].end), neighbours[hi].page_end or page_end
            grown = True
        if lo > 0 and end - min(start, neighbours[lo - 1].start) <= span_chars:
            lo -= 1
            start, page = min(start, neighbours[lo].start), neighbours[lo].page
            grown = True
    if (start, end) == (record.start, record.end):
        return record
    heading = neighbours[lo].heading
    text = generation.document_slice(record.doc_id, start, end)
    return replace(record, start=start, end=end, page=page, page_end=page_end, heading=heading, text=text)


def overlaps(record: ChunkRecord, shown: list[ChunkRecord]) -> bool:
    return any(s.doc_id == record.doc_id and record.start < s.end and s.start < record.end for s in shown)
