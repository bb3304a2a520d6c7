"""Exact flat vs IVF at 10k-1M synthetic 384-d vectors: single-query latency, index size, recall@10; threshold.

    .venv/bin/python benchmarks/perf_scale.py ../shared/eval/policyqa/dev.json [--sizes 10000,30000,...]

Default sizes: 10k, 30k, 100k, 300k, 1M (3-7 minutes on 2 cores with load; 1M alone takes 2-5 minutes, mostly training
and filling the IVF; the process peaks at about 10 GiB of memory).

Synthetic data shaped like real sentence embeddings: the bundled model embeds the PolicyQA dev chunks and
questions; chunk vectors are drawn from a Gaussian with the chunks' mean and covariance, query vectors from one
with the questions' mean and covariance, all L2-normalised. (Isotropic random vectors would be the wrong test:
in 384 dimensions all their neighbours are almost equally far, no ANN index reaches 0.95 recall on them without
scanning most of the data, and real embeddings are nothing like them; `--uniform` runs that case anyway.)

Per size: the flat index (IndexIDMap2(IndexFlatIP), what generations use below the threshold) and the IVF that
policyqa.index.faiss_sqlite.vector_index builds above it (nlist rule, training, nprobe calibrated on stored vectors),
each timed on
single queries (p50), interleaved per query with one encode of a PolicyQA question so that the flat / IVF /
encode latencies see the same load from other processes; recall@10 of the IVF against exact search
on fresh query vectors, at the calibrated nprobe and at each nprobe of a sweep; index size = serialised bytes
(what vectors.faiss takes on disk and, within a few bytes, in memory).
"""

from __future__ import annotations

import argparse
import gc
import resource
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policyqa_data import write_policies  # noqa: E402

from policyqa.embed.embedder import Embedder  # noqa: E402
from policyqa.index.faiss_sqlite.vector_index import (  # noqa: E402
    TARGET_RECALL,
    build_vector_index,
    describe,
    exact_top,
    make_vector_index,
    recall_at,
)
from policyqa.ingest.chunking import Chunker, ChunkSettings  # noqa: E402
from policyqa.ingest.documents import read_document, scan_corpus  # noqa: E402

DIM = 384
K = 10
BLOCK = 100_000


@dataclass(frozen=True)
class Shape:
    """A Gaussian (mean, eigen-decomposed covariance) to draw normalised vectors from."""

    mean: np.ndarray
    basis: np.ndarray  # columns: eigenvectors
    scale: np.ndarray  # sqrt of eigenvalues

    @classmethod
    def fit(cls, vectors: np.ndarray) -> Shape:
        values, basis = np.linalg.eigh(np.cov(vectors.T.astype(np.float64)))
        floor = max(float(values.max()) * 1e-4, 1e-8)  # fewer samples than dimensions: keep every direction alive
        return cls(
            vectors.mean(0).astype(np.float32),
            basis.astype(np.float32),
            np.sqrt(np.clip(values, floor, None)).astype(np.float32),
        )

    @classmethod
    def isotropic(cls) -> Shape:
        return cls(np.zeros(DIM, np.float32), np.eye(DIM, dtype=np.float32), np.ones(DIM, np.float32))

    def draw(self, count: int, rng: np.random.Generator) -> np.ndarray:
        out = np.empty((count, DIM), dtype=np.float32)
        for start in range(0, count, BLOCK):
            n = min(BLOCK, count - start)
            z = rng.standard_normal((n, DIM), dtype=np.float32) * self.scale
            block = self.mean + z @ self.basis.T
            out[start : start + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
        return out


def real_shapes(dev_json: Path, embedder: Embedder, questions_used: int = 1000) -> tuple[Shape, Shape, list[str]]:
    """Shapes of the PolicyQA dev chunk and question embeddings, and the question texts."""
    with tempfile.TemporaryDirectory() as tmp:
        questions = write_policies(dev_json, Path(tmp))
        files, _ = scan_corpus(Path(tmp))
        chunker = Chunker(embedder.token_counter, embedder.window_tokens, ChunkSettings())
        texts = [c.text for f in files for c in chunker.split(read_document(f))]
    chunks = embedder.encode(texts)
    texts_q = [q.text for q in questions[:questions_used]]
    asked = embedder.encode(texts_q)
    return Shape.fit(chunks), Shape.fit(asked), texts_q


def interleaved_p50_ms(
    indexes: dict[str, object], queries: np.ndarray, encode: Callable[[str], object], texts: list[str]
) -> dict[str, float]:
    """Per query: one encode of a question text, then one search per index, so all see the same load."""
    seconds: dict[str, list[float]] = {"encode": [], **{name: [] for name in indexes}}
    for i in range(len(queries)):
        started = time.perf_counter()
        encode(texts[i % len(texts)])
        seconds["encode"].append(time.perf_counter() - started)
        for name, index in indexes.items():
            started = time.perf_counter()
            index.search(queries[i : i + 1], K)  # type: ignore[attr-defined]
            seconds[name].append(time.perf_counter() - started)
    return {name: 1000 * statistics.median(values) for name, values in seconds.items()}


def size_mb(index: object) -> float:
    import faiss

    return faiss.serialize_index(index).nbytes / 2**20


def run_size(
    count: int,
    corpus: Shape,
    asking: Shape,
    queries: int,
    latency_queries: int,
    seed: int,
    encode: Callable[[str], object],
    texts: list[str],
) -> dict:
    import faiss

    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    vectors = corpus.draw(count, rng)
    ids = np.arange(1, count + 1, dtype=np.int64)
    q = asking.draw(queries, rng)
    exact = exact_top(q, vectors, ids, K)
    top1 = float(np.mean([float(q[i] @ vectors[exact[i, 0] - 1]) for i in range(len(q))]))
    prep = time.perf_counter() - started

    flat = make_vector_index(DIM, 0)
    flat.add_with_ids(vectors, ids)
    assert describe(flat)["type"] == "flat"
    _, found = flat.search(q, K)
    flat_recall = recall_at(found, exact)

    started = time.perf_counter()
    ivf, info = build_vector_index(ids, vectors, DIM, threshold=0)
    build_s = time.perf_counter() - started
    record = {**describe(ivf), **info}
    _, found = ivf.search(q, K)
    ivf_recall = recall_at(found, exact)
    sweep = []
    nprobe = 1
    while nprobe <= record["nlist"]:
        _, found = ivf.search(q, K, params=faiss.SearchParametersIVF(nprobe=nprobe))
        sweep.append((nprobe, recall_at(found, exact)))
        if sweep[-1][1] >= 0.99:
            break
        nprobe *= 2
    needed = next((n for n, r in sweep if r >= TARGET_RECALL), record["nlist"])
    needed_ivf = faiss.clone_index(ivf)
    needed_ivf.nprobe = needed
    latency = interleaved_p50_ms({"flat": flat, "ivf": ivf, "needed": needed_ivf}, q[:latency_queries], encode, texts)
    flat_mb, ivf_mb = size_mb(flat), size_mb(ivf)
    del flat, ivf, needed_ivf, vectors
    gc.collect()
    return {
        "count": count,
        "prep_s": prep,
        "query_top1_cos": top1,
        "encode_ms": latency["encode"],
        "flat_ms": latency["flat"],
        "flat_mb": flat_mb,
        "flat_recall": flat_recall,
        "ivf": record,
        "ivf_build_s": build_s,
        "ivf_ms": latency["ivf"],
        "ivf_mb": ivf_mb,
        "ivf_recall": ivf_recall,
        "needed_nprobe": needed,
        "needed_ms": latency["needed"],
        "sweep": sweep,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dev_json", type=Path, help="PolicyQA dev.json (its embeddings shape the synthetic data)")
    parser.add_argument("--sizes", default="10000,30000,100000,300000,1000000", help="comma-separated vector counts")
    parser.add_argument("--queries", type=int, default=200, help="fresh query vectors for recall (default 200)")
    parser.add_argument("--latency-queries", type=int, default=100, help="single queries timed (default 100)")
    parser.add_argument("--uniform", action="store_true", help="isotropic random vectors instead (worst case)")
    args = parser.parse_args()
    print(f"command: `{shlex.join([sys.executable, *sys.argv])}`\n", flush=True)
    import faiss

    embedder = Embedder()
    corpus, asking, texts = real_shapes(args.dev_json, embedder)
    if args.uniform:
        corpus = asking = Shape.isotropic()
    print(f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads")
    rows = []
    for count in [int(s) for s in args.sizes.split(",")]:
        started = time.perf_counter()
        row = run_size(
            count, corpus, asking, args.queries, args.latency_queries, count, lambda t: embedder.encode([t]), texts
        )
        rows.append(row)
        sweep = ", ".join(f"{n}: {r:.3f}" for n, r in row["sweep"])
        print(
            f"  {count:,}: {time.perf_counter() - started:.0f} s (data + exact {row['prep_s']:.0f} s, IVF build "
            f"{row['ivf_build_s']:.0f} s); mean query top-1 cosine {row['query_top1_cos']:.2f}; "
            f"recall@10 by nprobe: {sweep}",
            file=sys.stderr,
            flush=True,
        )
    print()
    print(
        "| vectors | flat p50 ms | flat MiB | IVF nlist | nprobe (calibrated) | IVF p50 ms | IVF MiB | "
        "IVF recall@10 | IVF build s | flat/IVF latency | smallest nprobe ≥ 0.95 (p50 ms) | flat p50 / encode p50 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ivf = r["ivf"]
        print(
            f"| {r['count']:,} | {r['flat_ms']:.2f} | {r['flat_mb']:.0f} | {ivf['nlist']} | {ivf['nprobe']} "
            f"(self-recall {ivf['calibrated_recall_at_10']:.3f}) | {r['ivf_ms']:.2f} | {r['ivf_mb']:.0f} | "
            f"{r['ivf_recall']:.3f} | {r['ivf_build_s']:.1f} | {r['flat_ms'] / r['ivf_ms']:.1f}x | "
            f"{r['needed_nprobe']} ({r['needed_ms']:.2f}) | {r['flat_ms'] / r['encode_ms']:.2f} |"
        )
    print(f"\nFlat recall@10 is exact by construction (measured: {min(r['flat_recall'] for r in rows):.3f}).")
    print(
        "One-query encode p50 (ms), timed between the searches: "
        + ", ".join(f"{r['count']:,}: {r['encode_ms']:.1f}" for r in rows)
        + "."
    )
    # Rule: exact search until it costs as much as encoding the query (which every search pays) and the IVF, at
    # recall >= 0.95, is at least twice as fast; the threshold is the first measured size where both hold.
    suited = [
        r["count"]
        for r in rows
        if r["flat_ms"] >= r["encode_ms"] and r["ivf_recall"] >= TARGET_RECALL and r["flat_ms"] >= 2 * r["ivf_ms"]
    ]
    print(f"Sizes where the rule picks IVF: {', '.join(f'{c:,}' for c in suited) or 'none'}.")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    print(f"Peak memory of this process: {peak:.1f} GiB (model, the vectors, flat + IVF + a second IVF side by side).")


if __name__ == "__main__":
    main()
