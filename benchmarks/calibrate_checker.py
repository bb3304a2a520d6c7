"""Choose the generated-sentence checker's floors (content-word overlap, embedding similarity) honestly.

eval/generated_checks.jsonl holds hand-written generated sentences over verbatim quotes from the bundled corpus,
each labelled supported or not (wrong number, wrong name, no citation, wrong quote, unsupported claim). 2-fold:
floors chosen on the odd ids are reported on the even ids and the other way round; the objective is the number
of correct verdicts, ties going to the lower floors (drop fewer good sentences).

    python benchmarks/calibrate_checker.py [eval/generated_checks.jsonl]
"""

from __future__ import annotations

import json
import sys
from itertools import product
from pathlib import Path

import numpy as np

from policyqa.answer.claims import check_sentence, split_sentences
from policyqa.embed.embedder import Embedder

GRID = [round(x, 2) for x in np.arange(0.0, 0.91, 0.05)]


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def prepared(cases: list[dict], embedder: Embedder) -> list[tuple[dict, str, list[int], dict, np.ndarray, dict]]:
    out = []
    for case in cases:
        (sentence, markers), *_ = split_sentences(case["sentence"])
        quotes = {int(n): q for n, q in case["quotes"].items()}
        vectors = embedder.encode_queries([sentence, *quotes.values()])
        out.append((case, sentence, markers, quotes, vectors[0], dict(zip(quotes, vectors[1:], strict=True))))
    return out


def verdicts(items: list, overlap: float, similarity: float) -> list[tuple[dict, bool]]:
    return [(c, check_sentence(s, m, q, v, qv, overlap, similarity).supported) for c, s, m, q, v, qv in items]


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


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "eval/generated_checks.jsonl")
    items = prepared(load(path), Embedder())
    halves = [[i for i in items if i[0]["id"] % 2 == 1], [i for i in items if i[0]["id"] % 2 == 0]]
    chosen, pooled = [], [0, 0, 0, 0]
    for fold, (tune, report) in enumerate([(halves[0], halves[1]), (halves[1], halves[0])], 1):
        floors = best_floors(tune)
        chosen.append(floors)
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
    from policyqa.answer.claims import OVERLAP_FLOOR, SIMILARITY_FLOOR

    caught, bad, passed, good = score(verdicts(items, OVERLAP_FLOOR, SIMILARITY_FLOOR))
    print(
        f"shipped floors overlap {OVERLAP_FLOOR}, similarity {SIMILARITY_FLOOR} on all {len(items)}: "
        f"bad caught {caught}/{bad}, good passed {passed}/{good}"
    )
    for case, ok in verdicts(items, OVERLAP_FLOOR, SIMILARITY_FLOOR):
        if ok != case["supported"]:
            print(f"  wrong verdict ({case['kind']}): {case['sentence']}")


if __name__ == "__main__":
    main()
