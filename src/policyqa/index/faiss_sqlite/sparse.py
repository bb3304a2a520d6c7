"""BM25 over the chunks of one generation (bm25s), rebuilt at every publish and stored without pickle.

IDF depends on the whole collection, so the sparse index is recomputed from all chunk texts whenever a
generation is written; that is tokenising and counting only, no model, and far cheaper than embedding.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from policyqa.ingest.terms import stemmer_in_use, tokenize

BM25_DIR = "bm25"
ROW_IDS = "chunk_ids.npy"


def write_bm25(texts: list[str], chunk_ids: np.ndarray, generation_dir: Path) -> None:
    import bm25s

    out = generation_dir / BM25_DIR
    out.mkdir()
    np.save(out / ROW_IDS, np.asarray(chunk_ids, dtype=np.int64), allow_pickle=False)
    retriever = bm25s.BM25()
    if texts:
        retriever.index(tokenize(texts), show_progress=False)
        retriever.save(str(out), allow_pickle=False, show_progress=False)
    (out / "meta.json").write_text(json.dumps({"stemmer": stemmer_in_use(), "rows": len(texts)}))


class SparseIndex:
    """Loaded BM25 scores (memory-mapped) and the chunk id of every row."""

    def __init__(self, generation_dir: Path):
        import bm25s

        folder = generation_dir / BM25_DIR
        self.chunk_ids = np.load(folder / ROW_IDS, allow_pickle=False)
        self.retriever = (
            bm25s.BM25.load(str(folder), mmap=True, allow_pickle=False, show_progress=False)
            if len(self.chunk_ids)
            else None
        )
        self._row_of = {int(c): i for i, c in enumerate(self.chunk_ids)}

    def scores(self, query: str, allowed_chunk_ids: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every row for the query; rows outside `allowed_chunk_ids` get -inf."""
        if self.retriever is None:
            return np.zeros(0, dtype=np.float32)
        vocab = self.retriever.vocab_dict
        tokens = [t for t in tokenize([query])[0] if t in vocab]
        scores = (
            np.asarray(self.retriever.get_scores(tokens), dtype=np.float32)
            if tokens
            else np.zeros(len(self.chunk_ids), dtype=np.float32)
        )
        if allowed_chunk_ids is not None:
            mask = np.full(len(scores), -np.inf, dtype=np.float32)
            rows = [self._row_of[int(c)] for c in allowed_chunk_ids if int(c) in self._row_of]
            mask[rows] = 0.0
            scores = scores + mask
        return scores

    def top(self, query: str, k: int, allowed_chunk_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        scores = self.scores(query, allowed_chunk_ids)
        if not len(scores):
            return []
        k = min(k, len(scores))
        rows = np.argpartition(-scores, k - 1)[:k]
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        return [(int(self.chunk_ids[r]), float(scores[r])) for r in rows if scores[r] > 0]

    def idf(self, words: list[str]) -> list[tuple[float, bool]]:
        """Each word's BM25 (Lucene) IDF in this index, stemmed as indexed, and whether any chunk contains it. A
        word no chunk contains gets the highest IDF there is; a stopword gets 0."""
        n = len(self.chunk_ids)
        highest = float(np.log1p((n + 0.5) / 0.5))
        if self.retriever is None:
            return [(highest, False) for _ in words]
        vocab, indptr = self.retriever.vocab_dict, self.retriever.scores["indptr"]
        out: list[tuple[float, bool]] = []
        for tokens in tokenize(words) if words else []:
            ids = [vocab.get(t) for t in tokens]
            df = min((int(indptr[i + 1] - indptr[i]) if i is not None else 0 for i in ids), default=-1)
            out.append((0.0, True) if df < 0 else (float(np.log1p((n - df + 0.5) / (df + 0.5))), df > 0))
        return out
