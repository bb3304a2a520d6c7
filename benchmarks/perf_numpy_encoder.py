"""Experiment: could a cold `policyqa search` meet 3 s without importing torch? A numpy-only MiniLM query encoder.

    .venv/bin/python benchmarks/perf_numpy_encoder.py ../shared/eval/policyqa/dev.json [--queries 300] [--cold-runs 5]

Importing torch + sentence-transformers alone takes longer than the 3 s cold-start target on this machine
(benchmarks/perf_query.py). A search embeds one short question; all-MiniLM-L6-v2 is a 6-layer BERT, whose forward
pass for one sequence is a few small matrix products. `NumpyMiniLM` below runs it with numpy alone, reading
model.safetensors (a JSON header + raw little-endian arrays) through a memory map and tokenising with the same
tokenizer.json (the `tokenizers` package, already used for chunking). Not used by the library; this measures:

* agreement with `SentenceTransformer.encode` on PolicyQA questions (max |difference|, minimum cosine) and whether
  the top-5 dense results on the PolicyQA index are the same;
* warm one-query encode latency, numpy vs torch, same process;
* a fresh process that imports numpy + faiss + tokenizers, loads the weights, opens the FAISS index, encodes the
  question and searches, against a fresh `policyqa search` (median of `--cold-runs`, interleaved).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SQRT_HALF = np.float32(np.sqrt(0.5))


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32 rounding of the activations)."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Arrays of a .safetensors file, memory-mapped (F32 / I64 only, enough for this model)."""
    with open(path, "rb") as f:
        header_len = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(header_len))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_len)
    dtypes = {"F32": np.float32, "I64": np.int64}
    return {
        name: data[info["data_offsets"][0] : info["data_offsets"][1]].view(dtypes[info["dtype"]]).reshape(info["shape"])
        for name, info in header.items()
        if name != "__metadata__"
    }


class NumpyMiniLM:
    """Mean-pooled, L2-normalised BERT sentence embedding (the sentence-transformers MiniLM recipe) in numpy."""

    def __init__(self, model_dir: Path):
        from tokenizers import Tokenizer

        config = json.loads((model_dir / "config.json").read_text())
        st_config = json.loads((model_dir / "sentence_bert_config.json").read_text())
        self.heads = config["num_attention_heads"]
        self.layers = config["num_hidden_layers"]
        self.eps = config["layer_norm_eps"]
        self.w = read_safetensors(model_dir / "model.safetensors")
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(st_config["max_seq_length"])
        self.tokenizer.no_padding()

    def encode_one(self, text: str) -> np.ndarray:
        w = self.w
        encoding = self.tokenizer.encode(text)
        ids = np.array(encoding.ids)
        n = len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][np.array(encoding.type_ids)]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        hidden = x.shape[1]
        size = hidden // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def dense(v: np.ndarray, name: str, p: str = p) -> np.ndarray:
                return v @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            q = dense(x, "attention.self.query").reshape(n, self.heads, size).transpose(1, 0, 2)
            k = dense(x, "attention.self.key").reshape(n, self.heads, size).transpose(1, 2, 0)
            v = dense(x, "attention.self.value").reshape(n, self.heads, size).transpose(1, 0, 2)
            scores = q @ k / np.float32(np.sqrt(size))
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, hidden)
            x = _layer_norm(
                dense(context, "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            h = dense(x, "intermediate.dense")
            h = h * 0.5 * (1.0 + _erf(h * SQRT_HALF))  # exact (erf) GELU, as BERT's "gelu"
            x = _layer_norm(
                dense(h, "output.dense") + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps
            )
        pooled = x.mean(0)  # one unpadded sequence: the mask is all ones
        return (pooled / np.linalg.norm(pooled)).astype(np.float32)


COLD_SCRIPT = """
import sys, time
started = time.perf_counter()
sys.path.insert(0, {bench!r})
import numpy as np, faiss
from perf_numpy_encoder import NumpyMiniLM
from pathlib import Path
encoder = NumpyMiniLM(Path({model!r}))
index = faiss.read_index({vectors!r})
scores, ids = index.search(encoder.encode_one({question!r}).reshape(1, -1), 5)
print(ids[0].tolist())
"""


def fresh(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dev_json", type=Path)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--cold-runs", type=int, default=5)
    args = parser.parse_args()
    print(f"command: `{shlex.join([sys.executable, *sys.argv])}`\n", flush=True)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from policyqa_data import write_policies

    from policyqa import build_index
    from policyqa.embedding import Embedder
    from policyqa.store import Generation

    embedder = Embedder()
    model = embedder.model
    encoder = NumpyMiniLM(embedder.model_dir)
    with tempfile.TemporaryDirectory() as tmp:
        corpus, index_dir = Path(tmp) / "corpus", Path(tmp) / "index"
        questions = list(dict.fromkeys(q.text for q in write_policies(args.dev_json, corpus)))[: args.queries]
        build_index(corpus, index_dir, progress=False, log=lambda _m: None)
        generation = Generation.open_current(index_dir)
        for q in questions[:10]:
            model.encode([q], normalize_embeddings=True)
            encoder.encode_one(q)
        torch_ms, numpy_ms, diffs, cosines, same_top5 = [], [], [], [], 0
        for q in questions:
            started = time.perf_counter()
            a = model.encode([q], normalize_embeddings=True, convert_to_numpy=True)[0]
            torch_ms.append(1000 * (time.perf_counter() - started))
            started = time.perf_counter()
            b = encoder.encode_one(q)
            numpy_ms.append(1000 * (time.perf_counter() - started))
            diffs.append(float(np.abs(a - b).max()))
            cosines.append(float(a @ b))
            top_a = generation.vectors.search(a.reshape(1, -1), 5)[1][0].tolist()
            top_b = generation.vectors.search(b.reshape(1, -1), 5)[1][0].tolist()
            same_top5 += top_a == top_b
        vectors = str(generation.path / "vectors.faiss")
        script = COLD_SCRIPT.format(
            bench=str(Path(__file__).resolve().parent),
            model=str(embedder.model_dir),
            vectors=vectors,
            question=questions[0],
        )
        cli = str(Path(sys.executable).parent / "policyqa")
        env_cmds = {
            "numpy encoder + faiss search (fresh process)": [sys.executable, "-c", script],
            "policyqa search (fresh process)": [cli, "search", questions[0], "--index", str(index_dir)],
        }
        cold: dict[str, list[float]] = {name: [] for name in env_cmds}
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        for _ in range(args.cold_runs):
            for name, command in env_cmds.items():
                cold[name].append(fresh(command))
        generation.close()
    print(f"{len(questions)} PolicyQA questions\n")
    print("| one-query encode | p50 ms | p95 ms |")
    print("|---|---|---|")
    for name, values in [("sentence-transformers (torch)", torch_ms), ("numpy MiniLM", numpy_ms)]:
        print(f"| {name} | {np.percentile(values, 50):.1f} | {np.percentile(values, 95):.1f} |")
    print(
        f"\nAgreement with SentenceTransformer.encode: max |difference| {max(diffs):.2e}, minimum cosine "
        f"{min(cosines):.6f}; identical dense top-5 for {same_top5}/{len(questions)} questions.\n"
    )
    print(f"| fresh process ({args.cold_runs} runs, interleaved) | median s | min s | max s |")
    print("|---|---|---|---|")
    for name, values in cold.items():
        print(f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |")


if __name__ == "__main__":
    main()
