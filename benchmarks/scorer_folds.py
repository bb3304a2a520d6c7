"""Cross-validation over documents for the answerability scorer (used by train_scorer.py).

Every figure is out of fold: a question's P comes from a model fitted without its fold (its document, or for the
one-document bundled corpus, the question with its near misses), and the `answered` limit applied to a fold is
chosen on the other folds' out-of-fold P ("nested"), so the coverage reported was not the one the limit was tuned on.
The limits are chosen on the hand-written questions only: their mix of answerable and unanswerable is the one users
ask; the constructed near misses (two or three per answerable question) train the model but would make the 5%-risk
limit answer for a world where most questions are near misses.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

TARGET_RISK = 0.05
FOLDS = 5
MIN_ANSWERED = 10  # a limit is judged on at least this many answered questions, so one lucky question cannot decide


@dataclass
class Scored:
    case: Any  # train_scorer.Case
    p: float  # P of the question's most probable quote
    ok: bool  # that quote holds the answer
    fold: int
    typed: bool  # the question expects a number, date, name or place


def best_of(labels: Sequence[int], p: np.ndarray) -> tuple[float, bool]:
    if not len(p):
        return 0.0, False
    i = int(np.argmax(p))
    return float(p[i]), bool(labels[i])


def fold_of(groups: set[str], seed: int = 7) -> dict[str, int]:
    ordered = sorted(groups)
    random.Random(seed).shuffle(ordered)
    return {g: n % FOLDS for n, g in enumerate(ordered)}


def out_of_fold(cases: list, fit: Callable[[list], Callable[[list], np.ndarray]], typed: int) -> list[Scored]:
    """`fit(train_cases)` returns a predictor of one case's rows; `typed` is the column of the expects-type flag."""
    folds = fold_of({c.group for c in cases})
    scored = []
    for k in range(FOLDS):
        predict = fit([c for c in cases if folds[c.group] != k])
        for c in cases:
            if folds[c.group] == k:
                p, ok = best_of(c.labels, predict(c.rows))
                scored.append(Scored(c, p, ok, k, bool(c.rows and c.rows[0][typed] > 0.5)))
    return scored


def choose(scored: list[Scored]) -> float:
    """The least P limit whose answered questions are wrong at most TARGET_RISK of the time."""
    answer = 0.99
    for t in np.arange(0.99, 0.04, -0.01):
        answered = [s.ok for s in scored if s.p >= t]
        if len(answered) >= MIN_ANSWERED and answered.count(False) / len(answered) <= TARGET_RISK:
            answer = float(t)
    return round(answer, 2)


def choose_limits(scored: list[Scored], by_type: bool) -> dict[bool, float]:
    """One limit, or one for typed questions and one for the rest."""
    if not by_type:
        one = choose(scored)
        return {True: one, False: one}
    return {kind: choose([s for s in scored if s.typed == kind]) for kind in (True, False)}


def nested(
    scored: list[Scored], by_type: bool, calibrate: Callable[[Scored], bool] = lambda _s: True
) -> tuple[list[tuple[Scored, bool]], list[dict[bool, float]]]:
    """Each fold answered with the limits chosen on the other folds (on their questions `calibrate` keeps)."""
    out, chosen = [], []
    for k in range(FOLDS):
        limits = choose_limits([s for s in scored if s.fold != k and calibrate(s)], by_type)
        chosen.append(limits)
        out += [(s, s.p >= limits[s.typed]) for s in scored if s.fold == k]
    return out, chosen


def doubly_nested(
    cases: list,
    settings: Sequence[tuple],
    fitter: Callable[[tuple], Callable[[list], Callable[[list], np.ndarray]]],
    typed: int,
    calibrate: Callable[[Scored], bool],
) -> tuple[list[tuple[Scored, bool]], list[tuple[tuple, dict[bool, float]]]]:
    """Each fold answered by a model whose setting (the last item of a setting: limits by type) was chosen, and whose
    limits were set, on the other folds alone: within them, by the nested figures `nested` gives (answerable answered
    right, less 3 for each hand-written answer wrong beyond 5%), then fitted on all of them."""
    folds = fold_of({c.group for c in cases})
    out, picks = [], []
    for k in range(FOLDS):
        train = [c for c in cases if folds[c.group] != k]
        best: tuple[float, tuple, list[Scored]] | None = None
        for setting in settings:
            scored = out_of_fold(train, fitter(setting), typed)
            decided, _ = nested(scored, setting[-1], calibrate)
            right = sum(s.ok for s, a in decided if a and s.case.answerable)
            wrong = sum(not s.ok for s, a in decided if a and calibrate(s))
            score = right - 3 * max(0, wrong - TARGET_RISK * (right + wrong))
            if best is None or score > best[0]:
                best = (score, setting, scored)
        assert best is not None
        _, setting, scored = best
        limits = choose_limits([s for s in scored if calibrate(s)], setting[-1])
        predict = fitter(setting)(train)
        for c in cases:
            if folds[c.group] == k:
                p, ok = best_of(c.labels, predict(c.rows))
                s = Scored(c, p, ok, k, bool(c.rows and c.rows[0][typed] > 0.5))
                out.append((s, s.p >= limits[s.typed]))
        picks.append((setting, limits))
    return out, picks


def summary(label: str, decided: list[tuple[Scored, bool]]) -> str:
    n = len(decided)
    yes = [s for s, _ in decided if s.case.answerable]
    no = [s for s, _ in decided if not s.case.answerable]
    answered = [s for s, a in decided if a]
    wrong = sum(not s.ok for s in answered)
    right = sum(s.ok for s, a in decided if a and s.case.answerable)
    kept = sum(not a for s, a in decided if not s.case.answerable)
    return (f"| {label} | {len(answered)}/{n} ({len(answered) / max(n, 1):.0%}) | {wrong} "
            f"({wrong / max(len(answered), 1):.1%}) | {right}/{len(yes)} ({right / max(len(yes), 1):.0%}) | "
            + (f"{kept}/{len(no)} ({kept / len(no):.0%}) |" if no else "— |"))


HEADER = ("| {} | answered | answered and wrong | answerable answered right | unanswerable not answered |\n"
          "|---|---|---|---|---|")


def table(scored: list[Scored], limits: list[float]) -> list[str]:
    rows = [HEADER.format("P limit")]
    for t in limits:
        rows.append(summary(f"{t:.2f}", [(s, s.p >= t) for s in scored]))
    return rows
