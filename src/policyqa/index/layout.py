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
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from policyqa.index.records import ChunkRecord

LayoutRow = tuple[int, int, int, int | None, int | None, str | None]  # id, start, end, page, page_end, heading
MAX_ROWS = 200_000  # about 30 MB of Python tuples at most
PAGE_MAPS = 256  # documents whose page starts and labels a reader keeps

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LoadingCache(Generic[K, V]):
    """Values loaded on first use and kept, the least recently used dropped once their sizes pass `capacity` (the
    last one loaded always stays). Safe to share between threads; two may load the same key at once."""

    def __init__(self, load: Callable[[K], V], capacity: int, size: Callable[[V], int] = lambda _value: 1):
        self.load, self.capacity, self.size = load, capacity, size
        self.entries: OrderedDict[K, V] = OrderedDict()
        self.used = 0
        self.lock = threading.Lock()

    def get(self, key: K) -> V:
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        value = self.load(key)
        with self.lock:
            if key not in self.entries:
                self.entries[key] = value
                self.used += self.size(value)
                while self.used > self.capacity and len(self.entries) > 1:
                    _, dropped = self.entries.popitem(last=False)
                    self.used -= self.size(dropped)
        return value


class ChunkLayouts:
    def __init__(self, load: Callable[[str], list[LayoutRow]], max_rows: int = MAX_ROWS):
        self.cache: LoadingCache[str, tuple[list[int], list[LayoutRow]]] = LoadingCache(
            lambda doc_id: with_ids(load(doc_id)), max_rows, lambda entry: len(entry[1])
        )

    def around(self, doc_id: str, chunk_id: int, reach: int) -> list[LayoutRow]:
        """The document's chunks with ids within `reach` of `chunk_id`, in id (document) order."""
        ids, rows = self.cache.get(doc_id)
        return rows[bisect_left(ids, chunk_id - reach) : bisect_right(ids, chunk_id + reach)]

    def neighbours(self, record: ChunkRecord, reach: int) -> list[ChunkRecord]:
        """`IndexReader.neighbours`: the records around `record`, without their text."""
        rows = self.around(record.doc_id, record.id, reach)
        return [ChunkRecord(i, record.doc_id, record.title, s, e, p, pe, h, "") for i, s, e, p, pe, h in rows]


def with_ids(rows: list[LayoutRow]) -> tuple[list[int], list[LayoutRow]]:
    return [r[0] for r in rows], rows
