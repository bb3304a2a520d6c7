"""A numpy-only forward pass for mean-pooled, normalised BERT sentence models (all-MiniLM-L6-v2 and its kin).

Why: importing torch + sentence-transformers takes 4–11 s on this kind of machine, longer than the whole cold-start
budget of a `policyqa search`. A query is one short text through a 6-layer BERT: a few small matrix products that
numpy does as fast as torch. The weights are read from model.safetensors (a JSON header + raw little-endian arrays)
through a memory map, tokens come from the model's own tokenizer.json. The output matches
`SentenceTransformer.encode(..., normalize_embeddings=True)` to float32 rounding (tests/test_numpy_bert.py compares
it with the real model), so indexes built with torch are searched with it unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from policyqa.embed.pooled import MeanPooledEncoder, mean_pooled_recipe

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
_SQRT_HALF = np.float32(np.sqrt(0.5))


def supports(model_dir: Path) -> bool:
    """True for the recipe this module implements: BERT (absolute positions, erf GELU) → mean pooling → L2 norm."""
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        mean_pooled_recipe(model_dir)
        and config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and (model_dir / "model.safetensors").is_file()
    )


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a .safetensors file, memory-mapped, as float32 (a "bert." name prefix is dropped)."""
    with open(path, "rb") as f:
        header_len = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(header_len))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_len)
    arrays = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = data[start:end].view(_DTYPES[info["dtype"]]).reshape(info["shape"])
        arrays[name.removeprefix("bert.")] = array if array.dtype != np.float16 else array.astype(np.float32)
    return arrays


def erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, below the float32 rounding of the activations. In place on
    temporaries: the GELU of a (batch, length, 1536) activation is the largest elementwise cost of the model."""
    a = np.abs(x)
    t = a * np.float32(0.3275911)
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * np.float32(1.061405429)
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += np.float32(c)
        poly *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a
    np.subtract(np.float32(1.0), poly, out=poly)
    return np.copysign(poly, x, out=poly)


def gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact (erf) GELU."""
    out = erf(x * _SQRT_HALF)
    out += 1.0
    out *= x
    out *= np.float32(0.5)
    return out


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def softmax_(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in place."""
    x -= x.max(-1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(-1, keepdims=True)
    return x


class NumpyBertEncoder(MeanPooledEncoder):
    """Sentence embeddings with numpy alone (plus the `tokenizers` package)."""

    def __init__(self, model_dir: Path, max_seq_length: int, batch_size: int = 32):
        config: dict[str, Any] = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.weights = read_safetensors(model_dir / "model.safetensors")
        dimension = self.weights["embeddings.word_embeddings.weight"].shape[1]
        super().__init__(model_dir, max_seq_length, dimension, int(config.get("pad_token_id", 0)), batch_size)

    def hidden_states(self, ids: np.ndarray, type_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.weights
        batch, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][type_ids]
        )
        x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        hidden = x.shape[-1]
        size = hidden // self.heads
        # Padding keys get the most negative float added, as transformers does, so they weigh nothing.
        key_bias = ((1.0 - mask.astype(np.float32)) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(size))
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."

            def dense(v: np.ndarray, name: str, p: str = p) -> np.ndarray:
                # One (batch·length, in) × (in, out) product: numpy sends 2-D products to BLAS in one call.
                flat = v.reshape(-1, v.shape[-1]) @ w[p + name + ".weight"].T + w[p + name + ".bias"]
                return flat.reshape(*v.shape[:-1], -1)

            def heads(v: np.ndarray) -> np.ndarray:
                return v.reshape(batch, length, self.heads, size).transpose(0, 2, 1, 3)

            q = heads(dense(x, "attention.self.query"))
            k = heads(dense(x, "attention.self.key"))
            v = heads(dense(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2)
            scores *= scale
            scores += key_bias
            attention = softmax_(scores)
            context = (attention @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
            x = layer_norm(
                dense(context, "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            x = layer_norm(
                dense(gelu(dense(x, "intermediate.dense")), "output.dense") + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self.eps,
            )
        return x
