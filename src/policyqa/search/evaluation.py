"""`policyqa eval`: retrieval quality on the user's own questions (hit@k, MRR@10, nDCG@10, latency per mode)."""

from __future__ import annotations

import json
import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policyqa.errors import PolicyQAError
from policyqa.search.retrieval import MODES


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    answer: str | None  # a hit: a retrieved chunk contains this text (whitespace folded, case-insensitive)
    doc_ids: tuple[str, ...]  # else: a hit is a chunk from one of these documents


def fold(text: str) -> str:
    return " ".join(text.split()).lower()


def load_questions(path: Path) -> tuple[list[EvalQuestion], int]:
    """Questions with something to check; also how many lines had neither answer nor doc ids (skipped)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyQAError(f"cannot read questions file '{path}': {exc}") from exc
    questions, skipped = [], 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question = row["question"]
        except (ValueError, KeyError, TypeError) as exc:
            raise PolicyQAError(
                f"{path}:{number}: each line must be a JSON object with a 'question' and an 'answer' "
                f"or 'doc_ids' ({exc})"
            ) from exc
        answer, doc_ids = row.get("answer"), row.get("doc_ids") or ()
        if not isinstance(question, str) or not (answer is None or isinstance(answer, str)):
            raise PolicyQAError(f"{path}:{number}: 'question' and 'answer' must be text")
        if not isinstance(doc_ids, list | tuple) or not all(isinstance(d, str) for d in doc_ids):
            raise PolicyQAError(
                f"{path}:{number}: 'doc_ids' must be a list of document ids, e.g. [\"policies/a.pdf\"], "
                f"got {json.dumps(doc_ids)[:80]}"
            )
        doc_ids = tuple(doc_ids)
        if not answer and not doc_ids:
            skipped += 1
            continue
        questions.append(EvalQuestion(question, answer, doc_ids))
    if not questions:
        raise PolicyQAError(f"'{path}' has no question with an 'answer' or 'doc_ids' to check against")
    return questions, skipped


def is_relevant(question: EvalQuestion, doc_id: str, text: str) -> bool:
    if question.answer:
        return fold(question.answer) in fold(text)
    return doc_id in question.doc_ids


def dcg(relevances: list[bool]) -> float:
    return sum(1.0 / math.log2(rank + 1) for rank, relevant in enumerate(relevances, 1) if relevant)


def evaluate(index: Any, questions: list[EvalQuestion], modes: list[str], ks: list[int]) -> dict[str, Any]:
    """Per mode: hit@k for each k, MRR@10, nDCG@10 and query latency (ms)."""
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise PolicyQAError(f"unknown mode(s) {', '.join(unknown)}; choose from {', '.join(MODES)}")
    depth = max([*ks, 10])
    chunks = list(index.chunks())
    relevant_total = [sum(is_relevant(q, c.doc_id, c.text) for c in chunks) for q in questions]
    results: dict[str, Any] = {}
    for mode in modes:
        hits_at = dict.fromkeys(ks, 0)
        reciprocal, ndcg, latencies = 0.0, 0.0, []
        for question, n_relevant in zip(questions, relevant_total, strict=True):
            started = time.perf_counter()
            hits = index.search(question.question, k=min(depth, max(len(index), 1)), mode=mode)
            latencies.append(time.perf_counter() - started)
            relevances = [is_relevant(question, h.doc_id, h.text) for h in hits]
            first = next((rank for rank, ok in enumerate(relevances, 1) if ok), None)
            for k in ks:
                hits_at[k] += first is not None and first <= k
            reciprocal += 1.0 / first if first and first <= 10 else 0.0
            ideal = dcg([True] * min(10, n_relevant))
            ndcg += dcg(relevances[:10]) / ideal if ideal else 0.0
        n = len(questions)
        results[mode] = {
            **{f"hit@{k}": hits_at[k] / n for k in ks},
            "mrr@10": reciprocal / n,
            "ndcg@10": ndcg / n,
            "median_ms": statistics.median(latencies) * 1000,
        }
    return results


def format_table(results: dict[str, Any], ks: list[int], questions: int, skipped: int) -> str:
    columns = [f"hit@{k}" for k in ks] + ["mrr@10", "ndcg@10"]
    lines = [
        f"{questions} question(s)" + (f", {skipped} without an expected answer skipped" if skipped else ""),
        "| mode | " + " | ".join(columns) + " | median ms/query |",
        "|---" * (len(columns) + 2) + "|",
    ]
    for mode, metrics in results.items():
        cells = " | ".join(f"{metrics[c]:.3f}" for c in columns)
        lines.append(f"| {mode} | {cells} | {metrics['median_ms']:.1f} |")
    return "\n".join(lines)
