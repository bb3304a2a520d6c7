"""Embedding backends on this CPU: throughput, agreement with torch, PolicyQA dense retrieval, build time; one run.

    .venv/bin/python benchmarks/perf_backends.py ../shared/eval/policyqa/dev.json [--repeats 2]

Texts: exactly the chunks a default build of the 20 PolicyQA dev policies embeds. Backends:

* torch — sentence-transformers (`--backend torch`);
* numpy — policyqa.embed.numpy_bert, what a process without torch uses for queries on a torch index;
* openvino f32 / openvino bf16 — the transformer exported to OpenVINO IR (the default backend, `--backend openvino`),
  computed with INFERENCE_PRECISION_HINT f32 and, where the CPU runs it natively, bf16 (`--precision`);
* onnx fp32 / onnx int8 — exported here with torch.onnx, int8 by onnxruntime's dynamic quantisation; run with
  onnxruntime (extra [bench]). Not offered by the library; measured to decide whether to offer them. onnxruntime
  picks its kernels by CPU too (int8 uses VNNI where present), so its rows hold for the CPU printed at the top only.

All backends share tokenisation, length-sorted batches of 32 and mean pooling (policyqa.embed.pooled), except
torch, which is sentence-transformers itself. Throughput: median of `--repeats` passes over all chunks, backends
interleaved. Agreement: max |difference| and minimum cosine against torch over the chunks. Retrieval: each
question searched within its policy by exact inner product over that backend's vectors (what `--mode dense` does),
hit rules from chunk_size.py. Mixed precision: chunk vectors of one openvino precision searched with query vectors
of the other (what an index built on a bf16 CPU and queried on an AVX2 one does). Builds: `build_index` of the
corpus into an empty folder per library backend, with the ratio to that backend's own encode time of the same
chunks (the floor of issue 6) and to torch's build.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chunk_size import first_hit_rank  # noqa: E402
from policyqa_data import Question, write_policies  # noqa: E402

from policyqa import build_index  # noqa: E402
from policyqa.embed.embedder import Embedder  # noqa: E402
from policyqa.embed.numpy_bert import NumpyBertEncoder  # noqa: E402
from policyqa.embed.pooled import MeanPooledEncoder  # noqa: E402
from policyqa.ingest.chunking import Chunker, ChunkSettings  # noqa: E402
from policyqa.ingest.documents import read_document, scan_corpus  # noqa: E402

K = 10
Encode = Callable[[list[str]], np.ndarray]


class OnnxEncoder(MeanPooledEncoder):
    def __init__(self, model_dir: Path, path: Path, max_seq_length: int, dimension: int):
        import onnxruntime

        super().__init__(model_dir, max_seq_length, dimension)
        self.session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def hidden_states(self, ids: np.ndarray, type_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": type_ids}
        return self.session.run(None, feed)[0]


def export_onnx(embedder: Embedder, folder: Path) -> tuple[Path, Path]:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class Transformer(torch.nn.Module):
        def __init__(self, module: Any):
            super().__init__()
            self.module = module

        def forward(self, ids: Any, mask: Any, type_ids: Any) -> Any:
            return self.module(input_ids=ids, attention_mask=mask, token_type_ids=type_ids).last_hidden_state

    fp32, int8 = folder / "model.onnx", folder / "model_int8.onnx"
    example = torch.ones(2, 8, dtype=torch.long)
    axes = {"0": "batch", "1": "length"}
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Transformer(embedder.model[0].auto_model).eval(),
            (example, example, example * 0),
            str(fp32),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={name: {0: axes["0"], 1: axes["1"]} for name in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    return fp32, int8


def encoders(embedder: Embedder, folder: Path) -> dict[str, Encode]:
    model = embedder.model
    found: dict[str, Encode] = {
        "torch": lambda texts: model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True),
        "numpy": NumpyBertEncoder(embedder.model_dir, embedder.max_seq_length).encode,
    }
    from policyqa.embed import openvino_backend as openvino_encoder

    for precision in ("f32", "bf16"):
        if precision == "bf16" and not openvino_encoder.native_bf16():
            print("openvino bf16 skipped: this CPU has no native bf16", file=sys.stderr)
            continue
        try:
            found[f"openvino {precision}"] = Embedder(backend="openvino", precision=precision).encode
        except Exception as exc:  # noqa: BLE001 - report and go on with the rest
            print(f"openvino {precision} skipped: {exc}", file=sys.stderr)
    try:
        fp32, int8 = export_onnx(embedder, folder)
        dimension = embedder.identity["dimension"]
        found["onnx fp32"] = OnnxEncoder(embedder.model_dir, fp32, embedder.max_seq_length, dimension).encode
        found["onnx int8"] = OnnxEncoder(embedder.model_dir, int8, embedder.max_seq_length, dimension).encode
    except ImportError as exc:
        print(f"onnx skipped ({exc}); pip install -e '.[bench]'", file=sys.stderr)
    return found


def dense_quality(
    chunk_vectors: np.ndarray, chunk_spans: list[tuple[str, int, int]], questions: list[Question], q_vectors: np.ndarray
) -> dict[str, float]:
    by_doc: dict[str, list[int]] = {}
    for i, (doc_id, _, _) in enumerate(chunk_spans):
        by_doc.setdefault(doc_id, []).append(i)
    ranks = []
    for question, vector in zip(questions, q_vectors, strict=True):
        rows = np.array(by_doc[question.doc_id])
        top = rows[np.argsort(-(chunk_vectors[rows] @ vector), kind="stable")[:K]]
        hits = [_Span(chunk_spans[i][1], chunk_spans[i][2]) for i in top]
        ranks.append(first_hit_rank(hits, question))
    n = len(questions)
    return {
        **{f"hit@{k}": sum(r is not None and r <= k for r in ranks) / n for k in (1, 5, 10)},
        "mrr@10": sum(1 / r for r in ranks if r) / n,
    }


class _Span:
    def __init__(self, start: int, end: int):
        self.start, self.end = start, end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dev_json", type=Path)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(f"command: `{shlex.join([sys.executable, *sys.argv])}`\n", flush=True)
    print(cpu_description() + "\n", flush=True)
    embedder = Embedder()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        questions = write_policies(args.dev_json, corpus)
        chunker = Chunker(embedder.token_counter, embedder.window_tokens, ChunkSettings())
        files, _ = scan_corpus(corpus)
        chunks = [c for f in files for c in chunker.split(read_document(f))]
        texts = [c.text for c in chunks]
        spans = [(c.doc_id, c.start, c.end) for c in chunks]
        question_texts = list(dict.fromkeys(q.text for q in questions))
        runs = encoders(embedder, Path(tmp))
        for encode in runs.values():  # warm-up: first calls allocate, compile, fault weights in
            encode(texts[:32])
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        vectors: dict[str, np.ndarray] = {}
        for _ in range(args.repeats):
            for name, encode in runs.items():
                started = time.perf_counter()
                vectors[name] = np.asarray(encode(texts), dtype=np.float32)
                seconds[name].append(time.perf_counter() - started)
        query_ms: dict[str, float] = {}
        quality: dict[str, dict[str, float]] = {}
        q_vectors_of: dict[str, np.ndarray] = {}
        for name, encode in runs.items():
            per_query = []
            for text in question_texts[:100]:
                started = time.perf_counter()
                encode([text])
                per_query.append(time.perf_counter() - started)
            query_ms[name] = 1000 * statistics.median(per_query)
            q_by_text = dict(zip(question_texts, encode(question_texts), strict=True))
            q_vectors = np.stack([q_by_text[q.text] for q in questions])
            quality[name] = dense_quality(vectors[name], spans, questions, q_vectors)
            q_vectors_of[name] = q_vectors
            print(f"  {name}: done", file=sys.stderr, flush=True)
        mixed: dict[str, dict[str, float]] = {}
        if "openvino f32" in runs and "openvino bf16" in runs:
            for built, asked in (("bf16", "f32"), ("f32", "bf16")):
                chunk_vectors, query_vectors = vectors[f"openvino {built}"], q_vectors_of[f"openvino {asked}"]
                mixed[f"{built} index, {asked} queries"] = dense_quality(chunk_vectors, spans, questions, query_vectors)
        builds: dict[str, float] = {}
        for name in ("torch", "openvino f32", "openvino bf16"):
            if name not in runs:
                continue
            backend, _, precision = name.partition(" ")
            started = time.perf_counter()
            build_index(
                corpus,
                Path(tmp) / f"index-{backend}-{precision}",
                backend=backend,  # type: ignore[arg-type]
                precision=precision or None,  # type: ignore[arg-type]
                progress=False,
                log=lambda _m: None,
            )
            builds[name] = time.perf_counter() - started

    torch_s = statistics.median(seconds["torch"])
    print(f"{len(texts)} chunks (PolicyQA dev, default build), {len(questions)} (policy, question) pairs\n")
    print("| backend | encode s | chunks/s | speed vs torch | max abs diff vs torch | min cosine | one query ms |")
    print("|---|---|---|---|---|---|---|")
    for name in runs:
        s = statistics.median(seconds[name])
        diff = float(np.abs(vectors[name] - vectors["torch"]).max())
        cosine = float((vectors[name] * vectors["torch"]).sum(1).min())
        print(
            f"| {name} | {s:.2f} | {len(texts) / s:.1f} | {torch_s / s:.2f}x | {diff:.1e} | {cosine:.5f} | "
            f"{query_ms[name]:.1f} |"
        )
    print("\n| backend | dense hit@1 | hit@5 | hit@10 | MRR@10 |")
    print("|---|---|---|---|---|")
    for name in runs:
        m = quality[name]
        print(f"| {name} | {m['hit@1']:.3f} | {m['hit@5']:.3f} | {m['hit@10']:.3f} | {m['mrr@10']:.3f} |")
    for name, m in mixed.items():
        print(f"| {name} | {m['hit@1']:.3f} | {m['hit@5']:.3f} | {m['hit@10']:.3f} | {m['mrr@10']:.3f} |")
    print("\n| library backend | full build s | build / own encode | build / torch build |")
    print("|---|---|---|---|")
    for name, s in builds.items():
        print(f"| {name} | {s:.2f} | {s / statistics.median(seconds[name]):.2f}x | {s / builds['torch']:.2f}x |")


def cpu_description() -> str:
    """The CPU's model name and flags (`lscpu`): libraries pick kernels and precision by them."""
    import subprocess

    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout.splitlines()
    except OSError:
        return "CPU: unknown (no lscpu)"
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    return f"CPU: {fields.get('Model name', '?').strip()}\nflags: {fields.get('Flags', '?').strip()}"


if __name__ == "__main__":
    main()
