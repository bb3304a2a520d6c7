"""Answer quality, refusals, `ask` vs `search` latency and build time: today's code and this one, in one run.

    .venv/bin/python benchmarks/answer_quality.py ../shared/eval/policyqa/dev.json \
        --baseline-src ../policyqa-base/src      # a checkout of the commit to compare with (optional)
    .venv/bin/python benchmarks/answer_quality.py ../shared/eval/policyqa/dev.json \
        --calibrate                                 # choose the refusal limits on one half, report on the other

Sets: eval/bundled_questions.jsonl (answerable: correct when the answer text holds the expected text; near-miss and
off-topic: should be refused) and PolicyQA dev (all answerable, each question asked within its policy: a refusal
there is a false refusal; "covered" = some citation holds at least half of a gold span). The baseline runs this
same script in a subprocess on the other source tree (its `Answer` has no `state`: refused = abstained).
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
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policyqa_data import Question, covers, write_policies  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "eval" / "bundled_questions.jsonl"


def fold(text: str) -> str:
    return " ".join(text.split()).lower()


def state_of(answer: Any) -> str:
    return getattr(answer, "state", "refused" if answer.abstained else "answered")


def bundled_rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in BUNDLED.read_text(encoding="utf-8").splitlines() if line.strip()]


def kind_of(row: dict[str, Any]) -> str:
    return "answerable" if row["answerable"] else ("off-topic" if row.get("kind") == "off-topic" else "near-miss")


def bundled_outcome(row: dict[str, Any], answer: Any) -> bool:
    """Right for its kind: an answerable question answered with the expected text, others refused."""
    if row["answerable"]:  # "unsure" only shows the closest evidence: it is not an answer
        return state_of(answer) in ("answered", "partial") and fold(row["answer"]) in fold(answer.text)
    return state_of(answer) in ("unsure", "refused")


def policy_outcome(question: Question, answer: Any) -> tuple[bool, bool]:
    """(refused, some citation covers at least half of a gold span)."""
    refused = state_of(answer) == "refused"
    covered = any(covers(c.start, c.end, span) for c in answer.citations for span in question.spans)
    return refused, covered


def summarise(bundled: list[tuple[dict[str, Any], bool, str]], policy: list[tuple[bool, bool, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("near-miss", "off-topic", "answerable"):
        rows = [(ok, st) for row, ok, st in bundled if kind_of(row) == kind]
        out[kind] = {
            "n": len(rows),
            "right": sum(ok for ok, _ in rows),
            "partial": sum(st == "partial" for _, st in rows),
        }
    out["policyqa"] = {
        "n": len(policy),
        "refused": sum(r for r, _, _ in policy),
        "partial": sum(st == "partial" for _, _, st in policy),
        "covered": sum(c for _, c, _ in policy),
    }
    return out


def measure(
    dev: Path, limit: int | None, timed: int, limits_file: Path | None = None, build: dict[str, Any] | None = None
) -> dict[str, Any]:
    from policyqa import build_index, open_index

    build = build or {}

    options: dict[str, Any] = {}
    if limits_file:  # limits just calibrated, before they become the default
        from policyqa.answer.compose import Limits

        raw = json.loads(limits_file.read_text())
        options["limits"] = Limits(raw["threshold"], raw.get("unsure"))

    rows = bundled_rows()
    with tempfile.TemporaryDirectory() as tmp:
        corpus, questions = Path(tmp) / "policies", write_policies(dev, Path(tmp) / "policies")
        questions = questions[::limit] if limit else questions
        build_index(REPO / "corpus", Path(tmp) / "bundled", log=lambda _m: None, **build)  # also warms the model up
        builds = []
        for n in range(2):
            started = time.perf_counter()
            build_index(corpus, Path(tmp) / f"policyqa{n}", log=lambda _m: None, **build)
            builds.append(time.perf_counter() - started)
        idx = open_index(Path(tmp) / "bundled")
        idx.ask("warm up")
        bundled = []
        for row in rows:
            answer = idx.ask(row["question"], **options)
            bundled.append((row, bundled_outcome(row, answer), state_of(answer)))
        pidx = open_index(Path(tmp) / "policyqa0")
        policy = []
        for q in questions:
            answer = pidx.ask(q.text, doc_ids=[q.doc_id], **options)
            policy.append((*policy_outcome(q, answer), state_of(answer)))
        search_ms, ask_ms = [], []
        for i, q in enumerate(questions[:timed]):
            for name in ("search", "ask") if i % 2 else ("ask", "search"):  # alternate the order
                started = time.perf_counter()
                getattr(pidx, name)(q.text, doc_ids=[q.doc_id], **(options if name == "ask" else {}))
                (search_ms if name == "search" else ask_ms).append(1000 * (time.perf_counter() - started))
    return {
        **summarise(bundled, policy),
        "build_s": statistics.median(builds),
        "search_p50_ms": statistics.median(search_ms),
        "ask_p50_ms": statistics.median(ask_ms),
        "ask_p95_ms": float(np.percentile(ask_ms, 95)),
        "timed": len(ask_ms),
    }


def pct(a: int, n: int) -> str:
    return f"{a}/{n} ({100 * a / max(n, 1):.0f}%)"


def table(results: dict[str, dict[str, Any]]) -> str:
    lines = ["| measure | target | " + " | ".join(results) + " |", "|---|---|" + "---|" * len(results)]

    def row(name: str, target: str, fn: Any) -> None:
        lines.append(f"| {name} | {target} | " + " | ".join(fn(r) for r in results.values()) + " |")

    row("bundled near-miss refused", "≥ 85%", lambda r: pct(r["near-miss"]["right"], r["near-miss"]["n"]))
    row("(near-miss given as partial)", "", lambda r: str(r["near-miss"]["partial"]))
    row("bundled off-topic refused", "100%", lambda r: pct(r["off-topic"]["right"], r["off-topic"]["n"]))
    row("bundled answerable answered correctly", "≥ 95%", lambda r: pct(r["answerable"]["right"], r["answerable"]["n"]))
    row("PolicyQA false refusals", "≤ 5%", lambda r: pct(r["policyqa"]["refused"], r["policyqa"]["n"]))
    row("PolicyQA partial", "", lambda r: pct(r["policyqa"]["partial"], r["policyqa"]["n"]))
    row("PolicyQA citation covers ≥ ½ gold span", "≥ 30%", lambda r: pct(r["policyqa"]["covered"], r["policyqa"]["n"]))
    row("search p50 ms (in-process)", "", lambda r: f"{r['search_p50_ms']:.1f}")
    row("ask p50 ms (in-process)", "", lambda r: f"{r['ask_p50_ms']:.1f}")
    row("ask p50 / search p50", "≤ 2x", lambda r: f"{r['ask_p50_ms'] / r['search_p50_ms']:.2f}x")
    row("ask p95 ms", "", lambda r: f"{r['ask_p95_ms']:.1f}")
    row("PolicyQA full build s (median of 2)", "", lambda r: f"{r['build_s']:.2f}")
    if len(results) == 2:
        base, new = results.values()
        lines.append(f"| build / baseline build | ≤ 1.3x | | {new['build_s'] / base['build_s']:.2f}x |")
    return "\n".join(lines)


# --- calibration ------------------------------------------------------------------------------------------------


def calibrate(dev: Path, limit: int | None, out: Path | None, build: dict[str, Any] | None = None) -> None:
    raise SystemExit(
        "the hand-set limits this calibrated are gone (issue 23): the answerability scorer and its limits are trained "
        "and calibrated by benchmarks/train_scorer.py"
    )


def table_small(results: dict[str, dict[str, Any]]) -> str:
    lines = ["| measure | " + " | ".join(results) + " |", "|---|" + "---|" * len(results)]
    for name, fn in (
        ("near-miss refused", lambda r: pct(r["near-miss"]["right"], r["near-miss"]["n"])),
        ("off-topic refused", lambda r: pct(r["off-topic"]["right"], r["off-topic"]["n"])),
        ("answerable correct", lambda r: pct(r["answerable"]["right"], r["answerable"]["n"])),
        ("PolicyQA false refusals", lambda r: pct(r["policyqa"]["refused"], r["policyqa"]["n"])),
        ("PolicyQA covered", lambda r: pct(r["policyqa"]["covered"], r["policyqa"]["n"])),
    ):
        lines.append(f"| {name} | " + " | ".join(fn(r) for r in results.values()) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dev", type=Path, help="PolicyQA dev.json")
    parser.add_argument("--baseline-src", type=Path, help="the src/ folder of the code to compare with")
    parser.add_argument("--limit", type=int, help="only every Nth PolicyQA question (all policies stay in)")
    parser.add_argument("--timed", type=int, default=300, help="PolicyQA questions timed for ask vs search")
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--limits-out", type=Path, help="with --calibrate: write the limits chosen on the whole set")
    parser.add_argument("--limits", type=Path, help="measure with these limits (a --limits-out file), not the default")
    parser.add_argument(
        "--sentence-vectors", choices=["late", "separate"], help="how the build makes sentence vectors (default: its)"
    )
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # the baseline subprocess
    args = parser.parse_args()
    build = {"sentence_vectors": args.sentence_vectors} if args.sentence_vectors else {}
    if args.calibrate:
        calibrate(args.dev, args.limit, args.limits_out, build)
        return
    if args.json:
        print(json.dumps(measure(args.dev, args.limit, args.timed)))
        return
    results: dict[str, dict[str, Any]] = {}
    if args.baseline_src:
        env = {**os.environ, "PYTHONPATH": str(args.baseline_src.resolve())}
        command = [sys.executable, __file__, str(args.dev), "--json", "--timed", str(args.timed)]
        command += ["--limit", str(args.limit)] if args.limit else []
        out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
        results["today (baseline)"] = json.loads(out.strip().splitlines()[-1])
    results["this branch"] = measure(args.dev, args.limit, args.timed, args.limits, build)
    print(table(results))


if __name__ == "__main__":
    main()
