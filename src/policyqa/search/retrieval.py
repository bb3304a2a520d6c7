"""Turning a question into ranked chunks: query checks, dense search with document filters."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Literal, get_args

import numpy as np

from policyqa.errors import QueryError
from policyqa.index.records import ChunkRecord
from policyqa.index.store import IndexReader
from policyqa.search.filters import DocumentFilter, matching_documents
from policyqa.search.fusion import weighted_fusion
from policyqa.search.mmr import mmr_order
from policyqa.search.passages import Sentences, grow, overlaps

MAX_QUERY_CHARS = 2000  # far past the model's 256-token window; the rest would not be embedded anyway
MAX_K = 1000
Mode = Literal["dense", "bm25", "hybrid"]
MODES: tuple[str, ...] = get_args(Mode)
FUSION_DEPTH = 50  # candidates taken from each list before fusing
GROWN_FUSION_DEPTH = 100  # the same for small-to-big (64-token chunks, the default): both folds chose 100
# Weighted fusion of min-max normalised scores beat reciprocal rank fusion on PolicyQA dev (MRR@10 0.448 vs 0.438,
# hit within 1,500 chars 0.426 vs 0.412; benchmarks/policyqa_dev.py), and its score in [0, 1] reads better. With small
# chunks grown into passages, 2-fold cross-validation picked 0.7 on one fold and 0.8 on the other.
HYBRID_DENSE_WEIGHT = 0.7
# Passages are ordered by fused score + this weight x their best sentence's evidence (cosine with the question of the
# stored late-chunked sentence vector + its share of the question's terms: search.passages): both folds chose 0.8
# of 0.1-0.8 for the cosine alone (benchmarks/passage_ablation.py), kept for the evidence.
SENTENCE_EVIDENCE_WEIGHT = 0.8
GROWN_POOL_FACTOR = 4  # passages overlap their neighbours' matches: take more matches to fill k passages
MMR_POOL_FACTOR, MMR_MIN_POOL = 4, 20  # MMR re-orders this many candidates
MMR_DIVERSITY = 0.5  # the usual lambda = 0.5 (LangChain default); 0.3 kept exact duplicates together


def fuse(dense: list[tuple[int, float]], sparse: list[tuple[int, float]]) -> list[tuple[int, float]]:
    return weighted_fusion(dense, sparse, HYBRID_DENSE_WEIGHT)


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
    chunk_ids: tuple[int, ...] = ()  # the chunks a small-to-big passage holds (chunk_id, the match, among them)
    page_label: str | None = None  # the printed label of `page` where it differs from the page index ("iii")


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


def allowed_chunk_ids(
    generation: IndexReader, doc_ids: list[str] | None, filters: DocumentFilter | None = None
) -> np.ndarray | None:
    """Chunk ids the filters allow, or None when nothing is filtered."""
    spec = DocumentFilter(doc_ids, filters.path, filters.where) if filters else DocumentFilter(doc_ids)
    if not spec.active:
        return None
    return generation.chunk_ids_for(matching_documents(generation.documents(), spec))


def required_vector(query_vector: np.ndarray | None) -> np.ndarray:
    """The query's vector where a step needs one (dense ranking, MMR); only BM25 alone runs without it."""
    if query_vector is None:
        raise QueryError("this search needs the query's vector (only mode 'bm25' without MMR runs without one)")
    return query_vector


def dense_ranked(
    generation: IndexReader, query_vector: np.ndarray, k: int, allowed: np.ndarray | None = None
) -> list[tuple[int, float]]:
    if allowed is not None and len(allowed) == 0:
        return []
    k = min(k, len(generation))
    if k == 0:
        return []
    return generation.dense_top(query_vector, k, allowed)


def retrieve(
    generation: IndexReader,
    query: str,
    query_vector: np.ndarray | None,
    k: int,
    doc_ids: list[str] | None = None,
    mode: Mode = "hybrid",
    *,
    filters: DocumentFilter | None = None,
    mmr: bool = False,
) -> list[Hit]:
    """Top-k chunks by dense similarity, BM25, or both fused; optionally diversified by MMR.

    `query_vector` may be None only for bm25 without MMR.
    """
    if mode not in MODES:
        raise QueryError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    allowed = allowed_chunk_ids(generation, doc_ids, filters)
    if allowed is not None and len(allowed) == 0:
        return []
    depth = max(k * MMR_POOL_FACTOR, MMR_MIN_POOL) if mmr else k
    span_chars = passage_chars(generation)
    fusion_floor = GROWN_FUSION_DEPTH if span_chars else FUSION_DEPTH
    wanted, depth = depth, max(depth * GROWN_POOL_FACTOR, fusion_floor) if span_chars else depth
    if mode == "dense":
        ranked = dense_ranked(generation, required_vector(query_vector), depth, allowed)
    elif mode == "bm25":
        ranked = generation.sparse_top(query, depth, allowed)
    else:
        fusion_depth = max(depth, fusion_floor)
        dense = dense_ranked(generation, required_vector(query_vector), fusion_depth, allowed)
        sparse = generation.sparse_top(query, fusion_depth, allowed)
        ranked = fuse(dense, sparse)[:depth]
    if span_chars:
        found = passages(generation, ranked, span_chars, wanted, query_vector, query)
    else:
        records = generation.chunk_records(i for i, _ in ranked)
        found = [(records[i], score, (i,)) for i, score in ranked if i in records]
    hits = [to_hit(record, score, rank, held) for rank, (record, score, held) in enumerate(found, 1)]
    return diversify(generation, required_vector(query_vector), hits, k) if mmr else hits


def passage_chars(generation: IndexReader) -> int:
    """The passage size the index was built for (0: chunks are shown as matched, as before small-to-big)."""
    return int(generation.manifest.get("chunking", {}).get("passage_chars", 0))


def passages(
    generation: IndexReader,
    ranked: list[tuple[int, float]],
    span_chars: int,
    k: int,
    query_vector: np.ndarray | None = None,
    query: str = "",
) -> list[tuple[ChunkRecord, float, tuple[int, ...]]]:
    """The best k matches grown into distinct passages of whole sentences (a match inside a passage already shown is
    skipped), each with the ids of the chunks it holds, ordered by fused score and sentence evidence
    (SENTENCE_EVIDENCE_WEIGHT). Records are read a few candidates at a time (most candidates are only there in case
    matches fall into shown passages), the sentences of each passage's neighbourhood when it is grown."""
    shown: list[tuple[ChunkRecord, float, tuple[int, ...], float]] = []
    sentences = Sentences(generation, query_vector, query)
    for batch in range(0, len(ranked), 2 * k):
        part = ranked[batch : batch + 2 * k]
        records = generation.chunk_records(i for i, _ in part)
        sentences.preload((records[i] for i, _ in part[: k - len(shown)] if i in records), span_chars)
        for i, score in part:
            record = records.get(i)
            held_passages = [p for p, _, _, _ in shown]
            if record is not None and not overlaps(record, held_passages):
                grown = grow(generation, record, span_chars, held_passages, query_vector, sentences)
                shown.append((grown.record, score, grown.held, score + SENTENCE_EVIDENCE_WEIGHT * grown.evidence))
                if len(shown) == k:
                    break
        if len(shown) == k:
            break
    ordered = sorted(shown, key=lambda found: -found[3])  # stable: ties keep the fused order
    return [(record, score, held) for record, score, held, _ in ordered]


def diversify(generation: IndexReader, query_vector: np.ndarray, hits: list[Hit], k: int) -> list[Hit]:
    """The k hits chosen by maximal marginal relevance over the candidates' stored vectors, re-ranked."""
    if not hits:
        return hits
    vectors = generation.chunk_vectors(h.chunk_id for h in hits)
    order = mmr_order(query_vector, vectors, k, MMR_DIVERSITY)
    return [replace(hits[j], rank=rank) for rank, j in enumerate(order, 1)]


def to_hit(record: ChunkRecord, score: float, rank: int, held: tuple[int, ...] = ()) -> Hit:
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
        chunk_ids=held or (record.id,),
    )
