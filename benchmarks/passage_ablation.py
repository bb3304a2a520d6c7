"""Passage bounds and order on PolicyQA dev, over a real index, tuned and reported by 2-fold cross-validation.

    .venv/bin/python benchmarks/passage_ablation.py ../shared/eval/policyqa/dev.json [--model mpnet] [--show-grid]
        [--caller-order] [--margin 0.03] [--families "name;name"]

The default index is built once (64/0 chunks); each question's fused candidate list (hybrid, dense weight 0.7,
depth 100, within its policy) is read from it once. Then passages are formed from those candidates in memory, in
several ways:
- "chunks": the matched chunk grown with whole neighbouring chunks (the library before issue 27);
- "sentences": grown with whole sentences (the stored ones of the build), from the sentences the matched chunk
  overlaps; `grow` decides the side: alternately after/before, or towards the neighbour sentence the question is
  nearer (cosine with the stored late-chunked sentence vectors), and `lead` caps how much comes before the first
  matched sentence (None: no cap);
- `alpha`: passages re-ordered by fused score + alpha * the best sentence cosine inside the passage;
- `first`: the top `n_first` passages cut to at most `first` characters of whole sentences around their best one;
- "evidence" (shipped since issue 27's second pass): each sentence's evidence is its cosine + `terms` x the
  IDF-weighted share of the question's terms it holds (policyqa.search.passages.QueryTerms); the passage starts one
  sentence before the matched chunk's best sentence, runs on after it to `firm` characters, then on to `reach` while
  the next sentence holds `fade` of the best one's evidence; passages ordered by fused score + alpha x their best
  sentence's evidence.
The library ships "evidence, firm 704, reach 1980, fade 0.6, terms 1.0, alpha 0.8" (policyqa.search.passages:
FIRM_SHARE and REACH of the index's 1,100 passage characters), chosen here.
Free numbers (span, lead, grow, alpha) are chosen on one fold by the shortfall from the issue's targets (hit@5 0.70,
hit@1500ch 0.44: issue 27; `--margin` raises both) and reported on the other fold, both ways. `--caller-order` scores
the passages in the order `PolicyIndex.search` shows them (by P(a close match) of their best sentence) instead of
retrieval's. Hit rules: chunk_size.py.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import shlex
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chunk_size import BUDGET, first_hit_rank, rank_metrics  # noqa: E402
from policyqa_data import Question, write_policies  # noqa: E402

from policyqa import build_index  # noqa: E402
from policyqa.embed.embedder import Embedder  # noqa: E402
from policyqa.index.faiss_sqlite.generation import Generation  # noqa: E402
from policyqa.search.passages import QueryTerms  # noqa: E402
from policyqa.search.retrieval import GROWN_FUSION_DEPTH, allowed_chunk_ids, dense_ranked, fuse  # noqa: E402

K = 10
TARGETS = {"hit@5": 0.70, "budget": 0.44}


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass
class Doc:
    text: str
    chunk_ids: list[int]
    chunk_starts: list[int]
    chunk_ends: list[int]
    sent_starts: list[int]  # unique sentences, in text order
    sent_ends: list[int]
    sent_vectors: np.ndarray


def load_docs(generation: Generation) -> tuple[dict[str, Doc], dict[int, tuple[str, int]]]:
    docs: dict[str, Doc] = {}
    where: dict[int, tuple[str, int]] = {}
    for record in generation.documents():
        chunks = sorted(generation.iter_chunks(record.doc_id), key=lambda c: c.start)
        rows = generation.sentences([c.id for c in chunks])
        unique = {}
        for s in rows:
            unique.setdefault((s.start, s.end), s.vector)
        spans = sorted(unique)
        docs[record.doc_id] = Doc(
            generation.document_text(record.doc_id) or "",
            [c.id for c in chunks],
            [c.start for c in chunks],
            [c.end for c in chunks],
            [a for a, _ in spans],
            [b for _, b in spans],
            np.stack([unique[s] for s in spans]) if spans else np.zeros((0, generation.vectors.d), np.float32),
        )
        for n, c in enumerate(chunks):
            where[c.id] = (record.doc_id, n)
    return docs, where


def chunk_passage(doc: Doc, n: int, span: int, shown: list[Span]) -> Span:
    """As policyqa.search.passages before issue 27: whole chunks, after then before, within `span`."""
    starts, ends = doc.chunk_starts, doc.chunk_ends
    free = lambda i: not any(starts[i] < s.end and s.start < ends[i] for s in shown)  # noqa: E731
    first, last = n, n
    while first > 0 and free(first - 1):
        first -= 1
    while last + 1 < len(starts) and free(last + 1):
        last += 1
    lo = hi = n
    start, end = starts[n], ends[n]
    grown = True
    while grown:
        grown = False
        if hi < last and max(end, ends[hi + 1]) - start <= span:
            hi += 1
            end, grown = max(end, ends[hi]), True
        if lo > first and end - min(start, starts[lo - 1]) <= span:
            lo -= 1
            start, grown = min(start, starts[lo]), True
    return Span(start, end)


def sentence_passage(
    doc: Doc, n: int, span: int, shown: list[Span], cos: np.ndarray, grow: str, lead: int | None, seed: str
) -> Span:
    """Whole sentences around the matched chunk `n`; see the module docstring."""
    ss, se = doc.sent_starts, doc.sent_ends
    c_start, c_end = doc.chunk_starts[n], doc.chunk_ends[n]
    first_m = bisect.bisect_right(se, c_start)  # first sentence ending after the chunk start
    last_m = bisect.bisect_left(ss, c_end) - 1  # last sentence starting before the chunk end
    if first_m > last_m:  # no sentence (cannot happen): the chunk itself
        return Span(c_start, c_end)
    free = lambda i: not any(ss[i] < s.end and s.start < se[i] for s in shown)  # noqa: E731
    matched = [i for i in range(first_m, last_m + 1) if free(i)]
    if not matched:
        return Span(c_start, c_end)
    if seed == "best":
        best = max(matched, key=lambda i: cos[i])
        lo = hi = best
    else:
        lo, hi = matched[0], matched[-1]
        while se[hi] - ss[lo] > span and lo < hi:  # a seed longer than the span: drop its weaker end
            if cos[lo] < cos[hi]:
                lo += 1
            else:
                hi -= 1
    anchor = ss[lo]
    count = len(ss)

    def can_next() -> bool:
        return hi + 1 < count and free(hi + 1) and se[hi + 1] - ss[lo] <= span

    def can_prev() -> bool:
        if not (lo > 0 and free(lo - 1) and se[hi] - ss[lo - 1] <= span):
            return False
        return lead is None or anchor - ss[lo - 1] <= lead or not can_next()

    while True:
        nxt, prv = can_next(), can_prev()
        if not (nxt or prv):
            break
        if grow == "evidence":
            if nxt and (not prv or cos[hi + 1] >= cos[lo - 1]):
                hi += 1
            else:
                lo -= 1
            continue
        if nxt:
            hi += 1
        if can_prev():
            lo -= 1
    return Span(ss[lo], se[hi])


def evidence_passage(
    doc: Doc, n: int, shown: list[Span], evidence: np.ndarray, firm: int, reach: int, fade: float
) -> Span | None:
    """As policyqa.search.passages.grow: from the sentence before the matched chunk's best one, on by evidence."""
    ss, se = doc.sent_starts, doc.sent_ends
    c_start, c_end = doc.chunk_starts[n], doc.chunk_ends[n]
    first_m = bisect.bisect_right(se, c_start)
    last_m = bisect.bisect_left(ss, c_end) - 1
    if first_m > last_m:
        return Span(c_start, c_end)
    free = lambda i: not any(ss[i] < s.end and s.start < se[i] for s in shown)  # noqa: E731
    matched = [i for i in range(first_m, last_m + 1) if free(i)]
    if not matched:
        return None
    best = max(matched, key=lambda i: evidence[i])
    top = float(evidence[best])
    lo = hi = best
    if lo > 0 and free(lo - 1) and se[hi] - ss[lo - 1] <= reach:
        lo -= 1
    while True:
        after = hi + 1 < len(ss) and free(hi + 1) and se[hi + 1] - ss[lo] <= reach
        before = lo > 0 and free(lo - 1) and se[hi] - ss[lo - 1] <= reach
        if se[hi] - ss[lo] >= firm:
            after = after and evidence[hi + 1] >= fade * top
            before = before and evidence[lo - 1] >= fade * top
        if not (after or before):
            return Span(ss[lo], se[hi])
        if after:
            hi += 1
        else:
            lo -= 1


def trimmed(doc: Doc, p: Span, cos: np.ndarray, limit: int) -> Span:
    """`p` cut to at most `limit` characters of whole sentences around its best sentence (after it first)."""
    a = bisect.bisect_left(doc.sent_starts, p.start)
    b = bisect.bisect_right(doc.sent_ends, p.end) - 1
    if b <= a or p.end - p.start <= limit:
        return p
    ss, se = doc.sent_starts, doc.sent_ends
    lo = hi = a + int(np.argmax(cos[a : b + 1]))
    grown = True
    while grown:
        grown = False
        if hi < b and se[hi + 1] - ss[lo] <= limit:
            hi, grown = hi + 1, True
        if lo > a and se[hi] - ss[lo - 1] <= limit:
            lo, grown = lo - 1, True
    return Span(ss[lo], se[hi])


def passages_for(
    docs, where, ranked, qv, bounds: str, span: int, grow: str, lead, seed: str, alpha: float,
    first: int | None = None, n_first: int = 1, share: np.ndarray | None = None, terms: float = 0.0,
    firm: int = 0, fade: float = 0.0, caller: np.ndarray | None = None,
) -> list[Span]:
    out: list[Span] = []
    scores: list[float] = []
    docs_of: list[str] = []
    cache: dict[str, np.ndarray] = {}
    for chunk_id, score in ranked:
        doc_id, n = where[chunk_id]
        doc = docs[doc_id]
        c = Span(doc.chunk_starts[n], doc.chunk_ends[n])
        if any(c.start < s.end and s.start < c.end for s in out):
            continue
        if bounds == "chunks":
            p = chunk_passage(doc, n, span, out)
        elif bounds == "evidence":
            if doc_id not in cache:
                cache[doc_id] = doc.sent_vectors @ qv + (terms * share if share is not None else 0.0)
            found = evidence_passage(doc, n, out, cache[doc_id], firm, span, fade)
            if found is None or any(found.start < s.end and s.start < found.end for s in out):
                continue
            p = found
        else:
            if doc_id not in cache:
                cache[doc_id] = doc.sent_vectors @ qv
            p = sentence_passage(doc, n, span, out, cache[doc_id], grow, lead, seed)
            if any(p.start < s.end and s.start < p.end for s in out):
                continue
        best = 0.0
        if alpha:
            cos = cache.get(doc_id)
            if cos is None:
                cos = cache[doc_id] = doc.sent_vectors @ qv
            a = bisect.bisect_left(doc.sent_starts, p.start)
            b = bisect.bisect_right(doc.sent_starts, p.end - 1)
            best = float(cos[a:b].max()) if b > a else 0.0
        out.append(p)
        scores.append(score + alpha * best)
        docs_of.append(doc_id)
        if len(out) == K:
            break
    if alpha:
        order = sorted(range(len(out)), key=lambda i: -scores[i])
        out = [out[i] for i in order]
        docs_of = [docs_of[i] for i in order]
    if first:
        for i in range(min(n_first, len(out))):
            doc = docs[docs_of[i]]
            if docs_of[i] not in cache:
                cache[docs_of[i]] = doc.sent_vectors @ qv
            out[i] = trimmed(doc, out[i], cache[docs_of[i]], first)
    if caller is not None:  # as PolicyIndex.search shows them: by P(a close match) of the best sentence, stable
        best = [
            float(caller[slice(*sentence_range(docs[d], p))].max(initial=-1e9))
            for p, d in zip(out, docs_of, strict=True)
        ]
        out = [out[i] for i in sorted(range(len(out)), key=lambda i: -best[i])]
    return out


def sentence_range(doc: Doc, p: Span) -> tuple[int, int]:
    """Indexes of the sentences a passage holds (those starting inside it)."""
    return bisect.bisect_left(doc.sent_starts, p.start), bisect.bisect_right(doc.sent_starts, p.end - 1)


def caller_scores(generation: Generation, questions: list[Question], docs: dict[str, Doc], vectors: np.ndarray) -> list:
    """Per question, each sentence of its policy scored as `answer.compose.score_passages` scores a passage's
    sentences (the scorer's passage logit of cosine and term coverage; the order of P is the order of the logit)."""
    from policyqa.answer.grounding import QuestionPart, WordSet, coverage, question_parts
    from policyqa.answer.scorer import load_scorer

    b, a, c = load_scorer().search_weights
    out = []
    for q, v in zip(questions, vectors, strict=True):
        doc = docs[q.doc_id]
        whole = QuestionPart(q.text, tuple(t for p in question_parts(q.text, generation.idf) for t in p.terms), None)
        cover = [coverage(whole, WordSet(doc.text[x:y])) for x, y in zip(doc.sent_starts, doc.sent_ends, strict=True)]
        out.append(b + a * (doc.sent_vectors @ v) + c * np.array(cover))
    return out


def metrics(results: list[list[Span]], questions: list[Question]) -> dict[str, float]:
    ranks = [first_hit_rank(r, q) for r, q in zip(results, questions, strict=True)]
    budget = [first_hit_rank(r, q, BUDGET) for r, q in zip(results, questions, strict=True)]
    return rank_metrics(ranks, budget)


def objective(m: dict[str, float], margin: float = 0.0) -> tuple[float, float]:
    short = sum(max(0.0, target + margin - m[key]) for key, target in TARGETS.items())
    return (-short, m["hit@5"] + m["budget"])


def fmt(m: dict[str, float]) -> str:
    return " | ".join(f"{m[key]:.3f}" for key in ("hit@1", "hit@5", "hit@10", "mrr@10", "budget"))


FAMILIES = {
    "chunks (before issue 27)": dict(bounds=["chunks"], span=[1100], grow=["alternate"], lead=[None], seed=["all"],
                                     alpha=[0.0]),
    "chunks, tuned span": dict(bounds=["chunks"], span=[700, 900, 1100], grow=["alternate"], lead=[None],
                               seed=["all"], alpha=[0.0]),
    "sentences": dict(bounds=["sentences"], span=[700, 900, 1100], grow=["alternate"], lead=[None], seed=["all"],
                      alpha=[0.0]),
    "sentences, evidence side": dict(bounds=["sentences"], span=[700, 900, 1100], grow=["evidence"], lead=[None],
                                     seed=["all"], alpha=[0.0]),
    "sentences, lead-limited": dict(bounds=["sentences"], span=[700, 900, 1100], grow=["alternate", "evidence"],
                                    lead=[0, 150, 300], seed=["all", "best"], alpha=[0.0]),
    "sentences + passage order by best sentence": dict(bounds=["sentences"], span=[700, 900, 1100],
                                                       grow=["alternate", "evidence"], lead=[None, 150, 300],
                                                       seed=["all", "best"], alpha=[0.1, 0.2, 0.4, 0.8]),
    "sentences, lead 300, by best sentence (shipped before, fixed)": dict(
        bounds=["sentences"], span=[1100], grow=["evidence"], lead=[300], seed=["all"], alpha=[0.8]),
    "evidence: from the best sentence, length by evidence (shipped)": dict(
        bounds=["evidence"], span=[1500, 1980], grow=["evidence"], lead=[None], seed=["best"], alpha=[0.8],
        terms=[0.5, 1.0, 2.0], firm=[600, 704, 800], fade=[0.5, 0.6, 0.7]),
    "sentences, top passages trimmed around their best sentence": dict(
        bounds=["sentences"], span=[1100, 1300], grow=["alternate", "evidence"], lead=[None], seed=["all"],
        alpha=[0.0, 0.4, 0.8], first=[400, 550, 700], n_first=[1, 2]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dev_json", type=Path)
    parser.add_argument("--model", default=None, help="embedding model (default: bundled; 'mpnet')")
    parser.add_argument("--families", default="", help="family names separated by ; (default: all)")
    parser.add_argument("--show-grid", action="store_true")
    parser.add_argument(
        "--caller-order", action="store_true",
        help="order passages as PolicyIndex.search shows them (by the answer scorer's P of their best sentence)",
    )
    parser.add_argument(
        "--margin", type=float, default=0.0,
        help="choose settings against the targets raised by this much (held-out test ran ~0.03 below dev)",
    )
    args = parser.parse_args()
    print(f"command: `{shlex.join([sys.executable, *sys.argv])}`\n", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        questions = write_policies(args.dev_json, Path(tmp) / "corpus")
        build_index(Path(tmp) / "corpus", Path(tmp) / "index", model=args.model, progress=False, log=lambda _m: None)
        generation = Generation.open_current(Path(tmp) / "index")
        vectors = Embedder(args.model).encode([q.text for q in questions])
        docs, where = load_docs(generation)
        shares = []
        for q in questions:
            doc = docs[q.doc_id]
            texts = [doc.text[a:b] for a, b in zip(doc.sent_starts, doc.sent_ends, strict=True)]
            shares.append(QueryTerms(generation, q.text).shares(texts))
        callers = [None] * len(questions)
        if args.caller_order:
            callers = caller_scores(generation, questions, docs, vectors)
        lists = []
        for q, v in zip(questions, vectors, strict=True):
            allowed = allowed_chunk_ids(generation, [q.doc_id])
            dense = dense_ranked(generation, v, GROWN_FUSION_DEPTH, allowed)
            sparse = generation.sparse_top(q.text, GROWN_FUSION_DEPTH, allowed)
            lists.append(fuse(dense, sparse)[:GROWN_FUSION_DEPTH])
        generation.close()
    ordered = sorted({q.doc_id for q in questions})
    fold_a = set(ordered[0::2])
    in_a = [q.doc_id in fold_a for q in questions]
    qa = [q for q, a in zip(questions, in_a, strict=True) if a]
    qb = [q for q, a in zip(questions, in_a, strict=True) if not a]
    print(f"{len(questions)} questions: {len(qa)} in fold A, {len(qb)} in fold B\n")
    print("| idea | fold A (tuned on B): hit@1, 5, 10, MRR, @1500ch | fold B (tuned on A) | mean | chosen on B; A |")
    print("|---|---|---|---|---|")
    wanted = set(args.families.split(";")) if args.families else set(FAMILIES)
    for name, grid in FAMILIES.items():
        if name not in wanted:
            continue
        per: dict[tuple, tuple[dict, dict]] = {}
        keys = list(grid)
        for values in itertools.product(*(grid[k] for k in keys)):
            setting = dict(zip(keys, values, strict=True))
            results = [
                passages_for(docs, where, r, v, share=sh, caller=c, **setting)
                for r, v, sh, c in zip(lists, vectors, shares, callers, strict=True)
            ]
            ra = [r for r, a in zip(results, in_a, strict=True) if a]
            rb = [r for r, a in zip(results, in_a, strict=True) if not a]
            per[values] = (metrics(ra, qa), metrics(rb, qb))
            if args.show_grid:
                print(f"|   {setting} | {fmt(per[values][0])} | {fmt(per[values][1])} |", flush=True)
        best_a = max(per, key=lambda p: objective(per[p][0], args.margin))
        best_b = max(per, key=lambda p: objective(per[p][1], args.margin))
        held_a, held_b = per[best_b][0], per[best_a][1]
        mean = {k: (held_a[k] + held_b[k]) / 2 for k in held_a}
        print(f"| {name} | {fmt(held_a)} | {fmt(held_b)} | {fmt(mean)} | {best_b}; {best_a} |", flush=True)


if __name__ == "__main__":
    main()
