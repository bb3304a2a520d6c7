"""Issue 23 figures with the shipped scorer: states on each question set, PolicyQA coverage, ask vs search latency.

    .venv/bin/python benchmarks/answers_round3.py --policyqa ../shared/eval/policyqa/dev.json [--indexes DIR]

Uses the indexes benchmarks/train_scorer.py built (bundled, realdocs, policyqa). The bundled and real-document
questions are the scorer's training questions, so their figures here are in sample; the out-of-fold ones are in
train_scorer.py's output. PolicyQA dev was never trained on: each question is asked within its policy; "covered":
a quote holds at least half of a gold span.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policyqa_data import covers, write_policies  # noqa: E402
from train_scorer import holds  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def states(name: str, idx, rows: list[dict]) -> None:
    yes = [r for r in rows if r["answerable"]]
    no = [r for r in rows if not r["answerable"]]
    answered, wrong, right, kept, seen = 0, 0, 0, 0, Counter()
    for r in rows:
        a = idx.ask(r["question"])
        seen[a.state] += 1
        if a.state in ("answered", "partial"):
            answered += 1
            ok = r["answerable"] and any(holds(c.quote, r["answer"]) for c in a.citations)
            wrong += not ok
            right += ok
        elif not r["answerable"]:
            kept += 1
    print(f"| {name} | {len(yes)} / {len(no)} | {dict(seen)} | {wrong}/{answered} ({wrong / max(answered, 1):.1%}) | "
          f"{right}/{len(yes)} ({right / max(len(yes), 1):.0%}) | {kept}/{len(no)} ({kept / max(len(no), 1):.0%}) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--policyqa", type=Path, help="PolicyQA dev.json (needed unless --latency-only)")
    parser.add_argument("--indexes", type=Path, default=Path(tempfile.gettempdir()) / "pqa_idx")
    parser.add_argument("--latency-only", action="store_true", help="only the timed ask/search comparison")
    args = parser.parse_args()
    from policyqa import open_index

    bundled = open_index(args.indexes / "bundled")
    bundled.ask("warm up")
    if not args.latency_only:
        if args.policyqa is None:
            parser.error("--policyqa is needed for the answer states")
        answer_states(args, bundled)
    latency(bundled)


def answer_states(args: argparse.Namespace, bundled) -> None:
    from policyqa import open_index

    print("| set (in sample) | answerable / not | states | answered and wrong | answerable answered right | "
          "unanswerable not answered |\n|---|---|---|---|---|---|")
    for name, path in (("bundled", REPO / "eval" / "bundled_questions.jsonl"),
                       ("realdocs", REPO / "eval" / "realdocs" / "questions.jsonl"),
                       ("realdocs", REPO / "eval" / "realdocs" / "scorer_questions.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        states(f"{name} ({path.name})", bundled if name == "bundled" else open_index(args.indexes / name), rows)

    questions = write_policies(args.policyqa, args.indexes / "policies")
    pidx = open_index(args.indexes / "policyqa")
    seen, any_cover, first_cover, answered_cover = Counter(), 0, 0, 0
    for q in questions:
        a = pidx.ask(q.text, doc_ids=[q.doc_id])
        seen[a.state] += 1
        hit = [any(covers(c.start, c.end, s) for s in q.spans) for c in a.citations]
        any_cover += any(hit)
        first_cover += bool(hit and hit[0])
        answered_cover += bool(a.state in ("answered", "partial") and hit and hit[0])
    n = len(questions)
    print(f"\nPolicyQA dev ({n} questions, never trained on): states {dict(seen)}; answered "
          f"{seen['answered'] / n:.1%}, unsure {seen['unsure'] / n:.1%}, refused {seen['refused'] / n:.1%}; a quote "
          f"covers the gold span {any_cover / n:.1%}, the first quote {first_cover / n:.1%}; answered with a first "
          f"quote that covers it: {answered_cover}/{seen['answered'] + seen['partial']}")



def latency(bundled) -> None:
    rows = [json.loads(line) for line in (REPO / "eval" / "bundled_questions.jsonl").read_text().splitlines() if line]
    ask, search = [], []
    for _ in range(3):
        for r in rows:
            started = time.perf_counter()
            bundled.search(r["question"], k=5)
            search.append(time.perf_counter() - started)
            started = time.perf_counter()
            bundled.ask(r["question"], k=5)
            ask.append(time.perf_counter() - started)
    s, a = statistics.median(search) * 1000, statistics.median(ask) * 1000
    print(f"\nin-process p50 over {len(ask)} calls: search {s:.1f} ms (now includes P per hit), ask {a:.1f} ms: "
          f"ask/search {a / s:.2f}x")


if __name__ == "__main__":
    main()
