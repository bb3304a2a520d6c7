"""One index generation on disk (FAISS vectors + SQLite rows and manifest), read; `writer.py` writes the next one
and publishes it atomically.

    index/CURRENT          name of the live generation, replaced atomically
    index/gen-000042/      vectors.faiss (IndexIDMap2; ids = chunk ids) + index.sqlite (+ sentence vectors) + bm25/
    index/lock             held while a build runs

A build writes `gen-N.tmp/`, fsyncs it, renames it to `gen-N/`, then replaces CURRENT. A reader opens
whatever CURRENT names, so it never sees a half-written generation.
"""

from __future__ import annotations

import json
import sqlite3
import weakref
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from policyqa.errors import IndexFormatError, IndexNotFoundError
from policyqa.index.faiss_sqlite.checks import generation_problems
from policyqa.index.faiss_sqlite.files import (
    DATABASE,
    VECTORS,
    current_generation_name,
)
from policyqa.index.faiss_sqlite.sparse import SparseIndex
from policyqa.index.faiss_sqlite.vector_index import search as vector_search
from policyqa.index.layout import PAGE_MAPS, ChunkLayouts, LayoutRow, LoadingCache
from policyqa.index.problems import Problem
from policyqa.index.records import (
    FORMAT_VERSION,
    ChunkRecord,
    DocumentRecord,
    PageMap,
    SentenceRecord,
    StoredDocument,
    layout_fields,
)
from policyqa.ingest.documents import Heading

SCHEMA = """
CREATE TABLE manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT NOT NULL, sha256 TEXT NOT NULL,
    size INTEGER NOT NULL, text TEXT NOT NULL, page_starts TEXT NOT NULL, headings TEXT NOT NULL,
    indexed_at REAL NOT NULL, layout TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, page INTEGER, page_end INTEGER, heading TEXT,
    text TEXT NOT NULL
);
CREATE INDEX chunks_by_doc ON chunks(doc_id);
CREATE TABLE sentences (
    chunk_id INTEGER NOT NULL REFERENCES chunks(id), start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX sentences_by_chunk ON sentences(chunk_id);
"""


_CHUNK_COLUMNS = 'c.id, c.doc_id, d.title, c.start, c."end", c.page, c.page_end, c.heading, c.text'


class Generation:
    """A published, read-only index generation."""

    def __init__(self, path: Path):
        import faiss

        self.path = path
        try:
            self.db = sqlite3.connect(f"file:{path / DATABASE}?mode=ro", uri=True, check_same_thread=False)
            # A connection refers to itself (its statement cache), so unclosed it lives until the cycle collector
            # runs, holding a deleted generation's file open: close it as soon as this generation is unused.
            self._closer = weakref.finalize(self, self.db.close)
            self.manifest: dict[str, Any] = {
                key: json.loads(value) for key, value in self.db.execute("SELECT key, value FROM manifest")
            }
            self.vectors = faiss.read_index(str(path / VECTORS))
        except (sqlite3.DatabaseError, RuntimeError, ValueError, MemoryError, OSError) as exc:
            raise IndexFormatError(
                f"index generation {path} is damaged ({exc}); rebuild it with `policyqa build --full`"
            ) from exc
        version = self.manifest.get("format_version")
        if version != FORMAT_VERSION:
            raise IndexFormatError(
                f"index at {path.parent} has format version {version}, this policyqa reads {FORMAT_VERSION}; "
                "run `policyqa build --full` to rebuild it"
            )
        try:  # BM25 now, not at the first search: a later build may delete this generation's files, and a
            _ = self.sparse  # reader holding it must keep working (open files and maps survive the unlink)
        except IndexFormatError:
            self.db.close()
            raise

    def _reading(self) -> AbstractContextManager[None]:
        return _reading(self.path)

    @classmethod
    def open_current(cls, index_dir: Path) -> Generation:
        name = current_generation_name(index_dir)
        if name is None:
            raise IndexNotFoundError(
                f"no index in '{index_dir}'; build one with `policyqa build --corpus CORPUS --index {index_dir}`"
            )
        return cls(index_dir / name)

    @property
    def name(self) -> str:
        return self.path.name

    def __len__(self) -> int:
        return int(self.vectors.ntotal)

    def dense_top(self, query_vector: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        scores, ids = vector_search(self.vectors, query_vector.reshape(1, -1), k, allowed)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i != -1]

    def sparse_top(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        return self.sparse.top(query, k, allowed)

    def idf(self, words: list[str]) -> list[tuple[float, bool]]:
        return self.sparse.idf(words)

    def chunk_vectors(self, ids: Iterable[int]) -> np.ndarray:
        rows = [self.vectors.reconstruct(int(i)) for i in ids]
        return np.array(rows, dtype=np.float32).reshape(len(rows), self.vectors.d)

    def problems(self) -> list[Problem]:
        return generation_problems(self)

    @cached_property
    def sparse(self) -> SparseIndex:
        try:
            return SparseIndex(self.path)
        except Exception as exc:  # noqa: BLE001 - numpy and bm25s raise EOFError, TokenError, … on damaged files
            raise IndexFormatError(
                f"the BM25 index of {self.path} is damaged ({type(exc).__name__}: {exc}); "
                "rebuild with `policyqa build --full`"
            ) from exc

    def chunk_records(self, ids: Iterable[int]) -> dict[int, ChunkRecord]:
        ids = [int(i) for i in ids]
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        with self._reading():
            rows = self.db.execute(
                f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d USING (doc_id) WHERE c.id IN ({marks})", ids
            )
            return {row[0]: ChunkRecord(*row) for row in rows}

    def iter_chunks(self, doc_id: str | None = None) -> Iterator[ChunkRecord]:
        where, args = ("WHERE c.doc_id = ?", [doc_id]) if doc_id else ("", [])
        query = f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d USING (doc_id) {where} ORDER BY c.id"
        with self._reading():
            for row in self.db.execute(query, args):
                yield ChunkRecord(*row)

    def sentences(self, chunk_ids: Iterable[int]) -> list[SentenceRecord]:
        """The stored sentences (with their vectors) of these chunks, in chunk and text order."""
        ids = [int(i) for i in chunk_ids]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        query = (
            f'SELECT chunk_id, start, "end", vector FROM sentences WHERE chunk_id IN ({marks}) ORDER BY chunk_id, start'
        )
        with self._reading():
            rows = self.db.execute(query, ids).fetchall()
        return [SentenceRecord(c, a, b, np.frombuffer(v, dtype="<f4")) for c, a, b, v in rows]

    def neighbours(self, record: ChunkRecord, reach: int) -> list[ChunkRecord]:
        """Chunks of `record`'s document within `reach` ids of it, in document order, without their text (ids of a
        document are consecutive: a document's chunks are written together)."""
        return self.layouts.neighbours(record, reach)

    # The caches' loaders hold the connection and path, never `self`: a generation referring to itself through its
    # caches is freed only by the cycle collector, and until then a deleted generation's files stay open (and on disk).
    @cached_property
    def layouts(self) -> ChunkLayouts:
        db, path = self.db, self.path

        def load(doc_id: str) -> list[LayoutRow]:
            query = 'SELECT id, start, "end", page, page_end, heading FROM chunks WHERE doc_id = ? ORDER BY id'
            with _reading(path):
                return db.execute(query, [doc_id]).fetchall()

        return ChunkLayouts(load)

    def page_map(self, doc_id: str) -> PageMap:
        return self._page_maps.get(doc_id)

    @cached_property
    def _page_maps(self) -> LoadingCache[str, PageMap]:
        db, path = self.db, self.path

        def load(doc_id: str) -> PageMap:
            with _reading(path):
                row = db.execute("SELECT page_starts, layout FROM documents WHERE doc_id = ?", [doc_id]).fetchone()
            if row is None:
                return PageMap(())
            return PageMap(tuple(json.loads(row[0])), layout_fields(json.loads(row[1]))["page_labels"])

        return LoadingCache(load, PAGE_MAPS)

    def document_slice(self, doc_id: str, start: int, end: int) -> str:
        """text[start:end] of a document without loading all of it (SQLite substr counts characters, from 1)."""
        with self._reading():
            row = self.db.execute(
                "SELECT substr(text, ?, ?) FROM documents WHERE doc_id = ?", [start + 1, end - start, doc_id]
            ).fetchone()
        return row[0] if row else ""

    def chunk_ids_for(self, doc_ids: Iterable[str]) -> np.ndarray:
        doc_ids = list(doc_ids)
        marks = ",".join("?" * len(doc_ids))
        with self._reading():
            rows = self.db.execute(f"SELECT id FROM chunks WHERE doc_id IN ({marks})", doc_ids) if doc_ids else []
            return np.array([r[0] for r in rows], dtype=np.int64)

    def documents(self) -> list[DocumentRecord]:
        with self._reading():
            rows = self.db.execute(
                "SELECT d.doc_id, d.path, d.title, d.sha256, d.size, COUNT(c.id), d.indexed_at, d.layout "
                "FROM documents d LEFT JOIN chunks c USING (doc_id) GROUP BY d.doc_id ORDER BY d.doc_id"
            )
            return [
                DocumentRecord(
                    doc_id, path, title, sha256, size, chunks, indexed_at, layout_fields(json.loads(layout))["notes"]
                )
                for doc_id, path, title, sha256, size, chunks, indexed_at, layout in rows
            ]

    def document_text(self, doc_id: str) -> str | None:
        with self._reading():
            row = self.db.execute("SELECT text FROM documents WHERE doc_id = ?", [doc_id]).fetchone()
        return row[0] if row else None

    def document(self, doc_id: str) -> StoredDocument | None:
        with self._reading():
            row = self.db.execute(
                "SELECT doc_id, path, title, text, page_starts, headings, layout FROM documents WHERE doc_id = ?",
                [doc_id],
            ).fetchone()
        if row is None:
            return None
        doc_id, path, title, text, page_starts, headings, layout = row
        return StoredDocument(
            doc_id,
            path,
            title,
            text,
            tuple(json.loads(page_starts)),
            tuple(Heading(*item) for item in json.loads(headings)),
            **layout_fields(json.loads(layout)),
        )

    def close(self) -> None:
        self._closer()


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """A damaged SQLite page shows up only when a query reaches it: report it as a damaged index."""
    try:
        yield
    except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
        raise
    except sqlite3.DatabaseError as exc:
        raise IndexFormatError(
            f"index generation {path} is damaged ({exc}); rebuild it with `policyqa build --full`"
        ) from exc
