"""The words inside a quote that answer: the number, date, name or clause the question asks for.

Typed questions (how many, when, who, where) take the match of that type nearest to the words the question shares
with the quote, leaving out what the question itself says. Other questions take the clause after the last word the
quote shares with the question ("The only way to resolve it is |through political negotiation|"), or, when that
is empty, the clause that holds the shared words. A quote without the kind of answer asked for, or whose clause runs
past MAX_WORDS, has nothing picked out (answer_start/answer_end span the whole quote).
"""

from __future__ import annotations

import re

from policyqa.answer.grounding import QuestionPart, WordSet

_NUMBER = re.compile(
    r"(?:[$€£]\s?)?\b\d[\d,.]*(?:\s?(?:%|percent|per cent|million|billion|thousand|days?|hours?|months?|years?))?"
    r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|sixty|ninety"
    r"|hundred|thousand)(?:[\s-](?:hundred|thousand|million|days?|hours?|months?|years?|calendar days))*\b",
    re.I,
)
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th)? (?:{_MONTHS})(?:,? \d{{4}})?\b|\b(?:{_MONTHS}) \d{{1,2}}(?:,? \d{{4}})?\b"
    rf"|\b(?:{_MONTHS}) \d{{4}}\b|\b(?:1[6-9]|20)\d\d\b|\b\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}\b"
)
_NAME = re.compile(r"\b[A-Z][\w’'.-]*(?:\s+(?:of|for|and|the|de|al)?\s*[A-Z][\w’'.-]*)*")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_CLAUSE_END = re.compile(r"[,;:()]|\.\s|\.$|\s[-–—]\s")
MAX_WORDS = 25  # a longer clause is not picked out: the whole quote is the answer


def _pattern(kind: str | None) -> re.Pattern[str] | None:
    return {"number": _NUMBER, "date": _DATE, "day": _DATE, "person": _NAME, "place": _NAME}.get(kind or "")


def answer_span(part: QuestionPart, text: str, start: int, end: int) -> tuple[int, int]:
    """Document offsets of the answering words inside text[start:end] (the whole quote when nothing fits)."""
    quote = text[start:end]
    asked = WordSet(" ".join(t.word for t in part.terms))
    shared = [m.span() for m in _WORD.finditer(quote) if asked.has(m.group())]
    pattern = _pattern(part.expects)
    if pattern is not None:
        said = {w.lower() for w in _WORD.findall(part.text)}
        found = [
            m.span()
            for m in pattern.finditer(quote)
            if m.group().strip()
            and not all(w.lower() in said for w in _WORD.findall(m.group()))
            and not (part.expects in ("person", "place") and _starts_sentence(quote, m.start()))
        ]
        if not found:  # the quote lacks the kind of answer asked for: no words to pick out
            return start, end
        anchor = [a for a, _ in shared] or [0]
        a, b = min(found, key=lambda span: min(abs(span[0] - x) for x in anchor))
        return start + a, start + b
    if shared:
        after = shared[-1][1]
        stop = _CLAUSE_END.search(quote, after)
        a, b = after, stop.start() if stop else len(quote)
        if 2 <= len(_WORD.findall(quote[a:b])) <= MAX_WORDS:
            return start + _skip_space(quote, a), start + b
        first = shared[0][0]
        opened = max((m.end() for m in _CLAUSE_END.finditer(quote, 0, first)), default=0)
        a, b = opened, stop.start() if stop else len(quote)
        if 2 <= len(_WORD.findall(quote[a:b])) <= MAX_WORDS and _skip_space(quote, a) < b:
            return start + _skip_space(quote, a), start + b
    return start, end


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and not text[at].isalnum():
        at += 1
    return at


def _starts_sentence(text: str, at: int) -> bool:
    before = text[:at].rstrip()
    return not before or before[-1] in ".!?\n"
