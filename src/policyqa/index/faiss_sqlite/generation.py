"""One index generation on disk (FAISS vectors + SQLite rows and manifest) and its atomic publication.

    index/CURRENT          name of the live generation, replaced atomically
    index/gen-000042/      vectors.faiss (IndexIDMap2; ids = chunk ids) + index.sqlite (+ sentence vectors) + bm25/
    index/lock             held while a build runs

A build writes `gen-N.tmp/`, fsyncs it, renames it to `gen-N/`, then replaces CURRENT. A reader opens
whatever CURRENT names, so it never sees a half-written generation.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import weakref
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from policyqa.errors import IndexFormatError, IndexNotFoundError, IndexWriteError
from policyqa.index.faiss_sqlite.checks import generation_problems
from policyqa.index.faiss_sqlite.files import (
    CHECKSUMS,
    CURRENT,
    DATABASE,
    GENERATION_NAME,
    VECTORS,
    current_generation_name,
    file_sha256,
    generation_files,
    generation_number,
)
from policyqa.index.faiss_sqlite.sparse import BM25_DIR, SparseIndex, write_bm25
from policyqa.index.faiss_sqlite.vector_index import fit_vector_index, make_vector_index
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
    layout_json,
    vector_blob,
)
from policyqa.ingest.chunking import Chunk
from policyqa.ingest.documents import Document, Heading

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


_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")


def as_write_error(index_dir: Path, exc: BaseException) -> IndexWriteError | None:
    """`exc` as an IndexWriteError when it is a failing disk write (OSError, SQLite, FAISS); None otherwise."""
    if isinstance(exc, OSError) and _SHORT_WRITE.search(str(exc)):  # numpy's tofile on a full disk: no errno
        reason = f"the disk is full (no space left on device: a write stopped short, {exc})"
    elif isinstance(exc, OSError):
        reason = f"{exc.strerror}: {exc.filename}" if exc.strerror and exc.filename else exc.strerror or str(exc)
    elif isinstance(exc, sqlite3.OperationalError):
        reason = f"SQLite: {exc}"
    elif isinstance(exc, RuntimeError) and "faiss::write_index" in str(exc):
        reason = f"FAISS: {str(exc).rsplit(': ', 1)[-1]}"  # "… write error in …: 65454 != 153600 (No space left …)"
    else:
        return None
    return IndexWriteError(
        f"cannot write the index in '{index_dir}' ({reason}); the previous index is unchanged and still in use. "
        "Free disk space or make the folder writable, then run `policyqa build` again"
    )


class GenerationWriter:
    """Builds the next generation from the live one (copy, then apply deletes and adds) or from scratch."""

    def __init__(self, index_dir: Path, base: Generation | None, dimension: int, ann_threshold: int | None = None):
        """`ann_threshold`: vector count from which the index is IVF instead of exact flat (None: the default,
        policyqa.index.faiss_sqlite.vector_index.ANN_THRESHOLD); checked at publish, when the final count is known."""
        import faiss

        self.index_dir = index_dir
        number = _next_generation_number(index_dir)
        self.final_path = index_dir / f"gen-{number:06d}"
        self.tmp_path = index_dir / f"gen-{number:06d}.tmp"
        shutil.rmtree(self.tmp_path, ignore_errors=True)
        self.tmp_path.mkdir(parents=True)
        self.db = sqlite3.connect(self.tmp_path / DATABASE)
        if base is not None:
            base.db.backup(self.db)
            self.vectors = faiss.clone_index(base.vectors)
        else:
            self.db.executescript(SCHEMA)
            self.vectors = make_vector_index(dimension, 0)
        self.ann_threshold = ann_threshold
        self._base_vector_index = base.manifest.get("vector_index") if base is not None else None
        row = self.db.execute("SELECT MAX(id) FROM chunks").fetchone()
        self._next_id = (row[0] or 0) + 1

    def delete_document(self, doc_id: str) -> None:
        ids = [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE doc_id = ?", [doc_id])]
        if ids:
            self.vectors.remove_ids(np.array(ids, dtype=np.int64))  # type: ignore[arg-type]  # the wrapper takes ids
        self.db.execute("DELETE FROM sentences WHERE chunk_id IN (SELECT id FROM chunks WHERE doc_id = ?)", [doc_id])
        self.db.execute("DELETE FROM chunks WHERE doc_id = ?", [doc_id])
        self.db.execute("DELETE FROM documents WHERE doc_id = ?", [doc_id])

    def add_document(
        self,
        doc: Document,
        chunks: list[Chunk],
        vectors: np.ndarray,
        indexed_at: float,
        sentences: list[list[tuple[int, int, np.ndarray]]] | None = None,
    ) -> None:
        """`sentences`: per chunk, (start, end, vector) of its sentences."""
        self.db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                doc.id,
                str(doc.path),
                doc.title,
                doc.sha256,
                doc.size,
                doc.text,
                json.dumps(list(doc.page_starts)),
                json.dumps([[h.start, h.title, h.level] for h in doc.headings]),
                indexed_at,
                json.dumps(layout_json(doc)),
            ],
        )
        ids = np.arange(self._next_id, self._next_id + len(chunks), dtype=np.int64)
        self._next_id += len(chunks)
        self.db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (int(i), c.doc_id, c.start, c.end, c.page, c.page_end, c.heading, c.text)
                for i, c in zip(ids, chunks, strict=True)
            ],
        )
        if len(chunks):
            self.vectors.add_with_ids(vectors, ids)
        self.db.executemany(
            "INSERT INTO sentences VALUES (?, ?, ?, ?)",
            [
                (int(i), a, b, vector_blob(v))
                for i, spans in zip(ids, sentences or [[] for _ in chunks], strict=True)
                for a, b, v in spans
            ],
        )

    def set_manifest(self, manifest: dict[str, Any]) -> None:
        self.db.execute("DELETE FROM manifest")
        self.db.executemany("INSERT INTO manifest VALUES (?, ?)", [(k, json.dumps(v)) for k, v in manifest.items()])

    def publish(self) -> str:
        """Make the new generation durable, then switch CURRENT to it with one rename."""
        import faiss

        # flat <-> IVF (or IVF retrained) when the final size calls for it; recorded in the manifest
        self.vectors, vector_index = fit_vector_index(self.vectors, self._base_vector_index, self.ann_threshold)
        self.db.execute("INSERT OR REPLACE INTO manifest VALUES ('vector_index', ?)", [json.dumps(vector_index)])
        rows = self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        if rows != self.vectors.ntotal:
            raise RuntimeError(f"internal error: {rows} chunk rows but {self.vectors.ntotal} vectors")
        self.db.commit()
        rows = self.db.execute("SELECT id, text FROM chunks ORDER BY id").fetchall()
        write_bm25([text for _, text in rows], np.array([i for i, _ in rows], dtype=np.int64), self.tmp_path)
        faiss.write_index(self.vectors, str(self.tmp_path / VECTORS))
        checksums = {name: file_sha256(self.tmp_path / name) for name in generation_files(self.tmp_path)}
        self.db.execute("INSERT OR REPLACE INTO manifest VALUES (?, ?)", [CHECKSUMS, json.dumps(checksums)])
        self.db.commit()
        self.db.close()
        for path in [self.tmp_path / VECTORS, self.tmp_path / DATABASE, *(self.tmp_path / BM25_DIR).iterdir()]:
            _fsync_file(path)
        _fsync_dir(self.tmp_path / BM25_DIR)
        _fsync_dir(self.tmp_path)
        os.rename(self.tmp_path, self.final_path)
        try:
            pointer = self.index_dir / f"{CURRENT}.tmp"
            pointer.write_text(self.final_path.name + "\n", encoding="utf-8")
            _fsync_file(pointer)
            os.replace(pointer, self.index_dir / CURRENT)
        except BaseException:  # not live: remove it, so that retries do not pile up unused generations
            shutil.rmtree(self.final_path, ignore_errors=True)
            raise
        _fsync_dir(self.index_dir)
        return self.final_path.name

    def abandon(self) -> None:
        try:
            self.db.close()
        finally:
            shutil.rmtree(self.tmp_path, ignore_errors=True)


def remove_old_generations(index_dir: Path, keep: int = 2) -> None:
    """Delete unfinished `.tmp` generations and all but the newest `keep` published ones.

    Readers that still hold an older generation keep working: their open files stay valid after unlink.
    """
    live = current_generation_name(index_dir)
    published = sorted(
        (p for p in index_dir.glob("gen-*") if p.is_dir() and GENERATION_NAME.fullmatch(p.name)),
        key=lambda p: generation_number(p.name) or 0,  # by number: "gen-1000000" sorts before "gen-999999" as text
    )
    remove_leftovers(index_dir)
    for path in published[:-keep]:
        if path.name != live:
            shutil.rmtree(path, ignore_errors=True)


def remove_leftovers(index_dir: Path) -> None:
    """What interrupted builds leave: `gen-*.tmp` folders and `CURRENT.tmp`. Only call it holding the build lock."""
    for path in index_dir.glob("gen-*.tmp"):
        shutil.rmtree(path, ignore_errors=True)
    (index_dir / f"{CURRENT}.tmp").unlink(missing_ok=True)


def _next_generation_number(index_dir: Path) -> int:
    numbers = [n for p in index_dir.glob("gen-*") if (n := generation_number(p.name)) is not None]
    return max(numbers, default=0) + 1


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    _fsync_file(path)
