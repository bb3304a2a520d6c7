"""SQuAD 2.0 dev, out of domain: the shipped answerability check on Wikipedia articles it was never trained on.

    .venv/bin/python benchmarks/squad_ood.py "$SQUAD" [--articles N] [--seed S] [--timed N]

`$SQUAD`: a SQuAD 2.0 dev file (e.g. the CS224n default project's data/dev-v2.0.json, half of the official dev set;
CC BY-SA 4.0). It stays outside the repository. Each article becomes one document (its paragraphs joined by a blank
line, so gold character offsets map into it), the index is built with the default settings, and every question is
asked within its own article, as PolicyQA dev is (answer_quality.py). Nothing is tuned here: the shipped model and
its limits answer.

Definitions are the existing ones: a quote covers a gold span when it holds at least half of its characters
(policyqa_data.covers; SQuAD gives several gold answers: any of them); "answered" includes "partial";
answered-and-wrong: no quote of the answer covers a gold span, or the question is unanswerable (answers_round3.py).
The risk–coverage table (scorer_folds' layout: a question is answered at limit t when its most probable quote has
P >= t; wrong when that quote covers no gold span) is what `ask` gives with `threshold=t`. Latency: `ask` and
`search` p50 in process on the same sampled questions, alternating which goes first.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policyqa_data import covers, policy_file_name  # noqa: E402
from scorer_folds import HEADER, Scored, summary  # noqa: E402

LIMITS = (0.10, 0.20, 0.30, 0.40, 0.50, 0.70, 0.80, 0.90)


@dataclass(frozen=True)
class SquadQuestion:
    qid: str
    text: str
    doc_id: str
    spans: tuple[tuple[int, int], ...]  # gold answers as character offsets into the article's text; () if impossible
    answerable: bool


@dataclass(frozen=True)
class Outcome:
    question: SquadQuestion
    state: str  # the shipped decision: answered, partial, unsure or refused
    any_covers: bool  # some quote of the shipped answer covers a gold span
    first_covers: bool
    p: float  # P of the most probable quote (what the `answered` limit is compared with)
    best_covers: bool  # that quote covers a gold span


def write_articles(dev_json: Path, corpus: Path, articles: int | None, seed: int) -> list[SquadQuestion]:
    """Each article as one text file (paragraphs joined by a blank line); its questions with gold offsets.

    The file holds the text as ingest cleans it (runs of spaces to one, etc.: a few characters in 8 of the 16 CS224n
    articles), with the gold offsets moved to match, so that a citation's offsets and the gold ones agree."""
    from policyqa.ingest.clean import clean_text

    data = json.loads(dev_json.read_text(encoding="utf-8"))["data"]
    if articles is not None and articles < len(data):
        data = random.Random(seed).sample(data, articles)
    corpus.mkdir(parents=True, exist_ok=True)
    questions: list[SquadQuestion] = []
    for article in data:
        doc_id = policy_file_name(article["title"])
        parts, offset, raw = [], 0, []
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                starts = [(offset + a["answer_start"], len(a["text"])) for a in qa["answers"]]
                raw.append((qa, {(start, start + length) for start, length in starts}))
            parts.append(context)
            offset += len(context) + 2
        text, moved = clean_text("\n\n".join(parts))
        for qa, spans in raw:
            gold = tuple(sorted({(moved(start), moved(end)) for start, end in spans}))
            answerable = bool(gold) and not qa.get("is_impossible")
            questions.append(SquadQuestion(qa["id"], qa["question"], doc_id, gold if answerable else (), answerable))
        (corpus / doc_id).write_text(text, encoding="utf-8")
    return questions


def covered(citation: Any, q: SquadQuestion) -> bool:
    return any(covers(citation.start, citation.end, span) for span in q.spans)


def judge(idx: Any, q: SquadQuestion, texts: dict[str, str]) -> tuple[Outcome, int]:
    """The shipped answer (what `ask` returns), and the most probable quote whatever its P; quotes off their text."""
    from policyqa.answer.compose import Limits
    from policyqa.answer.decision import decide

    analysis = idx.analyse(q.text, doc_ids=[q.doc_id])
    shipped = decide(analysis)
    every = decide(analysis, Limits(threshold=0.0))  # answers with the most probable quote first, if there is one
    p = max((e.windows[0].evidence for e in analysis.parts if e.windows), default=0.0)
    quotes = shipped.citations + every.citations[:1]
    off = sum(texts[c.doc_id][c.start : c.end] != c.quote for c in quotes)
    hits = [covered(c, q) for c in shipped.citations]
    best = bool(every.citations) and every.state != "refused" and covered(every.citations[0], q)
    return Outcome(q, shipped.state, any(hits), bool(hits and hits[0]), p, best), off


def timed(idx: Any, sample: list[SquadQuestion], outcomes: dict[str, Outcome]) -> tuple[float, float, int]:
    """Median ms of `search` and of `ask`; how many `ask` states differ from the decision judged above."""
    search_ms: list[float] = []
    ask_ms: list[float] = []
    differ = 0
    for i, q in enumerate(sample):
        for name in ("search", "ask") if i % 2 else ("ask", "search"):
            started = time.perf_counter()
            result = getattr(idx, name)(q.text, doc_ids=[q.doc_id])
            (search_ms if name == "search" else ask_ms).append(1000 * (time.perf_counter() - started))
            differ += name == "ask" and result.state != outcomes[q.qid].state
    return statistics.median(search_ms), statistics.median(ask_ms), differ


def share(a: int, n: int) -> str:
    return f"{a}/{n} ({100 * a / max(n, 1):.1f}%)"


def states_table(outcomes: list[Outcome]) -> str:
    lines = ["| questions | n | answered (partial) | unsure | refused | answered and wrong | a quote covers the gold "
             "span: any / first |", "|---|---|---|---|---|---|---|"]
    for name, keep in (("answerable", True), ("unanswerable", False), ("all", None)):
        rows = [o for o in outcomes if keep is None or o.question.answerable == keep]
        n, seen = len(rows), Counter(o.state for o in rows)
        answered = [o for o in rows if o.state in ("answered", "partial")]
        wrong = sum(not (o.question.answerable and o.any_covers) for o in answered)
        cover = (f"{share(sum(o.any_covers for o in rows), n)} / {share(sum(o.first_covers for o in rows), n)}"
                 if keep else "—")
        lines.append(f"| {name} | {n} | {share(len(answered), n)} ({seen['partial']}) | {share(seen['unsure'], n)} | "
                     f"{share(seen['refused'], n)} | {share(wrong, len(answered))} | {cover} |")
    return "\n".join(lines)


def risk_coverage(outcomes: list[Outcome], shipped_limit: float) -> str:
    scored = [Scored(o.question, o.p, o.best_covers, 0, False) for o in outcomes]
    shipped = [o.state in ("answered", "partial") for o in outcomes]  # the decisions `ask` made
    rows = [HEADER.format("P limit")]
    for t in sorted({*LIMITS, shipped_limit}):
        if t == shipped_limit:
            rows.append(summary(f"{t:.2f} (shipped)", list(zip(scored, shipped, strict=True))))
        else:
            rows.append(summary(f"{t:.2f}", [(s, s.p >= t) for s in scored]))
    return "\n".join(rows)


def cpu() -> str:
    info = subprocess.run(["lscpu"], capture_output=True, text=True).stdout if platform.system() == "Linux" else ""
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    flags = set(fields.get("Flags", "").split())
    wanted = [f for f in ("avx2", "avx512f", "avx512bw", "avx512vl", "avx512_bf16", "avx512_vnni") if f in flags]
    return f"{fields.get('Model name', platform.processor()).strip()}; {fields.get('CPU(s)', '?').strip()} CPUs; " + (
        f"flags include {' '.join(wanted)}" if wanted else "no AVX2/AVX-512 flags")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dev", type=Path, help="a SQuAD 2.0 dev file (dev-v2.0.json)")
    parser.add_argument("--articles", type=int, help="a random sample of this many articles (default: all)")
    parser.add_argument("--seed", type=int, default=7, help="of the article sample and the timed questions")
    parser.add_argument("--timed", type=int, default=300, help="questions timed for ask against search")
    args = parser.parse_args()
    from policyqa import build_index, open_index
    from policyqa.answer.scorer import load_scorer

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "articles"
        questions = write_articles(args.dev, corpus, args.articles, args.seed)
        texts = {p.name: p.read_text(encoding="utf-8") for p in corpus.iterdir()}
        started = time.perf_counter()
        build_index(corpus, Path(tmp) / "index", log=lambda _m: None)
        build_s = time.perf_counter() - started
        idx = open_index(Path(tmp) / "index")
        idx.ask("warm up")
        outcomes: dict[str, Outcome] = {}
        started, off = time.perf_counter(), 0
        for q in questions:
            outcomes[q.qid], wrong_text = judge(idx, q, texts)
            off += wrong_text
        judged_s = time.perf_counter() - started
        sample = random.Random(args.seed).sample(questions, min(args.timed, len(questions)))
        search_p50, ask_p50, differ = timed(idx, sample, outcomes)

    results = list(outcomes.values())
    yes = sum(q.answerable for q in questions)
    print(f"SQuAD 2.0 dev ({args.dev.name}): {len(texts)} articles, {len(questions)} questions ({yes} answerable, "
          f"{len(questions) - yes} unanswerable); build {build_s:.0f} s; judged in {judged_s:.0f} s. "
          f"Shipped model and limits (answered at P >= {load_scorer().answer:.2f}); nothing tuned on SQuAD.\n")
    print(states_table(results) + "\n")
    print(risk_coverage(results, load_scorer().answer) + "\n")
    print(f"in-process p50 over {len(sample)} questions: search {search_p50:.1f} ms, ask {ask_p50:.1f} ms: "
          f"ask/search {ask_p50 / search_p50:.2f}x")
    print(f"checks: quotes that differ from their document's text {off}; timed `ask` states that differ from the "
          f"judged decision {differ}/{len(sample)}")
    print(f"machine: {cpu()}")


if __name__ == "__main__":
    main()
