"""Prepared documents → the vectors a store holds: one per chunk (for search) and one per sentence row (for `ask`).

Sentence vectors are made "late" (pooled from each chunk's token states in the chunk's own forward pass,
policyqa.embed.late_chunking; the default) or "separate" (each sentence embedded on its own). Both reuse the
vectors of an edited document's unchanged text (`Reuse`) and count the chunks they embedded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from policyqa.embed.embedder import Embedder
from policyqa.embed.late_chunking import SentenceVectors, home_chunks
from policyqa.ingest.prepare import PreparedDocument

PooledKey = tuple[str, int, int]  # (home chunk text, sentence span relative to that chunk)
SentenceLookup = Callable[[PreparedDocument, int, int], np.ndarray]  # (document, start, end) → vector


@dataclass(frozen=True)
class Reuse:
    """Vectors of the old version of edited documents, so that unchanged text is not embedded again."""

    chunks: dict[str, np.ndarray] = field(default_factory=dict)  # by chunk text
    sentences: dict[str, np.ndarray] = field(default_factory=dict)  # by sentence text ("separate")
    pooled: dict[PooledKey, np.ndarray] = field(default_factory=dict)  # late-chunked sentences


@dataclass(frozen=True)
class EmbeddedDocument:
    prepared: PreparedDocument
    chunk_vectors: np.ndarray  # (chunks, dimension) float32 unit vectors
    sentence_vectors: list[list[np.ndarray]]  # per chunk, per sentence span of prepared.sentence_spans

    def sentence_rows(self) -> list[list[tuple[int, int, np.ndarray]]]:
        """Per chunk: (start, end, vector) of its sentences, as an index writer takes them."""
        spans = self.prepared.sentence_spans
        return [
            [(a, b, v) for (a, b), v in zip(ss, vs, strict=True)]
            for ss, vs in zip(spans, self.sentence_vectors, strict=True)
        ]


@dataclass(frozen=True)
class EmbedResult:
    documents: list[EmbeddedDocument]
    chunks_embedded: int  # chunks whose text was not reusable (repeats inside a new file included)
    chunks_reused: int


def embed_documents(
    prepared: list[PreparedDocument],
    embedder: Embedder,
    mode: SentenceVectors = "late",
    reuse: Reuse | None = None,
    show: Callable[[int], bool] = lambda _count: False,
) -> EmbedResult:
    """Chunk and sentence vectors of `prepared`; `show(n)`: whether to show a progress bar for n texts."""
    reuse = reuse or Reuse()
    embed = _late if mode == "late" else _separate
    chunk_vectors, sentence_vector = embed(prepared, embedder, reuse, show)
    documents = []
    for p in prepared:
        vectors = np.array([chunk_vectors[c.text] for c in p.chunks], dtype=np.float32).reshape(len(p.chunks), -1)
        sentences = [[sentence_vector(p, a, b) for a, b in spans] for spans in p.sentence_spans]
        documents.append(EmbeddedDocument(p, vectors, sentences))
    texts = [c.text for p in prepared for c in p.chunks]
    reused = sum(t in reuse.chunks for t in texts)
    return EmbedResult(documents, len(texts) - reused, reused)


def _separate(
    prepared: list[PreparedDocument], embedder: Embedder, reuse: Reuse, show: Callable[[int], bool]
) -> tuple[dict[str, np.ndarray], SentenceLookup]:
    """Every sentence embedded on its own, in one encode with the chunks (batched by length); a text seen before
    is not embedded again."""
    known = reuse.sentences | reuse.chunks
    chunk_texts = [c.text for p in prepared for c in p.chunks]
    sentence_texts = [t for p in prepared for t in p.sentence_texts()]
    to_embed = list(dict.fromkeys(t for t in chunk_texts + sentence_texts if t not in known))
    encoded: list[np.ndarray] | np.ndarray = embedder.encode(to_embed, progress=show(len(to_embed))) if to_embed else []
    known = known | dict(zip(to_embed, encoded, strict=True))
    return {t: known[t] for t in chunk_texts}, lambda p, a, b: known[p.doc.text[a:b]]


def _late(
    prepared: list[PreparedDocument], embedder: Embedder, reuse: Reuse, show: Callable[[int], bool]
) -> tuple[dict[str, np.ndarray], SentenceLookup]:
    """Each chunk encoded once and its sentences' vectors pooled from its token states. A chunk whose text was
    indexed before is encoded again only when it is the home of a sentence whose vector cannot be reused."""
    wanted: dict[str, set[tuple[int, int]]] = {}  # chunk text → spans (relative to it) to pool
    homes: dict[tuple[str, int, int], PooledKey] = {}  # (doc id, start, end) → its home key
    for p in prepared:
        for (a, b), i in home_chunks([(c.start, c.end) for c in p.chunks], p.sentence_spans).items():
            chunk = p.chunks[i]
            key = (chunk.text, a - chunk.start, b - chunk.start)
            homes[p.doc.id, a, b] = key
            if key not in reuse.pooled:
                wanted.setdefault(chunk.text, set()).add(key[1:])
        for chunk in p.chunks:
            if chunk.text not in reuse.chunks:
                wanted.setdefault(chunk.text, set())
    texts = list(wanted)
    spans = [sorted(wanted[t]) for t in texts]
    vectors: np.ndarray | list[np.ndarray] = []
    pooled: list[np.ndarray] = []
    if texts:
        vectors, pooled = embedder.encode_late(texts, spans, progress=show(len(texts)))
    chunk_vectors = reuse.chunks | dict(zip(texts, vectors, strict=True))
    fresh = {
        (t, a, b): v for t, ss, vs in zip(texts, spans, pooled, strict=True) for (a, b), v in zip(ss, vs, strict=True)
    }
    # A span that holds no token (cannot happen for a sentence with a word in its chunk) is embedded on its own.
    empty = [key for key, v in fresh.items() if not np.isfinite(v).all()]
    for key, v in zip(empty, embedder.encode([t[a:b] for t, a, b in empty]) if empty else [], strict=True):
        fresh[key] = v
    known = reuse.pooled | fresh
    return chunk_vectors, lambda p, a, b: known[homes[p.doc.id, a, b]]
