"""Does re-scoring the hybrid top-20 with all-mpnet-base-v2 help on PolicyQA dev?

    .venv/bin/python benchmarks/rerank.py ../shared/eval/policyqa/dev.json

mpnet vectors of every chunk and question are computed once (the same numbers `Reranker.rescore` computes per
query), then each question's hybrid top-20 within its own policy is re-sorted by mpnet cosine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chunk_size import BUDGET, first_hit_rank, rank_metrics  # noqa: E402
from policyqa_data import write_policies  # noqa: E402

from policyqa import build_index  # noqa: E402
from policyqa.embed.embedder import Embedder  # noqa: E402
from policyqa.index.faiss_sqlite.generation import Generation  # noqa: E402
from policyqa.search.rerank import CANDIDATES, Reranker  # noqa: E402
from policyqa.search.retrieval import retrieve  # noqa: E402


def metrics(ranks: list[int | None], budget_ranks: list[int | None]) -> str:
    m = rank_metrics(ranks, budget_ranks)
    return " | ".join(f"{m[key]:.3f}" for key in ("hit@1", "hit@5", "hit@10", "mrr@10", "budget"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dev_json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        questions = write_policies(args.dev_json, Path(tmp) / "corpus")
        build_index(Path(tmp) / "corpus", Path(tmp) / "index", log=lambda _m: None)
        generation = Generation.open_current(Path(tmp) / "index")
        vectors = Embedder().encode([q.text for q in questions])
        first = [
            retrieve(generation, q.text, v, CANDIDATES, [q.doc_id]) for q, v in zip(questions, vectors, strict=True)
        ]
        reranker = Reranker()
        started = time.perf_counter()
        chunk_ids = [c.id for c in generation.iter_chunks()]
        chunk_vectors = dict(zip(chunk_ids, reranker.encode([c.text for c in generation.iter_chunks()]), strict=True))
        question_vectors = reranker.encode([q.text for q in questions])
        seconds = time.perf_counter() - started
        rows = {"hybrid (first stage only)": first, "hybrid top-20 → mpnet": []}
        for hits, qv in zip(first, question_vectors, strict=True):
            scores = np.array([chunk_vectors[h.chunk_id] @ qv for h in hits])
            rows["hybrid top-20 → mpnet"].append([hits[i] for i in np.argsort(-scores, kind="stable")])
        print(f"{len(questions)} questions; mpnet embedded {len(chunk_ids)} chunks + questions in {seconds:.1f} s")
        print(f"| ranking | hit@1 | hit@5 | hit@10 | MRR@10 | hit@{BUDGET}ch |")
        print("|---|---|---|---|---|---|")
        for name, results in rows.items():
            ranks = [first_hit_rank(h[:10], q) for h, q in zip(results, questions, strict=True)]
            budget = [first_hit_rank(h[:10], q, BUDGET) for h, q in zip(results, questions, strict=True)]
            print(f"| {name} | {metrics(ranks, budget)} |")


if __name__ == "__main__":
    main()
