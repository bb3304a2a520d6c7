"""Retrieval quality on PolicyQA dev for several chunk sizes, to choose the default.

    .venv/bin/python benchmarks/chunk_size.py ../shared/eval/policyqa/dev.json [--mode hybrid|dense|bm25]

For every (policy, question) the search is restricted to that policy. A hit: a retrieved chunk covers at least
half of a gold answer span. "@1500ch" counts a hit only within the first 1,500 characters of retrieved text,
so that bigger chunks do not win just by covering more.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policyqa_data import Question, covers, write_policies  # noqa: E402

from policyqa import build_index  # noqa: E402
from policyqa.embed.embedder import Embedder  # noqa: E402
from policyqa.index.faiss_sqlite.generation import Generation  # noqa: E402
from policyqa.ingest.chunking import ChunkSettings  # noqa: E402
from policyqa.search.retrieval import MODES, Mode, retrieve  # noqa: E402

SETTINGS = [(96, 16), (128, 24), (160, 32), (200, 40), (254, 50)]
BUDGET = 1500


def first_hit_rank(hits, question: Question, budget: int | None = None) -> int | None:
    used = 0
    for rank, hit in enumerate(hits, 1):
        if budget is not None and used >= budget:
            return None
        start, end = hit.start, hit.end
        if budget is not None:
            end = min(end, start + budget - used)
        used += hit.end - hit.start
        if any(covers(start, end, span) for span in question.spans):
            return rank
    return None


def evaluate(
    generation: Generation, questions: list[Question], vectors: np.ndarray, mode: Mode = "dense"
) -> dict[str, float]:
    ranks, budget_ranks = [], []
    for question, vector in zip(questions, vectors, strict=True):
        hits = retrieve(generation, question.text, vector, 10, [question.doc_id], mode)
        ranks.append(first_hit_rank(hits, question))
        budget_ranks.append(first_hit_rank(hits, question, BUDGET))
    n = len(questions)
    return {
        **{f"hit@{k}": sum(r is not None and r <= k for r in ranks) / n for k in (1, 5, 10)},
        "mrr@10": sum(1 / r for r in ranks if r) / n,
        f"hit@{BUDGET}ch": sum(r is not None for r in budget_ranks) / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dev_json", type=Path)
    parser.add_argument("--mode", choices=MODES, default="dense")
    args = parser.parse_args()
    embedder = Embedder()
    with tempfile.TemporaryDirectory() as tmp:
        questions = write_policies(args.dev_json, Path(tmp) / "corpus")
        vectors = embedder.encode([q.text for q in questions])
        print(f"{len(questions)} questions (duplicates within a policy merged), mode {args.mode}")
        print(f"| chunk tokens / overlap | chunks | hit@1 | hit@5 | hit@10 | MRR@10 | hit within {BUDGET} chars |")
        print("|---|---|---|---|---|---|---|")
        for size, overlap in SETTINGS:
            index_dir = Path(tmp) / f"index-{size}"
            chunking = ChunkSettings(size, overlap, passage_chars=0)  # chunks shown as matched: the sweep's subject
            build_index(Path(tmp) / "corpus", index_dir, chunking=chunking, log=lambda _m: None)
            generation = Generation.open_current(index_dir)
            m = evaluate(generation, questions, vectors, args.mode)
            print(
                f"| {size} / {overlap} | {len(generation)} | {m['hit@1']:.3f} | {m['hit@5']:.3f} | "
                f"{m['hit@10']:.3f} | {m['mrr@10']:.3f} | {m[f'hit@{BUDGET}ch']:.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
