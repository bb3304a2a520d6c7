"""The next index generation: written beside the live one, made durable, then published with one rename.

A build writes `gen-N.tmp/`, fsyncs it, renames it to `gen-N/`, then replaces CURRENT (layout: generation.py). A
reader opens whatever CURRENT names, so it never sees a half-written generation.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np

from policyqa.errors import IndexWriteError
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
from policyqa.index.faiss_sqlite.generation import SCHEMA, Generation
from policyqa.index.faiss_sqlite.sparse import BM25_DIR, write_bm25
from policyqa.index.faiss_sqlite.vector_index import fit_vector_index, make_vector_index
from policyqa.index.records import layout_json, vector_blob
from policyqa.ingest.chunking import Chunk
from policyqa.ingest.documents import Document

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
