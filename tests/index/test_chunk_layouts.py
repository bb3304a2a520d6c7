"""Per-document chunk offsets held in memory: the same rows as SQLite, bounded, reloaded after eviction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from policyqa.index.faiss_sqlite.files import DATABASE
from policyqa.index.faiss_sqlite.generation import Generation
from policyqa.index.layout import ChunkLayouts, LayoutRow
from policyqa.index.store import open_store
from tests.conftest import BUNDLED_DOC


def test_neighbours_from_memory_are_the_rows_sqlite_holds(bundled_index: Path) -> None:
    generation = Generation.open_current(bundled_index)
    db = sqlite3.connect(generation.path / DATABASE)
    try:
        for chunk in generation.iter_chunks():
            for reach in (1, 3, 50):
                expected = db.execute(
                    'SELECT id, start, "end", page, page_end, heading FROM chunks '
                    "WHERE id BETWEEN ? AND ? AND doc_id = ? ORDER BY id",
                    [chunk.id - reach, chunk.id + reach, chunk.doc_id],
                ).fetchall()
                got = generation.neighbours(chunk, reach)
                assert [(n.id, n.start, n.end, n.page, n.page_end, n.heading) for n in got] == expected
                assert all(n.doc_id == BUNDLED_DOC and n.text == "" for n in got)
    finally:
        db.close()
        generation.close()


def test_the_cache_keeps_at_most_its_rows_and_reloads_what_it_dropped() -> None:
    loads: list[str] = []

    def load(doc_id: str) -> list[LayoutRow]:
        loads.append(doc_id)
        base = {"a": 0, "b": 100, "c": 200}[doc_id]
        return [(base + i, 10 * i, 10 * i + 9, None, None, None) for i in range(40)]

    layouts = ChunkLayouts(load, max_rows=80)
    assert [r[0] for r in layouts.around("a", 5, 2)] == [3, 4, 5, 6, 7]
    assert [r[0] for r in layouts.around("a", 0, 3)] == [0, 1, 2, 3]  # clipped at the document's first chunk
    layouts.around("b", 139, 1)
    assert loads == ["a", "b"] and layouts.cache.used == 80
    layouts.around("a", 1, 1)  # a is now the most recent
    layouts.around("c", 200, 1)  # over 80 rows: b, the least recent, goes
    assert list(layouts.cache.entries) == ["a", "c"] and layouts.cache.used == 80
    layouts.around("b", 120, 0)
    assert loads == ["a", "b", "c", "b"]


def test_both_stores_give_a_chunks_neighbours_in_document_order(bundled_store: str) -> None:
    reader = open_store(bundled_store).open_current()
    try:
        chunks = sorted(reader.iter_chunks(), key=lambda c: c.id)
        assert [c.start for c in chunks] == sorted(c.start for c in chunks)
        for chunk in chunks:
            for reach in (1, 4):
                expected = [
                    (c.id, c.start, c.end, c.page, c.page_end, c.heading)
                    for c in chunks
                    if abs(c.id - chunk.id) <= reach
                ]
                got = reader.neighbours(chunk, reach)
                assert [(n.id, n.start, n.end, n.page, n.page_end, n.heading) for n in got] == expected
    finally:
        reader.close()
