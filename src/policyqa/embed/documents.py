"""Prepared documents → the vectors a store holds: one per chunk and one per sentence of each chunk."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from policyqa.embed.embedder import Embedder
from policyqa.ingest.prepare import PreparedDocument


@dataclass(frozen=True)
class EmbeddedDocument:
    prepared: PreparedDocument
    chunk_vectors: np.ndarray  # (chunks, dimension) float32 unit vectors
    sentence_vectors: list[list[np.ndarray]]  # per chunk, per sentence span


@dataclass(frozen=True)
class EmbedResult:
    documents: list[EmbeddedDocument]
    chunks_embedded: int  # chunks whose text was not reusable (repeats inside a new file included)
    chunks_reused: int


def embed_documents(
    prepared: list[PreparedDocument],
    embedder: Embedder,
    reusable: Mapping[str, np.ndarray] | None = None,
    progress: bool = False,
) -> EmbedResult:
    """One encode call for all chunk and sentence texts (batched by length); a text in `reusable` (the vectors
    of a modified document's old version) or seen earlier in this call is not embedded again."""
    reusable = reusable or {}
    chunk_texts = [c.text for p in prepared for c in p.chunks]
    sentence_texts = [t for p in prepared for t in p.sentence_texts()]
    to_embed = list(dict.fromkeys(t for t in chunk_texts + sentence_texts if t not in reusable))
    fresh = dict(zip(to_embed, embedder.encode(to_embed, progress=progress), strict=True)) if to_embed else {}

    def vector(text: str) -> np.ndarray:
        found = reusable.get(text)
        return found if found is not None else fresh[text]

    documents = []
    for p in prepared:
        vectors = np.array([vector(c.text) for c in p.chunks], dtype=np.float32).reshape(len(p.chunks), -1)
        sentences = [[vector(p.doc.text[a:b]) for a, b in spans] for spans in p.sentence_spans]
        documents.append(EmbeddedDocument(p, vectors, sentences))
    embedded = sum(t not in reusable for t in chunk_texts)
    return EmbedResult(documents, embedded, len(chunk_texts) - embedded)
