"""Search latency of the Milvus store (milvus-lite) against the folder store (FAISS + SQLite), the two alternating.

    .venv/bin/python benchmarks/store_latency.py ../shared/eval/policyqa/dev.json --questions 400   # extra: milvus

store_compare.py times each store over all 2,420 questions, one store after the other (~15 minutes); on a shared
machine the load moves between the two halves and so does their ratio. Here the same corpus is built into both
stores and a sample of the questions is searched on both, the stores alternating per question (which goes first
alternates too), so load falls on both alike. Two calls are timed per question and store: `retrieve` (hybrid, k=10,
the question vector given: the store's and the passage code's work) and `PolicyIndex.search` as a caller makes it
(question embedded, passages scored). Printed: p50 / p95 per store, the ratio of the p50s and the median of the
per-question ratios. Run it with `PYTHONPATH=OTHER/src` to time another source tree the same way.
"""

from __future__ import annotations

import argparse
import random
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policyqa_data import write_policies  # noqa: E402

from policyqa import build_index, open_index  # noqa: E402
from policyqa.embed.embedder import Embedder  # noqa: E402
from policyqa.index.store import open_store  # noqa: E402
from policyqa.search.retrieval import retrieve  # noqa: E402

K = 10
WARM_UP = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dev_json", type=Path, help="PolicyQA dev.json (stays outside the repo)")
    parser.add_argument("--questions", type=int, default=400, help="questions sampled (seed 0); default 400")
    args = parser.parse_args()
    print(f"command: `{shlex.join([sys.executable, *sys.argv])}`\n", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        questions = write_policies(args.dev_json, Path(tmp) / "corpus")
        random.Random(0).shuffle(questions)
        questions = questions[: args.questions]
        vectors = Embedder().encode([q.text for q in questions])
        locations = {"folder store": str(Path(tmp) / "index"), "milvus-lite": f"milvus://{tmp}/i.db"}
        readers, indexes = {}, {}
        for name, location in locations.items():
            build_index(Path(tmp) / "corpus", location, progress=False, log=lambda _m: None)
            readers[name] = open_store(location).open_current()
            indexes[name] = open_index(store=location)
        for question in questions[:WARM_UP]:
            for index in indexes.values():
                index.search(question.text, k=K, doc_ids=[question.doc_id])
        seconds: dict[tuple[str, str], list[float]] = {(s, c): [] for s in locations for c in ("retrieve", "search")}
        for n, (question, vector) in enumerate(zip(questions, vectors, strict=True)):
            for name in list(locations) if n % 2 == 0 else list(reversed(locations)):
                started = time.perf_counter()
                retrieve(readers[name], question.text, vector, K, [question.doc_id], mode="hybrid")
                seconds[(name, "retrieve")].append(time.perf_counter() - started)
                started = time.perf_counter()
                indexes[name].search(question.text, k=K, doc_ids=[question.doc_id])
                seconds[(name, "search")].append(time.perf_counter() - started)
    print(f"{len(questions)} questions, hybrid, k={K}\n")
    print("| call | folder store p50 / p95 ms | milvus-lite p50 / p95 ms | ratio of p50s | median per-question ratio |")
    print("|---|---|---|---|---|")
    for call in ("retrieve", "search"):
        folder = np.array(seconds[("folder store", call)]) * 1000
        milvus = np.array(seconds[("milvus-lite", call)]) * 1000
        print(
            f"| {call} | {np.median(folder):.1f} / {np.percentile(folder, 95):.1f} | {np.median(milvus):.1f} / "
            f"{np.percentile(milvus, 95):.1f} | {np.median(milvus) / np.median(folder):.2f}x | "
            f"{np.median(milvus / folder):.2f}x |"
        )


if __name__ == "__main__":
    main()
