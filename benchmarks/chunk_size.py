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
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

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


class Located(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


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


def rank_metrics(ranks: Sequence[int | None], budget_ranks: Sequence[int | None]) -> dict[str, float]:
    """hit@1/5/10, MRR@10 and "budget" (a hit within the first BUDGET characters) from first-hit ranks."""
    n = max(len(ranks), 1)
    return {
        **{f"hit@{k}": sum(r is not None and r <= k for r in ranks) / n for k in (1, 5, 10)},
        "mrr@10": sum(1 / r for r in ranks if r and r <= 10) / n,
        "budget": sum(r is not None for r in budget_ranks) / n,
    }


def timed_ranks(
    search: Callable[[Question, np.ndarray], Sequence[Located]], questions: list[Question], vectors: np.ndarray, k: int
) -> tuple[list[int | None], list[int | None], list[float]]:
    """Each question searched once: the first-hit rank in the top k, the same within the budget, and the seconds."""
    ranks, budget_ranks, seconds = [], [], []
    for question, vector in zip(questions, vectors, strict=True):
        started = time.perf_counter()
        hits = search(question, vector)
        seconds.append(time.perf_counter() - started)
        ranks.append(first_hit_rank(hits[:k], question))
        budget_ranks.append(first_hit_rank(hits[:k], question, BUDGET))
    return ranks, budget_ranks, seconds


def evaluate(
    generation: Generation, questions: list[Question], vectors: np.ndarray, mode: Mode = "dense"
) -> dict[str, float]:
    def search(question: Question, vector: np.ndarray) -> Sequence[Located]:
        return retrieve(generation, question.text, vector, 10, [question.doc_id], mode)

    ranks, budget_ranks, _ = timed_ranks(search, questions, vectors, 10)
    return rank_metrics(ranks, budget_ranks)


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
                f"{m['hit@10']:.3f} | {m['mrr@10']:.3f} | {m['budget']:.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
