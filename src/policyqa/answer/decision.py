"""Extractive answers, second stage: answered, partial, unsure or refused, from the scorer's probabilities.

A part of the question is answered by its most probable quote when P >= the `answered` limit (calibrated so that at
most 5% of held-out answered questions were wrong). When no part is, the closest evidence is still shown as `unsure`
when some passage is a close match (the passage probability search shows, at least `close_match`); when none is,
the answer is `refused`. Every reason line states only facts of the quote.
"""

from __future__ import annotations

from policyqa.answer.compose import LIMITS, REFUSAL_TEXT, UNSURE_TEXT, Analysis, Limits, Window
from policyqa.answer.grounding import TYPE_WORDS
from policyqa.answer.types import Answer, AnswerState, Citation

MAX_SENTENCES = 3
FOLLOW_MARGIN = 0.15  # further quotes of an answer: at least this probable relative to the best (P_best - margin)
DUPLICATE_COSINE = 0.92


def _listed(items: tuple[str, ...] | list[str], joiner: str = "or") -> str:
    quoted = [f"'{w}'" for w in items[:3]]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" {joiner} " + quoted[-1]


def quote_facts(window: Window, expects: str | None) -> str:
    """What is true of the quote, e.g. "the quote names 'Doha' and gives a place"."""
    facts = window.facts
    bits = []
    if facts.names_found:
        bits.append("names " + _listed(facts.names_found, "and"))
    if facts.focus and facts.focus_found and facts.focus not in facts.names_found:
        bits.append(f"uses '{facts.focus}'")
    if facts.typed:
        bits.append(f"gives a {TYPE_WORDS[expects]}")  # type: ignore[index]
    lacks = list(facts.names_missing) + ([facts.focus] if facts.focus and not facts.focus_found else [])
    if lacks:
        bits.append("does not mention " + _listed(lacks))
    if expects and not facts.typed:
        bits.append(f"gives no {TYPE_WORDS[expects]}")  # type: ignore[index]
    return "the quote " + ", ".join(bits[:-1]) + (" and " if len(bits) > 1 else "") + bits[-1] if bits else ""


def answer_threshold(limits: Limits = LIMITS) -> float:
    """The least P of an answered quote by default (a part expecting a typed answer may have its own)."""
    return limits.resolved()[0]


def decide(analysis: Analysis, limits: Limits = LIMITS) -> Answer:
    """The answer that `limits` give for this analysis."""
    _, close_at = limits.resolved()
    parts = [e for e in analysis.parts if e.windows]
    if not analysis.sentences or not parts:
        empty = "No passages to answer from: the index is empty or the filters match no document."
        reason = empty if not analysis.hits else REFUSAL_TEXT
        return _refusal(analysis, reason, 0.0)
    best = [e.windows[0] for e in parts]
    top = max(w.evidence for w in best)
    answered = [(e, w) for e, w in zip(parts, best, strict=True) if w.evidence >= limits.answer_at(e.part)]
    if not answered:
        lead = max(zip(parts, best, strict=True), key=lambda ew: ew[1].evidence)
        answer_at = limits.answer_at(lead[0].part)
        facts = quote_facts(lead[1], lead[0].part.expects)
        nearest = max((h.score for h in analysis.hits), default=0.0)
        if nearest >= close_at:
            reason = f"P {top:.2f} that the quote answers (below {answer_at:.2f} for an answer)" + (
                f"; {facts}." if facts else "."
            )
            # the closest evidence: the best quotes whatever their P (a quote second or third is often the one that
            # holds the answer: on PolicyQA dev 26.8% -> 29.0% of questions have one that covers the gold span)
            evidence = _quotes(analysis, [lead[1]], 0.0, margin=1.0)
            citations = [_citation(n, w) for n, w in enumerate(evidence, 1)]
            text = UNSURE_TEXT + " " + " ".join(f"{' '.join(c.quote.split())} [{c.marker}]" for c in citations)
            message = " ".join(filter(None, [analysis.note]))
            return Answer(
                analysis.question,
                text,
                False,
                citations,
                analysis.hits,
                citations[0].score,
                message,
                state="unsure",
                reason=reason,
                note=analysis.note,
            )
        unseen = [n for e in parts for n in e.unseen_names]
        if unseen:
            reason = f"No passage mentions {_listed(unseen)}."
        else:
            reason = f"No passage is a close match (best P {nearest:.2f}, below {close_at:.2f})."
        return _refusal(analysis, reason, round(top, 4))
    answer_at = min(limits.answer_at(e.part) for e, _ in answered)
    windows = _quotes(analysis, [w for _, w in answered], answer_at)
    citations = [_citation(n, w) for n, w in enumerate(windows, 1)]
    text = " ".join(f"{' '.join(c.quote.split())} [{c.marker}]" for c in citations)
    state: AnswerState = "answered" if len(answered) == len(analysis.parts) else "partial"
    lead_part, lead_window = max(answered, key=lambda ew: ew[1].evidence)
    facts = quote_facts(lead_window, lead_part.part.expects)
    if state == "answered":
        reason = f"P {lead_window.evidence:.2f} that the quote answers" + (f"; {facts}." if facts else ".")
    else:
        done = {id(e) for e, _ in answered}
        missed = [e for e in analysis.parts if id(e) not in done]
        reason = (
            "Answers "
            + "; ".join(f"'{e.part.text}'" for e, _ in answered)
            + ". Not answered: "
            + "; ".join(
                f"'{e.part.text}' (P {e.windows[0].evidence if e.windows else 0.0:.2f}, "
                f"below {limits.answer_at(e.part):.2f})"
                for e in missed
            )
            + "."
        )
    message = " ".join(filter(None, [analysis.note]))
    return Answer(
        analysis.question, text, False, citations, analysis.hits, citations[0].score, message, state=state,
        reason=reason, note=analysis.note,
    )


def _refusal(analysis: Analysis, reason: str, confidence: float) -> Answer:
    message = " ".join(filter(None, [analysis.note, f"{REFUSAL_TEXT} {reason}" if reason != REFUSAL_TEXT else reason]))
    return Answer(
        analysis.question, REFUSAL_TEXT, True, [], analysis.hits, confidence, message, state="refused", reason=reason,
        note=analysis.note,
    )


def _quotes(
    analysis: Analysis, answered: list[Window], answer_at: float, margin: float = FOLLOW_MARGIN
) -> list[Window]:
    """Each answered part's quote (or the closest evidence), most probable first, then further quotes at least
    P_best - margin probable (and answer_at)."""
    chosen: list[Window] = []
    for window in sorted(answered, key=lambda w: -w.evidence):
        if not any(_overlaps(window, w) for w in chosen):
            chosen.append(window)
    top = chosen[0].evidence
    extra = sorted((w for e in analysis.parts for w in e.windows[1:]), key=lambda w: -w.evidence)
    for w in extra:
        if len(chosen) >= MAX_SENTENCES or w.evidence < max(answer_at, top - margin):
            continue
        duplicate = any(
            _overlaps(w, c) or float(analysis.vectors[w.sentence] @ analysis.vectors[c.sentence]) >= DUPLICATE_COSINE
            for c in chosen
        )
        if not duplicate:
            chosen.append(w)
    return chosen


def _overlaps(a: Window, b: Window) -> bool:
    return a.hit.doc_id == b.hit.doc_id and a.start < b.end and b.start < a.end


def _citation(marker: int, window: Window) -> Citation:
    hit = window.hit
    return Citation(
        marker=marker,
        doc_id=hit.doc_id,
        title=hit.title,
        page=hit.page,
        heading=hit.heading,
        start=window.start,
        end=window.end,
        quote=window.quote,
        passage=hit.text,
        passage_start=hit.start,
        passage_end=hit.end,
        score=round(window.evidence, 4),
        answer_start=window.span[0],
        answer_end=window.span[1],
    )
