"""The folder store (FAISS + SQLite) against the Milvus store (milvus-lite) in one run.

    .venv/bin/python benchmarks/store_compare.py ../shared/eval/policyqa/dev.json            # PolicyQA dev
    .venv/bin/python benchmarks/store_compare.py --synthetic 100000                          # the engines at 100k

PolicyQA dev: the same corpus built into both stores; every (policy, question) searched within its own policy
through the library's `retrieve` (dense, bm25, hybrid = weighted fusion above the seam), plus Milvus' own
`hybrid_search` with RRFRanker and WeightedRanker(0.7, 0.3) over the same two fields (its fused list grown into
passages as the library's is, when the index shows passages), so the library's fusion is measured against the
engine's. Hit rules as in policyqa_dev.py. Latency: one search with the question vector
already computed (p50, p95).

Synthetic: N chunks of random words (a 5,000-word vocabulary, 60 words each) with random unit 384-d vectors in
1,000 documents, written through each store's writer (no sentence vectors, no model); insert+publish time, search
p50/p95 (dense, BM25, and dense filtered to one document) and the process's peak RSS, each store in its own process.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chunk_size import BUDGET, rank_metrics, timed_ranks  # noqa: E402
from policyqa_data import Question, write_policies  # noqa: E402

from policyqa import build_index  # noqa: E402
from policyqa.embed.embedder import Embedder  # noqa: E402
from policyqa.index.store import IndexReader, open_store  # noqa: E402
from policyqa.ingest.chunking import Chunk  # noqa: E402
from policyqa.ingest.documents import Document  # noqa: E402
from policyqa.search.retrieval import (  # noqa: E402
    FUSION_DEPTH,
    GROWN_FUSION_DEPTH,
    Mode,
    allowed_chunk_ids,
    passage_chars,
    passages,
    retrieve,
)

K = 10
Search = Callable[[Question, np.ndarray], Sequence[object]]


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.array(seconds) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def evaluate(search: Search, questions: list[Question], vectors: np.ndarray) -> dict[str, float]:
    ranks, budget_ranks, seconds = timed_ranks(search, questions, vectors, K)
    p50, p95 = percentiles(seconds)
    return {**rank_metrics(ranks, budget_ranks), "p50": p50, "p95": p95}


def library(reader: IndexReader, mode: Mode) -> Search:
    return lambda q, v: retrieve(reader, q.text, v, K, [q.doc_id], mode=mode)


def milvus_native(reader: IndexReader, ranker: object) -> Search:
    """Milvus' own hybrid_search: dense + BM25 requests fused by the engine's ranker, filtered to the policy."""
    from pymilvus import AnnSearchRequest

    from policyqa.index.milvus.schema import expr_list
    from policyqa.ingest.terms import tokenize

    def search(question: Question, vector: np.ndarray) -> Sequence[object]:
        allowed = allowed_chunk_ids(reader, [question.doc_id])
        expr = f"id in {expr_list([int(i) for i in allowed])}"
        span_chars = passage_chars(reader)
        depth = max(K, GROWN_FUSION_DEPTH if span_chars else FUSION_DEPTH)
        requests = [
            AnnSearchRequest([vector.tolist()], "vector", {"metric_type": "IP"}, depth, expr=expr),
            AnnSearchRequest([" ".join(tokenize([question.text])[0])], "sparse", {}, depth, expr=expr),
        ]
        hits = reader.client.hybrid_search(  # type: ignore[attr-defined]
            reader.collection("chunks"),
            requests,
            ranker,
            limit=depth if span_chars else K,
            output_fields=["id"],  # type: ignore[attr-defined]
        )[0]
        if span_chars:  # grown into passages as the library grows its own fused list
            ranked = [(int(h["id"]), float(h["distance"])) for h in hits]
            return [record for record, _, _ in passages(reader, ranked, span_chars, K, vector, question.text)]
        records = reader.chunk_records(int(h["id"]) for h in hits)
        return [records[int(h["id"])] for h in hits]

    return search


def dev(dev_json: Path) -> None:
    from pymilvus import RRFRanker, WeightedRanker

    embedder = Embedder()
    rows: list[tuple[str, str, int, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        questions = write_policies(dev_json, corpus)
        vectors = embedder.encode([q.text for q in questions])
        for kind, location in (("FAISS+SQLite", str(Path(tmp) / "index")), ("milvus-lite", f"milvus://{tmp}/i.db")):
            started = time.perf_counter()
            build_index(corpus, location, progress=False, log=lambda _m: None)
            print(f"{kind}: built in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
            reader = open_store(location).open_current()
            for mode in ("dense", "bm25", "hybrid"):
                rows.append((kind, mode, len(reader), evaluate(library(reader, mode), questions, vectors)))
            if kind == "milvus-lite":
                for name, ranker in (
                    ("Milvus RRFRanker(60)", RRFRanker(60)),
                    ("Milvus WeightedRanker(0.7, 0.3)", WeightedRanker(0.7, 0.3)),
                ):
                    rows.append((kind, name, len(reader), evaluate(milvus_native(reader, ranker), questions, vectors)))
    print(f"{len(questions)} (policy, question) pairs\n")
    print(f"| store | mode | chunks | hit@1 | hit@5 | hit@10 | MRR@10 | hit@{BUDGET}ch | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind, mode, chunks, m in rows:
        print(
            f"| {kind} | {mode} | {chunks} | {m['hit@1']:.3f} | {m['hit@5']:.3f} | {m['hit@10']:.3f} | "
            f"{m['mrr@10']:.3f} | {m['budget']:.3f} | {m['p50']:.1f} | {m['p95']:.1f} |"
        )


WORDS = [f"w{n}" for n in range(5000)]


def synthetic_one(location: str, chunks: int, seed: int = 0) -> dict[str, float]:
    """Write `chunks` synthetic chunks into the store at `location`, then time searches; runs in its own process."""
    rng = np.random.default_rng(seed)
    documents, dimension = 1000, 384
    per_doc = chunks // documents
    store = open_store(location)
    started = time.perf_counter()
    with store.build_session(Path(tempfile.gettempdir()) / "no-corpus", 0, print):
        writer = store.writer(None, dimension)
        for d in range(documents):
            texts = [" ".join(rng.choice(WORDS, 60)) for _ in range(per_doc)]
            text = "\n".join(texts)
            doc = Document(
                f"doc{d:04d}.txt",
                Path(f"doc{d:04d}.txt"),
                f"Doc {d}",
                text,
                hashlib.sha256(text.encode()).hexdigest(),
                len(text),
            )
            spans, at = [], 0
            for t in texts:
                spans.append(Chunk(doc.id, at, at + len(t), t))
                at += len(t) + 1
            vectors = rng.standard_normal((per_doc, dimension)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            writer.add_document(doc, spans, vectors, time.time(), [[] for _ in spans])
        writer.set_manifest({"format_version": 3, "model": {"name": "random", "dimension": dimension}})
        writer.publish()
    build_s = time.perf_counter() - started
    reader = store.open_current()
    queries = rng.standard_normal((200, dimension)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    out: dict[str, float] = {"chunks": len(reader), "build_s": build_s}
    timed: dict[str, list[float]] = {"dense": [], "bm25": [], "dense_filtered": []}
    for n, q in enumerate(queries):
        words = " ".join(rng.choice(WORDS, 6))
        allowed = reader.chunk_ids_for([f"doc{n % documents:04d}.txt"])
        for name, call in (
            ("dense", lambda q=q: reader.dense_top(q, K)),
            ("bm25", lambda words=words: reader.sparse_top(words, K)),
            ("dense_filtered", lambda q=q, allowed=allowed: reader.dense_top(q, K, allowed)),
        ):
            started = time.perf_counter()
            assert call()
            timed[name].append(time.perf_counter() - started)
    for name, seconds in timed.items():
        out[f"{name}_p50"], out[f"{name}_p95"] = percentiles(seconds[10:])  # the first ones warm caches
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def synthetic(chunks: int) -> None:
    print(
        "| store | chunks | insert+publish s | dense p50/p95 ms | BM25 p50/p95 ms | dense, 1 doc p50/p95 ms "
        "| peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for kind, location in (("FAISS+SQLite", str(Path(tmp) / "index")), ("milvus-lite", f"milvus://{tmp}/s.db")):
            out = subprocess.run(
                [sys.executable, __file__, "--one", location, str(chunks)], capture_output=True, text=True, check=False
            )
            if out.returncode:
                print(out.stderr[-3000:], file=sys.stderr)
                continue
            m = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"| {kind} | {int(m['chunks'])} | {m['build_s']:.1f} | {m['dense_p50']:.1f} / {m['dense_p95']:.1f} | "
                f"{m['bm25_p50']:.1f} / {m['bm25_p95']:.1f} | {m['dense_filtered_p50']:.1f} / "
                f"{m['dense_filtered_p95']:.1f} | {m['peak_rss_mb']:.0f} |",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dev_json", type=Path, nargs="?", help="PolicyQA dev.json (stays outside the repo)")
    parser.add_argument("--synthetic", type=int, metavar="CHUNKS", help="the synthetic engine benchmark instead")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)  # internal: one store of the synthetic run
    args = parser.parse_args()
    if args.one:
        print(json.dumps(synthetic_one(args.one[0], int(args.one[1]))))
        return
    print(f"command: `{shlex.join([sys.executable, *sys.argv])}`\n", flush=True)
    if args.synthetic:
        synthetic(args.synthetic)
    elif args.dev_json:
        dev(args.dev_json)
    else:
        parser.error("give dev.json or --synthetic CHUNKS")


if __name__ == "__main__":
    main()
