"""The sentence-transformers recipe around a transformer: tokenise, batch by length, mean-pool, L2-normalise.

Subclasses supply only the transformer's forward pass (numpy, OpenVINO), so every backend that goes without
sentence-transformers shares one tokenisation and pooling, the same as `SentenceTransformer.encode`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

RECIPE = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]


def mean_pooled_recipe(model_dir: Path) -> bool:
    """True when the model is transformer → mean pooling → L2 normalisation with a tokenizer.json: the recipe this
    class reproduces. Other models (CLS pooling, extra dense layers) must go through sentence-transformers."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        pooling = json.loads((model_dir / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
        types = [module.get("type") for module in modules]
    except (OSError, ValueError, LookupError, TypeError, AttributeError):
        return False
    modes = {key for key, value in pooling.items() if key.startswith("pooling_mode_") and value is True}
    return types == RECIPE and modes == {"pooling_mode_mean_tokens"} and (model_dir / "tokenizer.json").is_file()


class MeanPooledEncoder:
    """Base class: `encode(texts)` → (len(texts), dimension) float32 unit vectors."""

    def __init__(self, model_dir: Path, max_seq_length: int, dimension: int, pad_id: int = 0, batch_size: int = 32):
        from tokenizers import Tokenizer

        self.dimension = dimension
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_seq_length)
        self.tokenizer.enable_padding(pad_id=pad_id)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        # Longest first and batched by length, as sentence-transformers does, so padding stays small.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), self.dimension), np.float32)
        starts = range(0, len(order), self.batch_size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches")  # the same bar sentence-transformers shows
        for start in starts:
            batch = order[start : start + self.batch_size]
            out[batch] = self._encode_batch([texts[i] for i in batch])
        return out

    def encode_late(
        self, texts: list[str], spans: list[list[tuple[int, int]]], progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """`encode(texts)` and, from the same forward pass, a unit vector per character span of each text pooled from
        that text's token states (late chunking, policyqa.embed.late_chunking; NaN rows for spans with no token)."""
        from policyqa.embed.late_chunking import pool_spans

        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), self.dimension), np.float32)
        pooled: list[np.ndarray] = [np.zeros((0, self.dimension), np.float32)] * len(texts)
        starts = range(0, len(order), self.batch_size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches")
        for start in starts:
            batch = order[start : start + self.batch_size]
            encodings, hidden, vectors = self._forward([texts[i] for i in batch])
            out[batch] = vectors
            for row, i in enumerate(batch):
                pooled[i] = pool_spans(hidden[row], np.array(encodings[row].offsets, np.int64), spans[i])
        return out, pooled

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        return self._forward(texts)[2]

    def _forward(self, texts: list[str]) -> tuple[list, np.ndarray, np.ndarray]:
        """(tokenizer encodings, token states, unit mean-pooled vectors) of one batch."""
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        type_ids = np.array([e.type_ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = np.asarray(self.hidden_states(ids, type_ids, mask), dtype=np.float32)
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
        return encodings, hidden, pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def hidden_states(self, ids: np.ndarray, type_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(batch, length, hidden) last-layer token states."""
        raise NotImplementedError
