"""Build time, index size and search latency of the bundled model against all-mpnet-base-v2 (`--model mpnet`), in one
run, over the 20 PolicyQA dev policies.

    .venv/bin/python benchmarks/model_choice.py ../shared/eval/policyqa/dev.json [--rounds 2] [--queries 200]

Each round builds a fresh index with each model (alternating which goes first; the models are loaded and exported
once before, so the first build does not pay for that), then times `PolicyIndex.search` as a caller makes it (the
question embedded, hybrid, k=5, within its policy) on the first `--queries` questions, alternating the two indexes.
Quality figures: policyqa_dev.py --model mpnet and passage_ablation.py --model mpnet.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policyqa_data import write_policies  # noqa: E402

from policyqa import build_index, open_index  # noqa: E402
from policyqa.embed.embedder import Embedder  # noqa: E402

MODELS = {"all-MiniLM-L6-v2 (bundled)": None, "all-mpnet-base-v2 (--model mpnet)": "mpnet"}


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dev_json", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    for model in MODELS.values():
        Embedder(model).encode(["warm up: load and export the model once"])
    builds: dict[str, list[float]] = {name: [] for name in MODELS}
    sizes: dict[str, float] = {}
    searches: dict[str, list[float]] = {name: [] for name in MODELS}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        questions = write_policies(args.dev_json, corpus)[: args.queries]
        for n in range(args.rounds):
            names = list(MODELS) if n % 2 == 0 else list(MODELS)[::-1]
            indexes = {}
            for name in names:
                index_dir = Path(tmp) / f"index-{n}-{len(indexes)}"
                started = time.perf_counter()
                build_index(corpus, index_dir, model=MODELS[name], progress=False, log=lambda _m: None)
                builds[name].append(time.perf_counter() - started)
                sizes[name] = folder_mb(index_dir)
                indexes[name] = open_index(index_dir, model=MODELS[name])
                indexes[name].search("warm up", k=5)
            for question in questions:
                for name in names:
                    started = time.perf_counter()
                    indexes[name].search(question.text, k=5, doc_ids=[question.doc_id])
                    searches[name].append(time.perf_counter() - started)
            print(f"round {n + 1}: " + ", ".join(f"{k} build {v[-1]:.1f} s" for k, v in builds.items()), flush=True)
    print("\n| model | build (median s) | index MB | search p50 ms | search p95 ms |\n|---|---|---|---|---|")
    for name in MODELS:
        values = sorted(searches[name])
        print(
            f"| {name} | {statistics.median(builds[name]):.1f} | {sizes[name]:.1f} | "
            f"{1000 * statistics.median(values):.1f} | {1000 * values[int(0.95 * len(values))]:.1f} |"
        )
    base, other = (statistics.median(builds[name]) for name in MODELS)
    p50 = [statistics.median(searches[name]) for name in MODELS]
    print(f"\nmpnet / bundled: build {other / base:.2f}x, search p50 {p50[1] / p50[0]:.2f}x ({args.rounds} rounds)")


if __name__ == "__main__":
    main()
