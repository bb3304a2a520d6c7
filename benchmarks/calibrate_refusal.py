"""Answer accuracy and the refusal threshold on a question set (JSONL: question, answer|null, answerable).

    .venv/bin/python benchmarks/calibrate_refusal.py eval/bundled_questions.jsonl

Each question is asked once with no threshold (to see its evidence score and whether the answer would be
right), then the sweep counts, per threshold, answerable questions answered correctly plus unanswerable ones
refused. An answer is correct when its text contains the expected answer (whitespace folded) and its first
citation's passage holds it. Also prints the median `ask` latency with the calibrated threshold.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from policyqa import build_index, open_index
from policyqa.answer.compose import LIMITS

REPO = Path(__file__).resolve().parents[1]


def fold(text: str) -> str:
    return " ".join(text.split()).lower()


def is_correct(answer, expected: str) -> bool:
    if answer.abstained or not answer.citations:
        return False
    return fold(expected) in fold(answer.text) and fold(expected) in fold(answer.citations[0].passage)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("questions", type=Path)
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        build_index(args.corpus, Path(tmp), log=lambda _m: None)
        idx = open_index(tmp)
        idx.ask("warm up the model")
        scored = []
        for row in rows:
            answer = idx.ask(row["question"], threshold=float("-inf"))
            scored.append(
                (row["answerable"], answer.confidence, row["answerable"] and is_correct(answer, row["answer"]))
            )
        latencies = []
        for _ in range(3):
            for row in rows:
                started = time.perf_counter()
                idx.ask(row["question"])
                latencies.append(time.perf_counter() - started)
    n_yes = sum(a for a, _, _ in scored)
    print(f"{len(rows)} questions: {n_yes} answerable, {len(rows) - n_yes} not")
    print("| threshold | answered correctly | refused correctly | answerable refused |")
    print("|---|---|---|---|")
    for t in np.arange(0.30, 0.71, 0.02):
        good = sum(ok and conf >= t for _, conf, ok in scored)
        refused = sum((not a) and conf < t for a, conf, _ in scored)
        lost = sum(a and conf < t for a, conf, _ in scored)
        mark = " (chosen)" if abs(t - LIMITS.resolved()[0]) < 1e-9 else ""
        print(f"| {t:.2f}{mark} | {good}/{n_yes} | {refused}/{len(rows) - n_yes} | {lost} |")
    print("\nevidence scores: answerable", sorted(round(c, 3) for a, c, _ in scored if a))
    print("evidence scores: unanswerable", sorted(round(c, 3) for a, c, _ in scored if not a))
    print("answerable but wrong even unthresholded:", sum(a and not ok for a, _, ok in scored))
    print(
        f"median ask latency: {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {np.percentile(latencies, 95) * 1000:.0f} ms over {len(latencies)} asks"
    )


if __name__ == "__main__":
    main()
