"""Turning a question into ranked chunks: query checks, dense search with document filters."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from policyqa.errors import QueryError
from policyqa.store import ChunkRecord, Generation

MAX_QUERY_CHARS = 2000  # far past the model's 256-token window; the rest would not be embedded anyway
MAX_K = 1000


class QueryTruncatedWarning(UserWarning):
    pass


@dataclass(frozen=True)
class Hit:
    text: str
    score: float
    doc_id: str
    title: str
    start: int
    end: int
    page: int | None
    heading: str | None
    chunk_id: int
    page_end: int | None = None
    rank: int = 0


def clean_query(query: object) -> str:
    if not isinstance(query, str):
        raise QueryError(f"the query must be text, got {type(query).__name__}")
    text = " ".join(query.split())
    if not text:
        raise QueryError("the query is empty; type a question or some words to search for")
    if len(text) > MAX_QUERY_CHARS:
        warnings.warn(
            QueryTruncatedWarning(
                f"the query is {len(text):,} characters long; only the first {MAX_QUERY_CHARS:,} are used"
            ),
            stacklevel=3,
        )
        text = text[:MAX_QUERY_CHARS]
    return text


def check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= int(k) <= MAX_K:
        raise QueryError(f"k must be a whole number from 1 to {MAX_K}, got {k!r}")
    return int(k)


def dense_search(
    generation: Generation, query_vector: np.ndarray, k: int, doc_ids: list[str] | None = None
) -> list[Hit]:
    import faiss

    params = None
    if doc_ids is not None:
        unknown = sorted(set(doc_ids) - {d.doc_id for d in generation.documents()})
        if unknown:
            raise QueryError(f"no such document(s) in the index: {', '.join(unknown)}")
        allowed = generation.chunk_ids_for(doc_ids)
        if len(allowed) == 0:
            return []
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
    k = min(k, len(generation))
    if k == 0:
        return []
    scores, ids = generation.vectors.search(query_vector.reshape(1, -1), k, params=params)
    found = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
    records = generation.chunk_records(i for i, _ in found)
    return [to_hit(records[i], score, rank) for rank, (i, score) in enumerate(found, 1) if i in records]


def to_hit(record: ChunkRecord, score: float, rank: int) -> Hit:
    return Hit(
        text=record.text,
        score=score,
        doc_id=record.doc_id,
        title=record.title,
        start=record.start,
        end=record.end,
        page=record.page,
        heading=record.heading,
        chunk_id=record.id,
        page_end=record.page_end,
        rank=rank,
    )
