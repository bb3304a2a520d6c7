"""MaxSim of the question's token states over each candidate sentence's, as answer-scorer features: does it help,
and what would it cost at query time? (issue 23; measured, not shipped)

    .venv/bin/python benchmarks/maxsim_probe.py [--policyqa ../shared/eval/policyqa/dev.json] [--indexes DIR]
    .venv/bin/python benchmarks/maxsim_probe.py --cost-only   # the timed part alone

The questions, near misses, folds and nested limit choice are train_scorer.py's (it builds the indexes; run it first
or let this build them). For each candidate quote `analyse` finds, four features are added to the shipped 35: over the
question part's terms, each term's best cosine between its token state (the question encoded alone) and a word of the
sentence (the sentence encoded alone; a word's sub-word states pooled): their IDF-weighted mean, their least, the
least over plain (non-name) terms, and the focus term's (the weightiest plain one). Token states come from the
project's embedder (`Embedder.encode_late` over word spans: the loaded model, no second one). Prints the nested
out-of-fold figures with and without them at each L2, PolicyQA dev's first quote by each model (never trained on),
and the cost of the token-state pass per question against `search`'s p50 on the bundled index.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scorer_folds as folds  # noqa: E402
import train_scorer as ts  # noqa: E402

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


def recorded_gather(indexes: Path, policyqa: Path | None) -> tuple[list, list, list[Any]]:
    """train_scorer.gather, keeping each analysis (in call order: one per case, then one per PolicyQA question)."""
    from policyqa.api import PolicyIndex

    seen: list[Any] = []
    original = PolicyIndex.analyse

    def keep(self: PolicyIndex, question: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(original(self, question, *args, **kwargs))
        return seen[-1]

    PolicyIndex.analyse = keep  # type: ignore[method-assign]
    try:
        cases, evaluation = ts.gather(indexes, policyqa)
    finally:
        PolicyIndex.analyse = original  # type: ignore[method-assign]
    assert len(seen) == len(cases) + len(evaluation)
    return cases, evaluation, seen


def token_states(embedder: Any, texts: list[str]) -> dict[str, tuple[list[str], np.ndarray]]:
    """Each text's words and their unit token states (sub-word states pooled per word), the text encoded alone."""
    out = {}
    unique = sorted(set(texts))
    for i in range(0, len(unique), 64):
        batch = unique[i : i + 64]
        spans = [[m.span() for m in WORD.finditer(t)] for t in batch]
        _, pooled = embedder.encode_late(batch, spans)
        for text, text_spans, states in zip(batch, spans, pooled, strict=True):
            out[text] = ([text[a:b] for a, b in text_spans], np.nan_to_num(states))
    return out


def maxsim(states: dict, question: str, part: Any, sentence: str) -> list[float]:
    asked, q = states[question]
    _, s = states[sentence]
    rows, weights, names = [], [], []
    for term in part.terms:
        at = [i for i, w in enumerate(asked) if w.lower() == term.word.lower()]
        if at:
            rows.append(q[at[0]])
            weights.append(term.weight)
            names.append(term.is_name)
    if not rows or not len(s):
        return [0.0, 0.0, 0.0, 0.0]
    best = (np.array(rows) @ s.T).max(1)
    w, plain = np.array(weights), ~np.array(names)
    focus = float(best[plain][np.argmax(w[plain])]) if plain.any() else 1.0
    return [float(best @ w / w.sum()), float(best.min()), float(best[plain].min()) if plain.any() else 1.0, focus]


def with_maxsim(cases: list, analyses: list, states: dict) -> list:
    out = []
    for case, analysis in zip(cases, analyses, strict=True):
        extra = [maxsim(states, analysis.question, p.part, analysis.sentences[w.sentence].text)
                 for p in analysis.parts for w in p.windows]
        rows = [row + more for row, more in zip(case.rows, extra, strict=True)]
        out.append(ts.Case(case.question, case.group, case.answerable, rows, case.labels, case.source))
    return out


def nested_figures(cases: list, l2: float) -> str:
    from policyqa.answer.features import NAMES

    def fit(train: list):
        model = ts.train("logistic", *ts.stack(train), l2)
        return lambda rows: ts.predict(model, rows)

    def written(s: folds.Scored) -> bool:
        return not s.case.source.endswith("constructed")

    scored = folds.out_of_fold(cases, fit, NAMES.index("expects_type"))
    decided, chosen = folds.nested(scored, False, written)
    right = {src: sum(s.ok for s, a in decided if a and s.case.answerable and s.case.source == src)
             for src in ("bundled", "realdocs")}
    answered = [s for s, a in decided if a and written(s)]
    wrong = sum(not s.ok for s in answered)
    return (f"{sum(right.values())}/154 answerable answered right (bundled {right['bundled']}/62, real documents "
            f"{right['realdocs']}/92), hand-written answered wrong {wrong}/{len(answered)} "
            f"({wrong / max(len(answered), 1):.1%}); limits per fold {[c[False] for c in chosen]}")


def first_quote(train: list, evaluation: list, l2: float) -> float:
    model = ts.train("logistic", *ts.stack(train), l2)
    return sum(c.labels[int(np.argmax(ts.predict(model, c.rows)))] for c in evaluation if c.rows) / len(evaluation)


def cost(idx: Any, questions: list[str]) -> None:
    searched, passes, sentences = [], [], []
    for question in questions:
        started = time.perf_counter()
        idx.search(question, k=5)
        searched.append(time.perf_counter() - started)
        analysis = idx.analyse(question)
        texts = sorted({analysis.sentences[w.sentence].text for p in analysis.parts for w in p.windows})
        spans = [[m.span() for m in WORD.finditer(t)] for t in [question, *texts]]
        started = time.perf_counter()
        idx.embedder.encode_late([question, *texts], spans)
        passes.append(time.perf_counter() - started)
        sentences.append(len(texts))
    s, t, n = statistics.median(searched) * 1000, statistics.median(passes) * 1000, statistics.median(sentences)
    print(f"\ncost over {len(questions)} bundled questions: search p50 {s:.1f} ms; the token-state pass alone "
          f"(question + {n:.0f} candidate sentences) p50 {t:.1f} ms = {t / s:.1f}x search's p50")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policyqa", type=Path, default=None, help="PolicyQA dev.json: evaluated, never trained on")
    parser.add_argument("--indexes", type=Path, default=Path(tempfile.gettempdir()) / "pqa_idx")
    parser.add_argument("--cost-only", action="store_true", help="only the timed token-state pass against search")
    parser.add_argument("--figures-only", action="store_true", help="only the nested figures (nothing timed)")
    args = parser.parse_args()
    from policyqa import open_index
    from policyqa.answer.features import NAMES

    idx = open_index(args.indexes / "bundled")
    if args.cost_only:
        rows = [json.loads(line) for line in ts.QUESTION_FILES[0][1].read_text(encoding="utf-8").splitlines() if line]
        idx.ask("warm up")
        cost(idx, [r["question"] for r in rows])
        return
    ts.placeholder_model(list(NAMES))
    cases, evaluation, analyses = recorded_gather(args.indexes, args.policyqa)
    texts = [a.question for a in analyses] + [a.sentences[w.sentence].text for a in analyses
                                              for p in a.parts for w in p.windows]
    states = token_states(idx.embedder, texts)
    plus = with_maxsim(cases, analyses[: len(cases)], states)
    plus_eval = with_maxsim(evaluation, analyses[len(cases):], states)
    print("nested out of fold (train_scorer.py's folds and limit choice), logistic regression:")
    for l2 in ts.L2_CHOICES:
        print(f"  l2 {l2}, shipped features: {nested_figures(cases, l2)}")
        print(f"  l2 {l2}, + MaxSim:         {nested_figures(plus, l2)}")
        if evaluation:
            print(f"  PolicyQA dev first quote covers the gold span: shipped features "
                  f"{first_quote(cases, evaluation, l2):.1%}, + MaxSim {first_quote(plus, plus_eval, l2):.1%}")
    if not args.figures_only:
        cost(idx, [c.question for c in cases if c.source in ("bundled", "bundled-off-topic")])


if __name__ == "__main__":
    main()
