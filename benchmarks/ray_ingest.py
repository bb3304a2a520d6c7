"""One-machine overhead of `build --ray`: full builds of the PolicyQA dev policies, single-process vs Ray Data on a
local Ray instance of --num-cpus CPUs, alternated, repeated; the ratio of medians. Both builds use the default
backend and precision; each Ray build starts a new embed actor pool (the model loads in it every time, as in a
`policyqa build --ray`), on a Ray instance started once. Ray's start-up is timed apart, and one cold run
(ray.init + build + shutdown, what the CLI pays) too.

.venv/bin/python benchmarks/ray_ingest.py ../shared/eval/policyqa/dev.json
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

from policyqa import build_index  # noqa: E402
from policyqa.index.store import open_store  # noqa: E402


def timed_build(corpus: Path, index_dir: Path, ray: str | None) -> tuple[float, int, int]:
    started = time.perf_counter()
    report = build_index(corpus, index_dir, full=True, progress=False, log=lambda _m: None, ray=ray)
    return time.perf_counter() - started, report.documents_total, report.chunks_total


def chunk_rows(index_dir: Path) -> list[tuple[int, str, int, int]]:
    reader = open_store(index_dir).open_current()
    try:
        return [(c.id, c.doc_id, c.start, c.end) for c in reader.iter_chunks()]
    finally:
        reader.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dev_json", type=Path, help="PolicyQA dev.json (SQuAD format)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--num-cpus", type=int, default=2, help="CPUs of the local Ray instance (default 2)")
    args = parser.parse_args()
    import ray

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        corpus = work / "policyqa"
        write_policies(args.dev_json, corpus)
        timed_build(corpus, work / "warm-up", None)  # the OpenVINO export and compile, once per process

        started = time.perf_counter()
        ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False)
        ray_start = time.perf_counter() - started
        local, on_ray = [], []
        for i in range(args.repeats):
            seconds, docs, chunks = timed_build(corpus, work / f"local-{i}", None)
            local.append(seconds)
            seconds, ray_docs, ray_chunks = timed_build(corpus, work / f"ray-{i}", "local")
            on_ray.append(seconds)
            assert (docs, chunks) == (ray_docs, ray_chunks), "the two builds disagree"
            assert chunk_rows(work / f"local-{i}") == chunk_rows(work / f"ray-{i}"), "the two builds disagree"
            print(f"run {i + 1}: single-process {local[-1]:.2f} s, Ray {on_ray[-1]:.2f} s", file=sys.stderr)
        ray.shutdown()

        started = time.perf_counter()
        timed_build(corpus, work / "cold", "local")  # starts and stops its own local Ray instance
        cold_total = time.perf_counter() - started

    median_local, median_ray = statistics.median(local), statistics.median(on_ray)
    print(f"PolicyQA dev: {docs} documents, {chunks} chunks; local Ray instance of {args.num_cpus} CPUs")
    print("| build | runs (s) | median s | vs single-process |")
    print("|---|---|---|---|")
    print(f"| single-process | {', '.join(f'{s:.2f}' for s in local)} | {median_local:.2f} | 1.00x |")
    print(
        f"| Ray Data, instance already up | {', '.join(f'{s:.2f}' for s in on_ray)} | {median_ray:.2f} | "
        f"{median_ray / median_local:.2f}x |"
    )
    print(
        f"| Ray Data, cold (starts its own instance) | {cold_total:.2f} | {cold_total:.2f} | "
        f"{cold_total / median_local:.2f}x |"
    )
    print(f"ray.init of the local instance alone: {ray_start:.2f} s")


if __name__ == "__main__":
    main()
