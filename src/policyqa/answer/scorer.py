"""The answerability scorer: P(this quote answers this question part), from a logistic regression or a few boosted
trees over `answer.features`.

The weights, the feature scaling and the two decision limits live in scorer_model.json next to this file (written by
benchmarks/train_scorer.py; no pickle). `answered` needs P >= limits.answer (chosen so that at most 5% of held-out
answered questions were wrong; a part that expects a number, date, name or place has its own limit, answer_typed);
below it the closest evidence is `unsure` when some passage is a close match (P(a close match) >= close_match, the
limit search uses too), else `refused`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from policyqa.answer.features import NAMES
from policyqa.errors import PolicyQAError

MODEL_FILE = Path(__file__).with_name("scorer_model.json")


@dataclass(frozen=True)
class Tree:
    """One regression tree of a boosted model: node arrays as scikit-learn's tree_ holds them (-1: a leaf)."""

    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]

    def predict(self, row: list[float]) -> float:
        node = 0
        while self.left[node] >= 0:
            node = self.left[node] if row[self.feature[node]] <= self.threshold[node] else self.right[node]
        return self.value[node]


@dataclass(frozen=True)
class Scorer:
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    answer: float  # least P of an `answered` quote
    search_weights: tuple[float, float, float]  # bias, best sentence cosine, coverage → P(a passage is a close match)
    trees: tuple[Tree, ...] = ()  # a boosted model instead of the logistic one, when the training chose it
    base: float = 0.0  # the boosted model's starting log-odds
    rate: float = 0.0  # ... and its learning rate
    close_match: float = 0.5  # a passage at least this probable is a close match (search says when none is)
    answer_typed: float | None = None  # the `answered` limit of a part that expects a number, date, name or place

    def probability(self, row: list[float]) -> float:
        if self.trees:
            z = self.base + self.rate * sum(t.predict(row) for t in self.trees)
        else:
            z = sum(w * (x - m) / s for w, x, m, s in zip(self.weights, row, self.mean, self.scale, strict=True))
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))

    def passage_probability(self, dense: float, cover: float) -> float:
        b, a, c = self.search_weights
        z = b + a * dense + c * cover
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


@lru_cache(maxsize=4)
def load_scorer(path: Path = MODEL_FILE) -> Scorer:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PolicyQAError(f"the answer scorer model {path} cannot be read ({exc}); reinstall policyqa") from exc
    if raw.get("features") != list(NAMES):
        raise PolicyQAError(f"the answer scorer model {path} was trained on other features; retrain it")
    return Scorer(
        tuple(raw["mean"]),
        tuple(raw["scale"]),
        tuple(raw["weights"]),
        float(raw["limits"]["answer"]),
        tuple(raw["search"]),  # type: ignore[arg-type]
        tuple(
            Tree(tuple(t["feature"]), tuple(t["threshold"]), tuple(t["left"]), tuple(t["right"]), tuple(t["value"]))
            for t in raw.get("trees", [])
        ),
        float(raw.get("base", 0.0)),
        float(raw.get("rate", 0.0)),
        float(raw.get("close_match", 0.5)),
        float(raw["limits"].get("answer_typed", raw["limits"]["answer"])),
    )


def close_match() -> float:
    """The least P(a close match) of a search hit that reads as one."""
    return load_scorer().close_match


def any_close_match(scores: Iterable[float]) -> bool:
    """Whether some hit reads as a close match (what search says when none does)."""
    return any(score >= close_match() for score in scores)
