"""Compare timing: 5 questions x the 20 PolicyQA dev policies, against 100 sequential `ask` calls, in one run.

    .venv/bin/python benchmarks/compare.py ../shared/eval/policyqa/dev.json [--repeats 5] [--questions 5]

Index: the 20 PolicyQA dev policies written as text files (benchmarks/policyqa_data.py), default settings, built in a
temporary folder. Questions: the first `--questions` distinct PolicyQA questions of different policies. Model loaded
and one question answered first. Each repeat times, in alternating order so that load from other processes hits
both alike:

* compare: `PolicyIndex.compare(questions)` (all documents; one row per (question, document));
* baseline: `ask(question, doc_ids=[doc_id])` for every (question, document), one call at a time (each embeds
  its question again), which is what a caller without `compare` would do.

Prints the median seconds of each, their ratio, and whether every compare row is the baseline's answer (state, quote
offsets), i.e. whether the speed comes with the same decisions.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policyqa_data import write_policies  # noqa: E402

from policyqa import build_index, open_index  # noqa: E402
from policyqa.answer.compare import row_from_answer  # noqa: E402

TARGET_SECONDS = 3.0


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return " ".join(f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags) or "none of avx2/avx512"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dev_json", type=Path, help="PolicyQA dev.json (evaluation only; stays outside the repo)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus, index_dir = Path(tmp) / "corpus", Path(tmp) / "index"
        questions = write_policies(args.dev_json, corpus)
        chosen: list[str] = []
        used: set[str] = set()
        for q in questions:
            if q.doc_id not in used and len(chosen) < args.questions:
                chosen.append(q.text)
                used.add(q.doc_id)
        build_index(corpus, index_dir)
        index = open_index(index_dir)
        index.warm_up()
        documents = index.documents()
        index.ask(chosen[0])  # scorer and sentence tables loaded
        compare_times, ask_times = [], []
        rows, baseline = [], []
        for n in range(args.repeats):
            order = ("compare", "ask") if n % 2 == 0 else ("ask", "compare")
            for what in order:
                started = time.perf_counter()
                if what == "compare":
                    rows = index.compare(chosen)
                    compare_times.append(time.perf_counter() - started)
                else:
                    baseline = [
                        row_from_answer(index.ask(q, doc_ids=[d.doc_id]), d) for q in chosen for d in documents
                    ]
                    ask_times.append(time.perf_counter() - started)
    same = sum(
        (a.state, a.start, a.end, a.doc_id, a.question) == (b.state, b.start, b.end, b.doc_id, b.question)
        for a, b in zip(rows, baseline, strict=True)
    )
    states = {s: sum(r.state == s for r in rows) for s in ("answered", "partial", "unsure", "refused")}
    fast, slow = statistics.median(compare_times), statistics.median(ask_times)
    print(f"CPU: {cpu_model()} ({os.cpu_count()} cores visible; flags {cpu_flags()})")
    print(f"{len(chosen)} questions x {len(documents)} documents = {len(rows)} rows; states {states}")
    verdict = "met" if fast <= TARGET_SECONDS else "NOT met"
    print(f"compare:  median {fast:.3f} s over {args.repeats} runs (min {min(compare_times):.3f}, "
          f"max {max(compare_times):.3f}); target <= {TARGET_SECONDS:.1f} s: {verdict}")
    print(f"baseline: median {slow:.3f} s for {len(baseline)} sequential ask(question, doc_ids=[doc]) calls "
          f"(min {min(ask_times):.3f}, max {max(ask_times):.3f})")
    print(f"ratio baseline / compare: {slow / fast:.2f}x; rows equal to the baseline's answer: {same}/{len(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
