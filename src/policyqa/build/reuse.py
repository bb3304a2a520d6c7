"""What an edited document's old version lends its new one: the vectors of unchanged chunks and sentences."""

from __future__ import annotations

import numpy as np

from policyqa.embed.documents import Reuse
from policyqa.embed.late_chunking import SentenceVectors, home_chunks
from policyqa.index.store import IndexReader


def reuse_from(base: IndexReader, doc_ids: set[str], mode: SentenceVectors) -> Reuse:
    """Chunk vectors by text; sentence vectors by text ("separate") or by home chunk text and span ("late")."""
    chunks: dict[str, np.ndarray] = {}
    by_text: dict[str, np.ndarray] = {}
    pooled: dict[tuple[str, int, int], np.ndarray] = {}
    for doc_id in doc_ids:
        text = base.document_text(doc_id) or ""
        records = list(base.iter_chunks(doc_id))
        for record, vector in zip(records, base.chunk_vectors(r.id for r in records), strict=True):
            chunks[record.text] = vector
        rows: dict[int, list[tuple[int, int]]] = {r.id: [] for r in records}
        vectors: dict[tuple[int, int], np.ndarray] = {}
        for sentence in base.sentences(rows):
            rows[sentence.chunk_id].append((sentence.start, sentence.end))
            vectors[sentence.start, sentence.end] = sentence.vector
            by_text.setdefault(text[sentence.start : sentence.end], sentence.vector)
        if mode == "late":
            spans = [(r.start, r.end) for r in records]
            for (a, b), i in home_chunks(spans, [rows[r.id] for r in records]).items():
                pooled[records[i].text, a - records[i].start, b - records[i].start] = vectors[a, b]
    return Reuse(chunks, by_text if mode == "separate" else {}, pooled)
