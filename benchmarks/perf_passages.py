"""Search latency of this tree's passages against a baseline tree's (issue 27: passages of whole sentences against
the chunk-bounded ones before; then passages that start at their best sentence and grow by its evidence against
those), over the same index, in one run.

    git archive <baseline commit> src | tar -x -C BASE
    .venv/bin/python benchmarks/perf_passages.py ../shared/eval/policyqa/dev.json --baseline-src BASE/src [--src S]

One index (default settings) over the 20 PolicyQA dev policies, built by this tree (both trees read it: the index
format did not change). Each tree runs in its own process (`PYTHONPATH` names its `src`), `--rounds` times,
alternating which goes first, on the first `--queries` questions (hybrid, k=5, within the question's policy), after a
warm-up. Two measures: `PolicyIndex.search` (what a caller waits for: the question embedded, passages scored) and
`retrieve` with the question vector given (the index's own work). Prints per round the medians and p95, then the
ratio of the medians over all rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policyqa_data import write_policies  # noqa: E402

REPO_SRC = Path(__file__).resolve().parents[1] / "src"


def worker(dev_json: Path, corpus: Path, index_dir: Path, queries: int) -> None:
    """Run in a child process whose policyqa is the tree under test: prints the timings as JSON."""
    from policyqa import open_index
    from policyqa.embed.embedder import Embedder
    from policyqa.index.faiss_sqlite.generation import Generation
    from policyqa.search.retrieval import retrieve

    questions = write_policies(dev_json, corpus)[:queries]
    index = open_index(index_dir)
    generation = Generation.open_current(index_dir)
    vectors = Embedder().encode([q.text for q in questions])
    for question in questions[:20]:
        index.search(question.text, k=5, doc_ids=[question.doc_id])
    whole, given = [], []
    for question, vector in zip(questions, vectors, strict=True):
        started = time.perf_counter()
        index.search(question.text, k=5, doc_ids=[question.doc_id])
        whole.append(time.perf_counter() - started)
        started = time.perf_counter()
        retrieve(generation, question.text, vector, 5, [question.doc_id])
        given.append(time.perf_counter() - started)
    print(json.dumps({"search": whole, "retrieve": given}))


def timings(src: Path, args: argparse.Namespace, corpus: Path, index_dir: Path) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, __file__, str(args.dev_json), "--worker", str(corpus), str(index_dir)]
    command += ["--queries", str(args.queries)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dev_json", type=Path)
    parser.add_argument("--baseline-src", type=Path, help="the baseline tree's src folder")
    parser.add_argument("--src", type=Path, default=REPO_SRC, help="the tree under test's src (default: this one's)")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--worker", nargs=2, type=Path, metavar=("CORPUS", "INDEX"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.dev_json, *args.worker, args.queries)
        return
    if args.baseline_src is None:
        parser.error("--baseline-src is required")
    from policyqa import build_index

    trees = {"baseline": args.baseline_src.resolve(), "this tree": args.src.resolve()}
    with tempfile.TemporaryDirectory() as tmp:
        corpus, index_dir = Path(tmp) / "corpus", Path(tmp) / "index"
        write_policies(args.dev_json, corpus)
        build_index(corpus, index_dir, progress=False, log=lambda _m: None)
        seen: dict[str, dict[str, list[float]]] = {name: {"search": [], "retrieve": []} for name in trees}
        for n in range(args.rounds):
            for name in list(trees) if n % 2 == 0 else list(trees)[::-1]:
                measured = timings(trees[name], args, corpus, index_dir)
                for measure, values in measured.items():
                    seen[name][measure] += values
                    values = sorted(values)
                    print(
                        f"round {n + 1}, {name}, {measure}: median {1000 * statistics.median(values):.2f} ms, "
                        f"p95 {1000 * values[int(0.95 * len(values))]:.2f} ms",
                        flush=True,
                    )
    for measure in ("search", "retrieve"):
        base, this = (statistics.median(seen[name][measure]) for name in trees)
        print(
            f"{measure}: baseline median {1000 * base:.2f} ms, this tree {1000 * this:.2f} ms, "
            f"ratio {this / base:.2f}x ({args.rounds} rounds x {args.queries} questions each)"
        )


if __name__ == "__main__":
    main()
