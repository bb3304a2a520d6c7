"""Train the answerability scorer (src/policyqa/answer/scorer_model.json) and print its risk–coverage tables.

    .venv/bin/python benchmarks/train_scorer.py [--policyqa ../shared/eval/policyqa/dev.json] [--indexes /tmp/idx]

Training pairs (all openly licensed): every candidate quote `analyse` finds for the hand-written questions of
eval/bundled_questions.jsonl (bundled corpus) and eval/realdocs/questions.jsonl (public-domain / CC documents),
labelled 1 when it holds the expected answer; plus near misses made by construction from each answerable question
(its rarest name, or its focus word, swapped for a word of another document that this one never uses), all labelled
0. PolicyQA dev is only evaluated (its licence allows no training). Folds: real documents by document, bundled
questions (one document) by question with their near misses; every figure is out of fold. The `answered` limit is
the least P whose out-of-fold answered-and-wrong share is at most 5%. The close-match limit (below it `ask` refuses and
search says nothing is close) lies midway between the best passage P of the off-topic questions and the least of
the answerable ones: the widest margin on the training questions. Numbers only: no document text is written.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "src" / "policyqa" / "answer" / "scorer_model.json"
TARGET_RISK = 0.05
FOLDS = 5
TREES, RATE = 120, 0.1


@dataclass
class Case:
    question: str
    group: str  # the fold unit: a document (real documents) or a question and its near misses (bundled)
    answerable: bool
    rows: list[list[float]]  # one per candidate quote
    labels: list[int]
    source: str


def fold(text: str) -> str:
    return " ".join(text.split()).lower()


def holds(quote: str, answer: str) -> bool:
    """The quote holds the expected answer: verbatim, or (a long answer, written in other words or cut across lines)
    at least 70% of its words."""
    q, a = fold(quote), fold(answer)
    if a in q or (len(q) > 40 and q in a):
        return True
    wanted = set(re.findall(r"[a-z0-9]{3,}", a))
    return len(wanted) >= 3 and len(wanted & set(re.findall(r"[a-z0-9]{3,}", q))) >= 0.7 * len(wanted)


def collect(idx, question: str, label) -> tuple[list[list[float]], list[int]]:
    analysis = idx.analyse(question)
    rows, labels = [], []
    for part in analysis.parts:
        for w in part.windows:
            rows.append(list(w.features))
            labels.append(int(label(w)))
    return rows, labels


def swapped(question: str, doc_text: str, pool: list[str], rng: random.Random) -> list[str]:
    """Near misses: the question's rarest capitalised word, and its longest plain word, each swapped for a word of
    another document that this document never uses."""
    from policyqa.answer.grounding import STOPWORDS, words

    low = doc_text.lower()
    out = []
    found = [w for i, w in enumerate(words(question)) if w.lower() not in STOPWORDS and len(w) > 3]
    names = [w for w in found if w[0].isupper() and question.index(w) > 0]
    plain = sorted((w for w in found if not w[0].isupper()), key=len, reverse=True)
    for target, capital in ((names[0] if names else None, True), (plain[0] if plain else None, False)):
        if target is None:
            continue
        options = [p for p in pool if p[0].isupper() == capital and p.lower() not in low]
        if options:
            out.append(re.sub(rf"\b{re.escape(target)}\b", rng.choice(options), question, count=1))
    return out


def gather(indexes: Path, policyqa: Path | None) -> tuple[list[Case], list[Case]]:
    from policyqa_data import covers, write_policies

    from policyqa import build_index, open_index

    rng = random.Random(23)
    sets = {"bundled": REPO / "corpus", "realdocs": REPO / "eval" / "realdocs" / "corpus"}
    for name, corpus in sets.items():
        if not (indexes / name).exists():
            build_index(corpus, indexes / name, log=lambda _m: None)
    cases: list[Case] = []
    for name, path in (("bundled", REPO / "eval" / "bundled_questions.jsonl"),
                       ("realdocs", REPO / "eval" / "realdocs" / "questions.jsonl")):
        idx = open_index(indexes / name)
        docs = {d.doc_id: idx.document_text(d.doc_id) or "" for d in idx.documents()}
        pool = sorted({w for t in docs.values() for w in re.findall(r"\b[A-Za-z][a-z]{5,}\b|\b[A-Z][a-z]{3,}\b", t)})
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for n, row in enumerate(rows):
            doc = row.get("doc_id") or (row.get("doc_ids") or [None])[0]
            group = f"{name}:{doc}" if name == "realdocs" and doc else f"{name}:q{n}"
            answer = row.get("answer") if row["answerable"] else None
            feats, labels = collect(idx, row["question"], lambda w, a=answer: a is not None and holds(w.quote, a))
            source = f"{name}-off-topic" if row.get("kind") == "off-topic" else name
            cases.append(Case(row["question"], group, row["answerable"], feats, labels, source))
            if row["answerable"] and doc in docs:
                others = [w for w in pool if w.lower() not in docs[doc].lower()]
                for miss in swapped(row["question"], docs[doc], others or pool, rng):
                    feats, labels = collect(idx, miss, lambda _w: False)
                    cases.append(Case(miss, group, False, feats, labels, name + "-constructed"))
    evaluation: list[Case] = []
    if policyqa is not None:
        corpus = indexes / "policies"
        questions = write_policies(policyqa, corpus)
        if not (indexes / "policyqa").exists():
            build_index(corpus, indexes / "policyqa", log=lambda _m: None)
        idx = open_index(indexes / "policyqa")
        for q in questions:
            analysis = idx.analyse(q.text, doc_ids=[q.doc_id])
            feats = [list(w.features) for p in analysis.parts for w in p.windows]
            labels = [
                int(any(covers(w.start, w.end, s) for s in q.spans)) for p in analysis.parts for w in p.windows
            ]
            evaluation.append(Case(q.text, q.doc_id, True, feats, labels, "policyqa"))
    return cases, evaluation


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logistic regression by Newton's method on standardised features (the bias column is left as is)."""
    mean, scale = x.mean(0), x.std(0)
    mean[0], scale[0] = 0.0, 1.0
    scale[scale < 1e-6] = 1.0
    z = (x - mean) / scale
    w = np.zeros(z.shape[1])
    penalty = l2 * np.eye(z.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(z @ w, -30, 30)))
        grad = z.T @ (p - y) + penalty @ w
        hess = (z * (p * (1 - p))[:, None]).T @ z + penalty + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return mean, scale, w


def fit_trees(x: np.ndarray, y: np.ndarray) -> dict:
    """A few shallow boosted trees (scikit-learn, used here only), exported as node arrays."""
    from sklearn.ensemble import GradientBoostingClassifier

    model = GradientBoostingClassifier(
        n_estimators=TREES, max_depth=2, learning_rate=RATE, subsample=0.8, min_samples_leaf=10, random_state=0
    ).fit(x, y)
    prior = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    trees = []
    for estimator in model.estimators_[:, 0]:
        t = estimator.tree_
        trees.append({
            "feature": t.feature.tolist(), "threshold": t.threshold.round(6).tolist(),
            "left": t.children_left.tolist(), "right": t.children_right.tolist(),
            "value": t.value[:, 0, 0].round(6).tolist(),
        })
    return {"trees": trees, "base": round(float(np.log(prior / (1 - prior))), 6), "rate": RATE}


def train(kind: str, x: np.ndarray, y: np.ndarray) -> dict:
    if kind == "trees":
        n = x.shape[1]
        return {"mean": [0.0] * n, "scale": [1.0] * n, "weights": [0.0] * n, **fit_trees(x, y)}
    mean, scale, w = fit(x, y)
    return {"mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(), "weights": w.round(6).tolist()}


def predict(spec: dict, rows: list[list[float]]) -> np.ndarray:
    """The shipped scorer's own arithmetic (policyqa.answer.scorer), so the figures are the runtime's."""
    from policyqa.answer.scorer import Scorer, Tree

    trees = tuple(Tree(*(tuple(t[k]) for k in ("feature", "threshold", "left", "right", "value")))
                  for t in spec.get("trees", []))
    scorer = Scorer(tuple(spec["mean"]), tuple(spec["scale"]), tuple(spec["weights"]), 0.5, (0.0, 0.0, 0.0),
                    trees, spec.get("base", 0.0), spec.get("rate", 0.0))
    return np.array([scorer.probability(r) for r in rows])


def best_of(case: Case, p: np.ndarray) -> tuple[float, bool]:
    """The question's best quote: its P and whether it is right."""
    if not len(p):
        return 0.0, False
    i = int(np.argmax(p))
    return float(p[i]), bool(case.labels[i])


def stack(cases: list[Case]) -> tuple[np.ndarray, np.ndarray]:
    rows = [r for c in cases for r in c.rows]
    return np.array(rows), np.array([y for c in cases for y in c.labels], dtype=float)


def out_of_fold(cases: list[Case], kind: str) -> list[tuple[Case, float, bool]]:
    groups = sorted({c.group for c in cases})
    random.Random(7).shuffle(groups)
    fold_of = {g: n % FOLDS for n, g in enumerate(groups)}
    scored = []
    for k in range(FOLDS):
        train_cases = [c for c in cases if fold_of[c.group] != k]
        model = train(kind, *stack(train_cases))
        scored += [(c, *best_of(c, predict(model, c.rows))) for c in cases if fold_of[c.group] == k]
    return scored


def table(scored: list[tuple[Case, float, bool]], limits: list[float]) -> list[str]:
    lines = ["| P limit | answered | answered and wrong | answerable answered right | unanswerable not answered |",
             "|---|---|---|---|---|"]
    n_yes = sum(c.answerable for c, _, _ in scored) or 1
    n_no = sum(not c.answerable for c, _, _ in scored)
    for t in limits:
        answered = [(c, ok) for c, p, ok in scored if p >= t]
        wrong = sum(not ok for _, ok in answered)
        right = sum(ok for c, ok in answered if c.answerable)
        kept = sum(p < t for c, p, _ in scored if not c.answerable)
        risk = wrong / len(answered) if answered else 0.0
        lines.append(f"| {t:.2f} | {len(answered)}/{len(scored)} ({len(answered) / len(scored):.0%}) | "
                     f"{wrong} ({risk:.1%}) | {right}/{n_yes} ({right / n_yes:.0%}) | "
                     + (f"{kept}/{n_no} ({kept / n_no:.0%}) |" if n_no else "— |"))
    return lines


def choose(scored: list[tuple[Case, float, bool]]) -> float:
    """The least P limit whose answered share is wrong at most TARGET_RISK of the time (at least 10 answered, so
    one lucky question does not decide it)."""
    answer = 0.99
    for t in np.arange(0.99, 0.04, -0.01):
        answered = [ok for _, p, ok in scored if p >= t]
        if len(answered) >= 10 and sum(not ok for ok in answered) / len(answered) <= TARGET_RISK:
            answer = float(t)
    return round(answer, 2)


def passage_p(search: list[float], rows: list[list[float]], dense: int, cover: int) -> float:
    """P(a close match) of the best candidate sentence, as `analyse` scores passages."""
    b, a, c = search
    return max((1 / (1 + np.exp(-(b + a * r[dense] + c * r[cover]))) for r in rows), default=0.0)


def main() -> None:
    from policyqa.answer.features import NAMES

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policyqa", type=Path, default=None, help="PolicyQA dev.json: evaluated, never trained on")
    parser.add_argument("--indexes", type=Path, default=Path("/tmp/pqa_idx"), help="where the indexes are built")
    parser.add_argument("--model", choices=("logistic", "trees"), help="default: the better one out of fold")
    parser.add_argument("--cached", action="store_true", help="reuse the features of the last run (same code only)")
    args = parser.parse_args()
    cache = args.indexes / "scorer_cases.json"
    if args.cached and cache.exists():
        raw = json.loads(cache.read_text())
        cases, evaluation = ([Case(**c) for c in raw[k]] for k in ("cases", "evaluation"))
        bundled = (REPO / "eval" / "bundled_questions.jsonl").read_text(encoding="utf-8").splitlines()
        off = {json.loads(line)["question"] for line in bundled if '"off-topic"' in line}
        for c in cases:
            c.source = "bundled-off-topic" if c.question in off else c.source
    else:
        cases, evaluation = gather(args.indexes, args.policyqa)
        cache.write_text(json.dumps({"cases": [vars(c) for c in cases], "evaluation": [vars(c) for c in evaluation]}))
    results = {}
    for kind in ("logistic", "trees"):
        scored = out_of_fold(cases, kind)
        answer = choose(scored)
        right = sum(ok for c, p, ok in scored if c.answerable and p >= answer)
        print(f"{kind}: out of fold, answered at P >= {answer}: {right} answerable questions answered right")
        results[kind] = (right, scored, answer)
    kind = args.model or max(results, key=lambda k: results[k][0])
    _, scored, answer = results[kind]
    print(f"chosen: {kind}")
    grid = sorted({round(x, 2) for x in np.arange(0.1, 0.95, 0.1)} | {answer})
    print(f"training questions: {len(cases)} ({sum(c.answerable for c in cases)} answerable), "
          f"quotes: {sum(len(c.rows) for c in cases)}; limit: answered P >= {answer}\n")
    for source in ("bundled", "realdocs"):
        part = [s for s in scored if s[0].source.startswith(source)]
        print(f"### {source} (+ constructed near misses), out of fold over {FOLDS} folds\n")
        print("\n".join(table(part, grid)) + "\n")
    print("### all training sets, out of fold\n\n" + "\n".join(table(scored, grid)) + "\n")
    x, y = stack(cases)
    model = train(kind, x, y)
    if evaluation:
        docs = sorted({c.group for c in evaluation})
        for half, chosen in (("A", set(docs[::2])), ("B", set(docs[1::2]))):
            part = [(c, *best_of(c, predict(model, c.rows))) for c in evaluation if c.group in chosen]
            print(f"### PolicyQA dev, policies half {half} ({len(part)} questions; model never saw PolicyQA)\n")
            print("\n".join(table(part, grid)) + "\n")
    dense, cover = NAMES.index("dense"), NAMES.index("cover_sentence")
    search = fit(x[:, [0, dense, cover]], y)
    s_mean, s_scale, s_w = search
    bias = s_w[0] - sum(s_w[i] * s_mean[i] / s_scale[i] for i in (1, 2))
    search_weights = [round(float(bias), 6), round(float(s_w[1] / s_scale[1]), 6), round(float(s_w[2] / s_scale[2]), 6)]
    off_topic = [passage_p(search_weights, c.rows, dense, cover) for c in cases if c.source == "bundled-off-topic"]
    answerable = [passage_p(search_weights, c.rows, dense, cover) for c in cases if c.answerable]
    close = round((max(off_topic, default=0.0) + min(answerable, default=0.1)) / 2, 4)
    print(f"close match: P >= {close} (off-topic questions' best passage at most {max(off_topic, default=0.0):.4f}, "
          f"answerable at least {min(answerable, default=0.1):.4f})")
    for evaluated in (evaluation,):
        below = sum(passage_p(search_weights, c.rows, dense, cover) < close for c in evaluated)
        print(f"PolicyQA dev: {below}/{len(evaluated)} questions have no close match (refused)" if evaluated else "")
    MODEL.write_text(json.dumps({
        "features": list(NAMES), "kind": kind, **model, "limits": {"answer": answer},
        "search": search_weights,
        "close_match": close,
        "trained_on": {"questions": len(cases), "quotes": int(len(y)), "positives": int(y.sum())},
    }, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {MODEL.relative_to(REPO)}")


if __name__ == "__main__":
    main()
