"""Retrieval quality and latency on PolicyQA dev per search mode, against a LangChain baseline, in one run.

    .venv/bin/python benchmarks/policyqa_dev.py ../shared/eval/policyqa/dev.json

Modes: dense, bm25, hybrid (the library default: weighted fusion, dense weight 0.7) through `retrieve`, plus
reciprocal rank fusion and weighted fusion at other dense weights (built here from the same dense and BM25
candidate lists), so that the default fusion is chosen by measurement. Baseline: LangChain as its docs show it, i.e.
RecursiveCharacterTextSplitter(1000, 200) + HuggingFaceEmbeddings (same bundled model) + FAISS, filtered by
metadata to the question's policy (`pip install -e '.[bench]'`).

Figures are given per fold (the 20 policies sorted by id, alternating; printed) and as the mean of the two folds:
the library's settings were chosen by 2-fold cross-validation in retrieval_ablation.py, so each fold's row is
what a setting tuned on the other fold scores.

Each (policy, question) is searched within its own policy. Hit rules, including the 1,500-character budget,
come from chunk_size.py. Latency: median wall time of one search with the question vector already computed,
except the LangChain baseline, whose `similarity_search_with_score` embeds the question itself.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chunk_size import BUDGET, Located, rank_metrics, timed_ranks  # noqa: E402
from policyqa_data import Question, write_policies  # noqa: E402

from policyqa import build_index, open_index  # noqa: E402
from policyqa.embed.embedder import Embedder, bundled_model_dir  # noqa: E402
from policyqa.index.faiss_sqlite.generation import Generation  # noqa: E402
from policyqa.ingest.chunking import ChunkSettings  # noqa: E402
from policyqa.search.fusion import Ranked, reciprocal_rank_fusion, weighted_fusion  # noqa: E402
from policyqa.search.retrieval import (  # noqa: E402
    FUSION_DEPTH,
    GROWN_FUSION_DEPTH,
    HYBRID_DENSE_WEIGHT,
    Mode,
    allowed_chunk_ids,
    dense_ranked,
    passage_chars,
    passages,
    retrieve,
)

K = 10
DENSE_WEIGHTS = (0.3, 0.5)
PREVIOUS = ChunkSettings(200, 40, passage_chars=0)  # the default before small-to-big: chunks shown as matched
LANGCHAIN_SETTINGS = ((1000, 200), (500, 100))  # the docs' example and a smaller one
INSTALL_HINT = "pip install -e '.[bench]'"


@dataclass(frozen=True)
class Span:
    start: int
    end: int


Search = Callable[[Question, np.ndarray], Sequence[Located]]  # ranked chunks (character offsets), best first


@dataclass(frozen=True)
class Result:
    name: str
    chunks: int
    folds: tuple[dict[str, float], dict[str, float]]
    median_ms: float

    @property
    def mean(self) -> dict[str, float]:
        return {key: (self.folds[0][key] + self.folds[1][key]) / 2 for key in self.folds[0]}


def folds(doc_ids: Sequence[str]) -> tuple[set[str], set[str]]:
    """Fold A: the 1st, 3rd, ... policy by sorted id; fold B: the others."""
    ordered = sorted(set(doc_ids))
    return set(ordered[0::2]), set(ordered[1::2])


def evaluate(
    name: str, chunks: int, search: Search, questions: list[Question], vectors: np.ndarray, fold_a: set[str]
) -> Result:
    ranks, budget_ranks, seconds = timed_ranks(search, questions, vectors, K)
    by_fold = tuple(
        rank_metrics(
            [r for r, q in zip(ranks, questions, strict=True) if (q.doc_id in fold_a) == in_a],
            [r for r, q in zip(budget_ranks, questions, strict=True) if (q.doc_id in fold_a) == in_a],
        )
        for in_a in (True, False)
    )
    return Result(name, chunks, by_fold, 1000 * statistics.median(seconds))


def library_search(generation: Generation, mode: Mode) -> Search:
    def search(question: Question, vector: np.ndarray) -> Sequence[Located]:
        return retrieve(generation, question.text, vector, K, [question.doc_id], mode=mode)

    return search


def fused_search(generation: Generation, fuse: Callable[[Ranked, Ranked], list[tuple[int, float]]]) -> Search:
    """Same candidates as the library's hybrid mode, fused by another rule."""

    def search(question: Question, vector: np.ndarray) -> Sequence[Located]:
        allowed = allowed_chunk_ids(generation, [question.doc_id])
        depth = max(K, GROWN_FUSION_DEPTH if passage_chars(generation) else FUSION_DEPTH)
        dense = dense_ranked(generation, vector, depth, allowed)
        sparse = generation.sparse.top(question.text, depth, allowed)
        ranked = fuse(dense, sparse)[:depth]
        span_chars = passage_chars(generation)
        if span_chars:
            return [record for record, _, _ in passages(generation, ranked, span_chars, K, vector, question.text)]
        records = generation.chunk_records(i for i, _ in ranked[:K])
        return [records[i] for i, _ in ranked[:K] if i in records]

    return search


def caller_search(index_dir: Path, model: str | None) -> Search:
    """`PolicyIndex.search` as a caller makes it: the question embedded, passages shown by P(a close match)."""
    index = open_index(index_dir, model=model)

    def search(question: Question, _vector: np.ndarray) -> Sequence[Located]:
        return index.search(question.text, k=K, doc_ids=[question.doc_id])

    return search


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def langchain_baseline(corpus_dir: Path, chunk_chars: int, overlap_chars: int) -> tuple[int, Search] | None:
    """The LangChain docs' recipe over the same files; None (with a message) when its packages are missing."""
    try:
        from langchain_community.vectorstores import FAISS
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter
    except ImportError as exc:
        print(f"\nLangChain baseline skipped ({exc}); install it with `{INSTALL_HINT}`.\n", file=sys.stderr)
        return None
    try:  # the maintained package; it may not install beside a huggingface_hub >= 2
        from langchain_huggingface import HuggingFaceEmbeddings
    except ImportError:
        from langchain_community.embeddings import HuggingFaceEmbeddings

    documents = [
        Document(page_content=path.read_text(encoding="utf-8"), metadata={"source": path.name})
        for path in sorted(corpus_dir.glob("*.txt"))
    ]
    splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_chars, chunk_overlap=overlap_chars, add_start_index=True)
    chunks = splitter.split_documents(documents)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # langchain_community's HuggingFaceEmbeddings is deprecated, still works
        embeddings = HuggingFaceEmbeddings(model_name=str(bundled_model_dir()))
    store = FAISS.from_documents(chunks, embeddings)

    def search(question: Question, _vector: np.ndarray) -> Sequence[Located]:
        # FAISS filters after fetching fetch_k nearest chunks of the whole corpus: fetch all of them so that
        # the filter never leaves fewer than k chunks of the question's policy.
        found = store.similarity_search_with_score(
            question.text, k=K, filter={"source": question.doc_id}, fetch_k=len(chunks)
        )
        return [
            Span(doc.metadata["start_index"], doc.metadata["start_index"] + len(doc.page_content)) for doc, _ in found
        ]

    return len(chunks), search


def single_query_encode_ms(embedder: Embedder, questions: list[Question], samples: int = 100) -> float:
    seconds = []
    for question in questions[:samples]:
        started = time.perf_counter()
        embedder.encode([question.text])
        seconds.append(time.perf_counter() - started)
    return 1000 * statistics.median(seconds)


def print_table(results: list[Result]) -> None:
    print(f"| mode | fold | chunks | hit@1 | hit@5 | hit@10 | MRR@10 | hit@{BUDGET}ch | median ms/query |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        for fold, m in (("A", r.folds[0]), ("B", r.folds[1]), ("**mean**", r.mean)):
            print(
                f"| {r.name} | {fold} | {r.chunks} | {m['hit@1']:.3f} | {m['hit@5']:.3f} | {m['hit@10']:.3f} | "
                f"{m['mrr@10']:.3f} | {m['budget']:.3f} | {r.median_ms:.1f} |"
            )


def run_baselines(
    corpus_dir: Path,
    previous_dir: Path,
    questions: list[Question],
    vectors: np.ndarray,
    fold_a: set[str],
    results: list[Result],
) -> tuple[int, Search] | None:
    """The previous default's rows and LangChain's, appended to `results`; the last LangChain baseline (None: not
    installed)."""
    build_index(corpus_dir, previous_dir, chunking=PREVIOUS, progress=False, log=lambda _m: None)
    previous = Generation.open_current(previous_dir)
    for mode in ("dense", "hybrid"):
        size = f"{PREVIOUS.chunk_tokens}/{PREVIOUS.overlap_tokens}"
        name = f"{mode}, previous default ({size} chunks, shown as matched)"
        results.append(evaluate(name, len(previous), library_search(previous, mode), questions, vectors, fold_a))
    previous.close()
    baseline = None
    for chunk_chars, overlap_chars in LANGCHAIN_SETTINGS:
        baseline = langchain_baseline(corpus_dir, chunk_chars, overlap_chars)
        if baseline is not None:
            chunks, search = baseline
            name = f"LangChain baseline ({chunk_chars}/{overlap_chars} chars, FAISS)"
            results.append(evaluate(name, chunks, search, questions, vectors, fold_a))
    return baseline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dev_json", type=Path, help="PolicyQA dev.json (SQuAD format); stays outside the repo")
    parser.add_argument("--model", default=None, help="the index's model (default: bundled; 'mpnet')")
    parser.add_argument("--no-baselines", action="store_true", help="skip the previous default and LangChain rows")
    args = parser.parse_args()
    print(f"command: `{shlex.join([sys.executable, *sys.argv])}`\n", flush=True)
    embedder = Embedder(args.model)
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus_dir, index_dir = Path(tmp) / "corpus", Path(tmp) / "index"
        questions = write_policies(args.dev_json, corpus_dir)
        fold_a, fold_b = folds([q.doc_id for q in questions])
        print(f"fold A: {', '.join(sorted(fold_a))}\nfold B: {', '.join(sorted(fold_b))}\n")
        started = time.perf_counter()
        build_index(corpus_dir, index_dir, model=args.model, progress=False, log=lambda _m: None)
        print(f"build: {time.perf_counter() - started:.1f} s, index {folder_mb(index_dir):.1f} MB", flush=True)
        generation = Generation.open_current(index_dir)
        vectors = embedder.encode([q.text for q in questions])
        print(f"{len(questions)} (policy, question) pairs, {len(generation)} chunks (default settings)", flush=True)
        searches: list[tuple[str, Search]] = [
            ("dense", library_search(generation, "dense")),
            ("bm25", library_search(generation, "bm25")),
            (f"hybrid (default: weighted, dense_weight {HYBRID_DENSE_WEIGHT})", library_search(generation, "hybrid")),
            ("reciprocal rank fusion", fused_search(generation, lambda d, s: reciprocal_rank_fusion([d, s]))),
            *(
                (f"weighted, dense_weight {w}", fused_search(generation, partial(weighted_fusion, dense_weight=w)))
                for w in DENSE_WEIGHTS
            ),
            (
                "PolicyIndex.search (as a caller gets it: by P(a close match), question embedded)",
                caller_search(index_dir, args.model),
            ),
        ]
        for name, search in searches:
            results.append(evaluate(name, len(generation), search, questions, vectors, fold_a))
            print(f"  {name}: done", file=sys.stderr, flush=True)
        baseline = None
        encode_ms = single_query_encode_ms(embedder, questions)
        if not args.no_baselines:
            baseline = run_baselines(corpus_dir, Path(tmp) / "index-previous", questions, vectors, fold_a, results)
        generation.close()
    print()
    print_table(results)
    print(
        f"\nOur modes' latency excludes embedding the question (median {encode_ms:.1f} ms for one question "
        "with the same model); the LangChain row includes it."
    )
    if baseline is None and not args.no_baselines:
        print(f"LangChain baseline not run: install it with `{INSTALL_HINT}`.")


if __name__ == "__main__":
    main()
