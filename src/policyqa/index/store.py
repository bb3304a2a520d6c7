"""The seam between the index and everything above it: sync, search, answers and the doctor talk to a `Store`.

A store keeps published, read-only index versions ("generations": a folder, a Milvus collection) and one live
pointer to the newest. A build writes a whole new version beside the live one and switches the pointer in one
atomic step, so a reader never sees a half-written index. Implementations live in their own sub-packages:
`faiss_sqlite/` (the embedded default: a folder on local disk) and `milvus/` (milvus-lite or a Milvus server);
nothing above this seam imports faiss, sqlite3 or pymilvus.

A store is named by a location: a plain folder path (FAISS+SQLite), `milvus:///path/file.db` (milvus-lite, in
process) or `http(s)://host:19530` (a Milvus server or cluster; its login a `StoreCredentials` value, which the
entry points take from the environment only).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from policyqa.errors import PolicyQAError
from policyqa.index.credentials import StoreCredentials
from policyqa.index.problems import Problem
from policyqa.index.records import ChunkRecord, DocumentRecord, PageMap, SentenceRecord, StoredDocument
from policyqa.ingest.chunking import Chunk
from policyqa.ingest.documents import Document

Ranked = list[tuple[int, float]]  # (chunk id, score), best first


@runtime_checkable
class IndexReader(Protocol):
    """One published index version, read-only; stays usable while a build publishes a newer one."""

    manifest: dict[str, Any]

    @property
    def name(self) -> str: ...  # the version's name ("gen-000042", a collection name): changes at every publish

    def __len__(self) -> int: ...
    def documents(self) -> list[DocumentRecord]: ...
    def document(self, doc_id: str) -> StoredDocument | None: ...
    def page_map(self, doc_id: str) -> PageMap:
        """Page starts and printed labels of a document (cached: no text is read); empty for unpaged formats."""
        ...

    def document_text(self, doc_id: str) -> str | None: ...
    def document_slice(self, doc_id: str, start: int, end: int) -> str: ...
    def chunk_records(self, ids: Iterable[int]) -> dict[int, ChunkRecord]: ...
    def iter_chunks(self, doc_id: str | None = None) -> Iterator[ChunkRecord]: ...
    def chunk_ids_for(self, doc_ids: Iterable[str]) -> np.ndarray: ...
    def chunk_vectors(self, ids: Iterable[int]) -> np.ndarray: ...
    def neighbours(self, record: ChunkRecord, reach: int) -> list[ChunkRecord]: ...
    def sentences(self, chunk_ids: Iterable[int]) -> list[SentenceRecord]: ...

    def dense_top(self, query_vector: np.ndarray, k: int, allowed: np.ndarray | None = None) -> Ranked:
        """The k chunks nearest `query_vector` (inner product of unit vectors), only `allowed` ids when given."""
        ...

    def sparse_top(self, query: str, k: int, allowed: np.ndarray | None = None) -> Ranked:
        """The k best chunks by BM25 over the chunk texts, only `allowed` ids when given."""
        ...

    def idf(self, words: list[str]) -> list[tuple[float, bool]]:
        """Per word: its BM25 inverse document frequency and whether any chunk contains it."""
        ...

    def problems(self) -> list[Problem]:
        """Damage inside this version (ids that disagree, offsets that do not reproduce text, bad vectors)."""
        ...

    def close(self) -> None: ...


class IndexWriter(Protocol):
    """A new version being written from a base (whose rows are carried over unless deleted); invisible until
    `publish`."""

    def delete_document(self, doc_id: str) -> None: ...

    def add_document(
        self,
        doc: Document,
        chunks: list[Chunk],
        vectors: np.ndarray,
        indexed_at: float,
        sentences: list[list[tuple[int, int, np.ndarray]]],
    ) -> None: ...

    def set_manifest(self, manifest: dict[str, Any]) -> None: ...

    def publish(self) -> str:
        """Make the new version the live one in one atomic step; its name."""
        ...

    def abandon(self) -> None: ...


@runtime_checkable
class Store(Protocol):
    location: str  # what the user named it by, for messages

    def current_manifest(self) -> dict[str, Any] | None:
        """The live version's manifest without loading vectors; None when there is none or it cannot be read."""
        ...

    def current_name(self) -> str | None:
        """The live version's name (cheap: readers poll it to follow a publish); None when nothing is published."""
        ...

    def open_current(self) -> IndexReader:
        """The live version; IndexNotFoundError when nothing is published, IndexFormatError when it is damaged."""
        ...

    def inspect(self) -> tuple[IndexReader | None, list[Problem]]:
        """The doctor's view: the live version if it opens, and every problem found (errors first)."""
        ...

    def check_corpus(self, corpus_dir: Path) -> None:
        """Refuse a corpus folder this store cannot be used with (a folder store inside the corpus, or around it)."""
        ...

    def build_session(
        self, corpus_dir: Path, timeout: float, on_wait: Callable[[str], None]
    ) -> AbstractContextManager[None]:
        """Held for a whole build: one build at a time per store; checks the corpus and that the store is
        writable first."""
        ...

    def writer(self, base: IndexReader | None, dimension: int) -> IndexWriter: ...

    def write_error(self, exc: BaseException) -> PolicyQAError | None:
        """A clear message for a failed write (disk full, read-only, unreachable), or None if `exc` is not one."""
        ...

    def tidy(self) -> None:
        """Remove what interrupted builds left and versions no reader needs any more."""
        ...


def open_store(location: str | Path | Store, credentials: StoreCredentials | None = None) -> Store:
    """The store named by `location` (a `Store` is returned as it is); `credentials`: a Milvus server's login."""
    if isinstance(location, Store):
        return location
    where = str(location)
    if is_milvus_location(where):
        from policyqa.index.milvus import open_milvus_store

        return open_milvus_store(where, credentials or StoreCredentials())
    from policyqa.index.faiss_sqlite.store import FaissSqliteStore

    return FaissSqliteStore(Path(where))


def is_milvus_location(where: str) -> bool:
    return where.startswith(("milvus:", "http://", "https://"))  # "milvus:x.db" too: refused, not a folder
