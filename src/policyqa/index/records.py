"""The rows a store hands across the seam: chunks, sentences with their vectors, documents."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from policyqa.ingest.documents import Heading

# Of what an index holds, in any store. 2: a BM25 index beside the vectors; 3: sentence vectors for `ask`.
FORMAT_VERSION = 3


@dataclass(frozen=True)
class ChunkRecord:
    id: int
    doc_id: str
    title: str
    start: int
    end: int
    page: int | None
    page_end: int | None
    heading: str | None
    text: str


@dataclass(frozen=True)
class SentenceRecord:
    chunk_id: int
    start: int  # offsets into the document's text, whole sentences (policyqa.ingest.sentences.passage_sentences)
    end: int
    vector: np.ndarray  # float32 unit vector, stored as a little-endian float32 blob (no pickle)


def vector_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    path: str
    title: str
    sha256: str
    size: int
    chunks: int
    indexed_at: float


@dataclass(frozen=True)
class StoredDocument:
    """A document as indexed: its full text with page starts and headings (for showing a source in context)."""

    doc_id: str
    path: str
    title: str
    text: str
    page_starts: tuple[int, ...]
    headings: tuple[Heading, ...]
