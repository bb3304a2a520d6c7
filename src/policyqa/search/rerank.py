"""Optional second stage: re-score the top candidates with all-mpnet-base-v2, a stronger bi-encoder (located and
unpacked by policyqa.embed.mpnet)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from policyqa.embed.mpnet import INSTALL_HINT, MODEL_NAME, available, model_dir, part_files
from policyqa.search.retrieval import Hit

CANDIDATES = 20  # how many first-stage results are re-scored
__all__ = ["CANDIDATES", "INSTALL_HINT", "MODEL_NAME", "Reranker", "available", "model_dir", "part_files"]


class Reranker:
    """Re-scores passages with all-mpnet-base-v2 (cosine of normalised embeddings) and re-sorts them."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        from policyqa.embed.embedder import load_model

        self.model = load_model(model_dir(cache_dir))

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, batch_size=16, normalize_embeddings=True, convert_to_numpy=True)

    def rescore(self, query: str, hits: list[Hit]) -> list[Hit]:
        if not hits:
            return hits
        vectors = self.encode([query, *(h.text for h in hits)])
        scores = vectors[1:] @ vectors[0]
        order = np.argsort(-scores, kind="stable")
        return [replace(hits[i], score=float(scores[i]), rank=rank) for rank, i in enumerate(order, 1)]
