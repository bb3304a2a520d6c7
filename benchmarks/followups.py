"""Follow-up questions asked alone vs expanded with the previous question's subject (policyqa.search.followup).

    .venv/bin/python benchmarks/followups.py [--pairs eval/followups.jsonl]

Builds an index of corpus/ in a temp folder. For each hand-written (previous, follow-up, answer) pair: is the
answer (whitespace-folded) in the top-1 / top-3 retrieved chunks, and in the extractive answer's text? The last
row is what the UI does (policyqa.search.followup.best_answer); its hit@k are those of the query its answer came from.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from policyqa import build_index, open_index
from policyqa.search.followup import best_answer, expand_followup

REPO = Path(__file__).resolve().parents[1]


def fold(text: str) -> str:
    return " ".join(text.split()).lower()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", default=str(REPO / "eval" / "followups.jsonl"))
    args = parser.parse_args()
    pairs = [json.loads(line) for line in Path(args.pairs).read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory(prefix="policyqa-followups-") as tmp:
        build_index(REPO / "corpus", Path(tmp), progress=False, log=lambda _m: None)
        index = open_index(tmp)
        scores = {"alone": [0, 0, 0], "expanded": [0, 0, 0], "expanded, or as asked if stronger (UI)": [0, 0, 0]}
        expanded_count = 0
        for pair in pairs:
            expansion = expand_followup(pair["followup"], pair["previous"])
            expanded_count += expansion.expanded
            gold = fold(pair["answer"])
            shipped = best_answer(lambda text: index.ask(text, k=5), expansion)[1]
            runs = (("alone", pair["followup"]), ("expanded", expansion.query), (list(scores)[2], shipped))
            for name, query in runs:
                hits = index.search(query, k=3)
                answer = index.ask(query, k=5)
                row = scores[name]
                row[0] += bool(hits) and gold in fold(hits[0].text)
                row[1] += any(gold in fold(h.text) for h in hits)
                row[2] += (not answer.abstained) and gold in fold(answer.text)
    n = len(pairs)
    print(f"`.venv/bin/python benchmarks/followups.py` — {n} pairs, {expanded_count} expanded\n")
    print("| follow-up asked | hit@1 | hit@3 | answer contains it |\n|---|---|---|---|")
    for name, (h1, h3, answered) in scores.items():
        print(f"| {name} | {h1 / n:.2f} | {h3 / n:.2f} | {answered / n:.2f} |")


if __name__ == "__main__":
    main()
