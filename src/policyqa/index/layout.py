"""Per-document chunk offsets kept in memory, so that growing a match into a passage costs no query.

A store's readers see one published version that never changes, so what is read once stays true. Small-to-big asks
for the neighbours of every result: one SQLite query per result cost about as much as the rest of the passage work,
and one Milvus query per result tripled a milvus-lite search (benchmarks/perf_passages.py, store_compare.py). The
cache holds offsets only (no text), the least recently used documents leave first, up to MAX_ROWS chunks in all.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable

from policyqa.index.records import ChunkRecord

LayoutRow = tuple[int, int, int, int | None, int | None, str | None]  # id, start, end, page, page_end, heading
MAX_ROWS = 200_000  # about 30 MB of Python tuples at most


class ChunkLayouts:
    def __init__(self, load: Callable[[str], list[LayoutRow]], max_rows: int = MAX_ROWS):
        self.load, self.max_rows = load, max_rows
        self.documents: OrderedDict[str, tuple[list[int], list[LayoutRow]]] = OrderedDict()
        self.rows = 0
        self.lock = threading.Lock()

    def around(self, doc_id: str, chunk_id: int, reach: int) -> list[LayoutRow]:
        """The document's chunks with ids within `reach` of `chunk_id`, in id (document) order."""
        ids, rows = self.layout(doc_id)
        return rows[bisect_left(ids, chunk_id - reach) : bisect_right(ids, chunk_id + reach)]

    def neighbours(self, record: ChunkRecord, reach: int) -> list[ChunkRecord]:
        """`IndexReader.neighbours`: the records around `record`, without their text."""
        rows = self.around(record.doc_id, record.id, reach)
        return [ChunkRecord(i, record.doc_id, record.title, s, e, p, pe, h, "") for i, s, e, p, pe, h in rows]

    def layout(self, doc_id: str) -> tuple[list[int], list[LayoutRow]]:
        with self.lock:
            cached = self.documents.get(doc_id)
            if cached is not None:
                self.documents.move_to_end(doc_id)
                return cached
        rows = self.load(doc_id)
        entry = ([r[0] for r in rows], rows)
        with self.lock:
            if doc_id not in self.documents:
                self.documents[doc_id] = entry
                self.rows += len(rows)
                while self.rows > self.max_rows and len(self.documents) > 1:
                    _, (_, dropped) = self.documents.popitem(last=False)
                    self.rows -= len(dropped)
        return entry
