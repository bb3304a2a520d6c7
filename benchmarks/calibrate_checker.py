"""Choose the generated-sentence checker's floors (content-word overlap, embedding similarity) honestly, and
measure the checker per kind of bad sentence on a held-out set.

eval/generated_checks.jsonl holds hand-written generated sentences over quotes (verbatim from the bundled corpus,
or made up: "made_up": true), each labelled supported or not (wrong number, wrong name, no citation, wrong quote,
unsupported claim, negation, swapped number, swapped date, antonym, restated prompt injection). 2-fold: floors
chosen on the odd ids are reported on the even ids and the other way round; the objective is the number of
correct verdicts, ties going to the lower floors (drop fewer good sentences).

eval/generated_checks_heldout.jsonl is never used for tuning (floors, antonym list, patterns): `--heldout` reports
on it, per kind, with the shipped floors, next to the checker as it was at b39928a (before the contradiction
rules), and writes the table as Markdown with `--out`; `--batch 2` reports only the pairs written after the
fixes that batch 1's first run prompted.

    python benchmarks/calibrate_checker.py [eval/generated_checks.jsonl]
    python benchmarks/calibrate_checker.py --heldout eval/generated_checks_heldout.jsonl \
        --out BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import json
import subprocess
import types
from collections import defaultdict
from itertools import product
from pathlib import Path

import numpy as np

from policyqa.answer.claims import (
    OVERLAP_FLOOR,
    SIMILARITY_FLOOR,
    check_answer,
    check_sentence,
    evidence_quotes,
    split_sentences,
)
from policyqa.embed.embedder import Embedder

GRID = [round(x, 2) for x in np.arange(0.0, 0.91, 0.05)]
BEFORE = "b39928a"  # the commit the issue-24 probe ran on: no contradiction or instruction rules
REPO = Path(__file__).resolve().parents[1]


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def prepared(cases: list[dict], embedder: Embedder) -> list[tuple]:
    """(case, sentence, markers, evidence quotes, sentence vector, quote vectors, instructions) per case."""
    out = []
    for case in cases:
        (sentence, markers), *_ = split_sentences(case["sentence"])
        evidence, instructions = evidence_quotes({int(n): q for n, q in case["quotes"].items()})
        kept = [n for n in evidence if evidence[n]]
        vectors = embedder.encode_queries([sentence, *(evidence[n] for n in kept)])
        quote_vectors = dict(zip(kept, vectors[1:], strict=True))
        out.append((case, sentence, markers, evidence, vectors[0], quote_vectors, instructions))
    return out


def verdicts(items: list, overlap: float, similarity: float) -> list[tuple[dict, bool]]:
    return [(c, check_sentence(s, m, q, v, qv, overlap, similarity, ins).supported) for c, s, m, q, v, qv, ins in items]


def score(results: list[tuple[dict, bool]]) -> tuple[int, int, int, int]:
    """(bad caught, bad total, good passed, good total)."""
    bad = [ok for c, ok in results if not c["supported"]]
    good = [ok for c, ok in results if c["supported"]]
    return sum(not ok for ok in bad), len(bad), sum(good), len(good)


def best_floors(items: list) -> tuple[float, float]:
    def key(floors: tuple[float, float]) -> tuple[int, float]:
        caught, _, passed, _ = score(verdicts(items, *floors))
        return caught + passed, -sum(floors)

    return max(product(GRID, GRID), key=key)


def calibrate(path: Path, embedder: Embedder) -> None:
    items = prepared(load(path), embedder)
    halves = [[i for i in items if i[0]["id"] % 2 == 1], [i for i in items if i[0]["id"] % 2 == 0]]
    pooled = [0, 0, 0, 0]
    for fold, (tune, report) in enumerate([(halves[0], halves[1]), (halves[1], halves[0])], 1):
        floors = best_floors(tune)
        caught, bad, passed, good = score(verdicts(report, *floors))
        pooled = [a + b for a, b in zip(pooled, (caught, bad, passed, good), strict=True)]
        print(
            f"fold {fold}: floors overlap {floors[0]:.2f}, similarity {floors[1]:.2f} (tuned on {len(tune)}); "
            f"held out: bad caught {caught}/{bad}, good passed {passed}/{good}"
        )
    print(
        f"cross-validated (held-out halves pooled): bad caught {pooled[0]}/{pooled[1]}, "
        f"good passed {pooled[2]}/{pooled[3]}"
    )
    caught, bad, passed, good = score(verdicts(items, OVERLAP_FLOOR, SIMILARITY_FLOOR))
    print(
        f"shipped floors overlap {OVERLAP_FLOOR}, similarity {SIMILARITY_FLOOR} on all {len(items)}: "
        f"bad caught {caught}/{bad}, good passed {passed}/{good}"
    )
    for case, ok in verdicts(items, OVERLAP_FLOOR, SIMILARITY_FLOOR):
        if ok != case["supported"]:
            print(f"  wrong verdict ({case['kind']}): {case['sentence']}")


def checker_before() -> types.ModuleType:
    """claims.py as it was at BEFORE, loaded from git (the baseline column)."""
    source = subprocess.run(
        ["git", "show", f"{BEFORE}:src/policyqa/answer/claims.py"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    module = types.ModuleType("claims_before")
    exec(compile(source, f"{BEFORE}:claims.py", "exec"), module.__dict__)  # noqa: S102 - our own file from git
    return module


def heldout(path: Path, out: Path | None, embedder: Embedder, batch: int | None = None) -> None:
    cases = [c for c in load(path) if batch is None or c.get("batch", 1) == batch]
    before = checker_before()
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # total, rejected now, rejected before
    notes = []
    for case in cases:
        quotes = {int(n): q for n, q in case["quotes"].items()}
        (now,) = check_answer(case["sentence"], quotes, embedder.encode_queries)
        (then,) = before.check_answer(case["sentence"], quotes, embedder.encode_queries)
        row = rows[case["kind"]]
        row[0] += 1
        row[1] += not now.supported
        row[2] += not then.supported
        if now.supported != case["supported"]:
            verdict = "passed" if now.supported else "rejected: " + "; ".join(now.problems)
            notes.append(f'- {case["kind"]}, id {case["id"]}: "{case["sentence"]}" {verdict}')
    lines = [
        f"Generated-sentence check on the held-out set ({path.name}"
        + (f", batch {batch}" if batch else "")
        + f", {len(cases)} hand-written sentences, never "
        f"used for tuning), shipped floors overlap {OVERLAP_FLOOR}, similarity {SIMILARITY_FLOOR}; 'before' is the "
        f"checker at {BEFORE}.",
        "",
        "| kind | sentences | caught now | caught before |",
        "| --- | ---: | ---: | ---: |",
    ]
    bad_kinds = [k for k in rows if k != "good"]
    for kind in bad_kinds:
        total, now, then = rows[kind]
        lines.append(f"| {kind} | {total} | {now}/{total} | {then}/{total} |")
    total = sum(rows[k][0] for k in bad_kinds)
    lines.append(
        f"| all contradictions | {total} | {sum(rows[k][1] for k in bad_kinds)}/{total} | "
        f"{sum(rows[k][2] for k in bad_kinds)}/{total} |"
    )
    good = rows["good"]
    lines += [
        "",
        "| good sentences | sentences | wrongly rejected now | wrongly rejected before |",
        "| --- | ---: | ---: | ---: |",
        f"| good | {good[0]} | {good[1]}/{good[0]} | {good[2]}/{good[0]} |",
        "",
        "Wrong verdicts now:",
        *notes,
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if out:
        out.write_text(text, "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default="eval/generated_checks.jsonl")
    parser.add_argument("--heldout", type=Path, help="report per kind on this held-out set instead of calibrating")
    parser.add_argument("--out", type=Path, help="write the held-out table (Markdown) here")
    parser.add_argument("--batch", type=int, help="only this batch of the held-out set (1: ids 1-72, 2: ids 73-)")
    args = parser.parse_args()
    embedder = Embedder()
    if args.heldout:
        heldout(args.heldout, args.out, embedder, args.batch)
    else:
        calibrate(Path(args.path), embedder)


if __name__ == "__main__":
    main()
