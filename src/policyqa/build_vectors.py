"""The vectors a build stores: chunk vectors for search and sentence vectors for `ask`, made "late" (pooled from
each chunk's token states, policyqa.late_chunking) or "separate" (each sentence embedded on its own). Both reuse
the vectors of an edited document's unchanged text and report how many chunks they embedded."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from policyqa.chunking import Chunk
from policyqa.documents import Document
from policyqa.embedding import Embedder
from policyqa.late_chunking import SentenceVectors, home_chunks
from policyqa.store import Generation

ChunkVectors = dict[str, np.ndarray]  # by chunk text
SentenceVectorMap = dict[tuple[str, int, int], np.ndarray]  # by (doc id, start, end)


def embed_separately(
    embedder: Embedder,
    docs: list[Document],
    chunks_by_doc: dict[str, list[Chunk]],
    spans_by_doc: dict[str, list[list[tuple[int, int]]]],
    base: Generation | None,
    modified_ids: set[str],
    show: Callable[[int], bool],
) -> tuple[ChunkVectors, SentenceVectorMap, int]:
    """Every sentence embedded on its own, in one encode with the chunks (batched by length); a text seen before
    is not embedded again. Returns the vectors and how many chunks were embedded."""
    sentence_texts = [d.text[a:b] for d in docs for spans in spans_by_doc[d.id] for a, b in spans]
    reusable = _reusable_vectors(base, modified_ids) if base else {}
    chunk_texts = [c.text for cs in chunks_by_doc.values() for c in cs]
    to_embed = list(dict.fromkeys(t for t in chunk_texts + sentence_texts if t not in reusable))
    encoded = embedder.encode(to_embed, progress=show(len(to_embed))) if to_embed else []
    known = reusable | dict(zip(to_embed, encoded, strict=True))
    sentences = {(d.id, a, b): known[d.text[a:b]] for d in docs for spans in spans_by_doc[d.id] for a, b in spans}
    return {t: known[t] for t in chunk_texts}, sentences, sum(t not in reusable for t in chunk_texts)


def embed_late(
    embedder: Embedder,
    docs: list[Document],
    chunks_by_doc: dict[str, list[Chunk]],
    spans_by_doc: dict[str, list[list[tuple[int, int]]]],
    base: Generation | None,
    modified_ids: set[str],
    show: Callable[[int], bool],
) -> tuple[ChunkVectors, SentenceVectorMap, int]:
    """Late chunking (policyqa.late_chunking): each chunk is encoded once and its sentences' vectors are pooled
    from its token states. A chunk whose text was indexed before is encoded again only when it is the home of a
    sentence whose vector cannot be reused (same chunk text, same span in it)."""
    chunk_reuse, sentence_reuse = _reusable_late(base, modified_ids) if base else ({}, {})
    wanted: dict[str, set[tuple[int, int]]] = {}  # chunk text → spans (relative to it) to pool
    homes: dict[tuple[str, int, int], tuple[str, int, int]] = {}  # sentence → (home chunk text, relative span)
    for doc in docs:
        chunks = chunks_by_doc[doc.id]
        for (a, b), i in home_chunks([(c.start, c.end) for c in chunks], spans_by_doc[doc.id]).items():
            chunk = chunks[i]
            key = (chunk.text, a - chunk.start, b - chunk.start)
            homes[doc.id, a, b] = key
            if key not in sentence_reuse:
                wanted.setdefault(chunk.text, set()).add(key[1:])
        for chunk in chunks:
            if chunk.text not in chunk_reuse:
                wanted.setdefault(chunk.text, set())
    texts = list(wanted)
    spans = [sorted(wanted[t]) for t in texts]
    vectors, pooled = embedder.encode_late(texts, spans, progress=show(len(texts)))
    chunk_vectors = chunk_reuse | dict(zip(texts, vectors, strict=True))
    fresh = {
        (t, a, b): v for t, ss, vs in zip(texts, spans, pooled, strict=True) for (a, b), v in zip(ss, vs, strict=True)
    }
    # A span that holds no token (cannot happen for a sentence with a word in its chunk) is embedded on its own.
    empty = [key for key, v in fresh.items() if not np.isfinite(v).all()]
    if empty:
        for key, v in zip(empty, embedder.encode([t[a:b] for t, a, b in empty]), strict=True):
            fresh[key] = v
    known = sentence_reuse | fresh
    sentences = {sentence: known[key] for sentence, key in homes.items()}
    all_texts = [c.text for cs in chunks_by_doc.values() for c in cs]
    return chunk_vectors, sentences, sum(t not in chunk_reuse for t in all_texts)


def _reusable_late(base: Generation, doc_ids: set[str]) -> tuple[ChunkVectors, dict[tuple[str, int, int], np.ndarray]]:
    """Old chunk vectors by text, and old sentence vectors by (home chunk text, span relative to it)."""
    chunks: ChunkVectors = {}
    sentences: dict[tuple[str, int, int], np.ndarray] = {}
    for doc_id in doc_ids:
        records = list(base.iter_chunks(doc_id))
        rows: dict[int, list[tuple[int, int]]] = {r.id: [] for r in records}
        vectors: dict[tuple[int, int], np.ndarray] = {}
        for sentence in base.sentences(rows):
            rows[sentence.chunk_id].append((sentence.start, sentence.end))
            vectors[sentence.start, sentence.end] = sentence.vector
        for record in records:
            chunks[record.text] = base.vectors.reconstruct(record.id)
        spans = [(r.start, r.end) for r in records]
        for (a, b), i in home_chunks(spans, [rows[r.id] for r in records]).items():
            sentences[records[i].text, a - records[i].start, b - records[i].start] = vectors[a, b]
    return chunks, sentences


def _reusable_vectors(base: Generation, doc_ids: set[str]) -> dict[str, np.ndarray]:
    """Vectors of the old chunks and sentences of modified documents, by text: an edit re-embeds only changed
    chunks and sentences."""
    reuse: dict[str, np.ndarray] = {}
    for doc_id in doc_ids:
        text = base.document_text(doc_id) or ""
        records = list(base.iter_chunks(doc_id))
        for record in records:
            reuse[record.text] = base.vectors.reconstruct(record.id)
        for sentence in base.sentences(r.id for r in records):
            reuse.setdefault(text[sentence.start : sentence.end], sentence.vector)
    return reuse


def embed_build(
    mode: SentenceVectors,
    embedder: Embedder,
    docs: list[Document],
    chunks_by_doc: dict[str, list[Chunk]],
    spans_by_doc: dict[str, list[list[tuple[int, int]]]],
    base: Generation | None,
    modified_ids: set[str],
    show: Callable[[int], bool],
) -> tuple[ChunkVectors, SentenceVectorMap, int]:
    """(chunk vectors by text, sentence vectors by (doc id, start, end), chunks embedded). `spans_by_doc`: per
    chunk, the sentences it overlaps; `show(n)`: whether to show a progress bar for n texts."""
    embed = embed_late if mode == "late" else embed_separately
    return embed(embedder, docs, chunks_by_doc, spans_by_doc, base, modified_ids, show)
