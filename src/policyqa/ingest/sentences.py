"""Sentence spans with exact offsets (a pure function: text in, (start, end) pairs out).

Hard-wrapped text (a newline inside a sentence) stays one sentence; a blank line always ends one.
Common abbreviations and initials ("U.S.", "e.g.", "Mr.", "No. 5") do not end a sentence.
"""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9А-ЯЁ])|\n[ \t]*\n""")
_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "sr",
    "jr",
    "st",
    "no",
    "nos",
    "vs",
    "etc",
    "e.g",
    "i.e",
    "inc",
    "ltd",
    "co",
    "corp",
    "art",
    "sec",
    "fig",
    "p",
    "pp",
    "vol",
    "approx",
    "dept",
    "gen",
    "gov",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "u.s",
    "u.k",
    "u.n",
    "e.u",
}
MAX_SENTENCE_CHARS = 600
ABBREVIATION_LOOKBACK = 40  # chars before a dot that can hold the abbreviation (not the whole sentence: quadratic)
_LAST_WORD = re.compile(r"([\w.]+)$")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences in text[start:end], whitespace trimmed, as offsets into `text`."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        if match.group().startswith((".", "…")) and _is_abbreviation(text, cursor, match.start()):
            continue
        spans += _trimmed(text, cursor, match.end())
        cursor = match.end()
    spans += _trimmed(text, cursor, end)
    return [piece for span in spans for piece in _split_long(text, *span)]


def _is_abbreviation(text: str, sentence_start: int, dot: int) -> bool:
    word = _LAST_WORD.search(text[max(sentence_start, dot - ABBREVIATION_LOOKBACK) : dot])
    if not word:
        return False
    token = word.group(1).lower()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _trimmed(text: str, start: int, end: int) -> list[tuple[int, int]]:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return []
    lead = len(piece) - len(piece.lstrip())
    return [(start + lead, start + lead + len(stripped))]


def _split_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Very long 'sentences' (lists, tables) are cut at line breaks or semicolons to keep quotes readable.

    A loop, not recursion: one paragraph of megabytes without a sentence end is many thousand pieces."""
    pieces: list[tuple[int, int]] = []
    while end - start > MAX_SENTENCE_CHARS:
        limit = start + MAX_SENTENCE_CHARS
        cut = max(text.rfind("\n", start, limit), text.rfind("; ", start, limit))
        if cut <= start:
            cut = text.rfind(" ", start, limit)
        if cut <= start:
            cut = limit
        pieces += _trimmed(text, start, cut + 1)[:1]
        start = cut + 1
        while start < end and text[start].isspace():  # `end` is trimmed already; never copy the rest
            start += 1
        if start >= end:
            return pieces
    return pieces + [(start, end)]


def passage_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Whole sentences overlapping text[start:end] (a chunk), read within the paragraphs around it, so a quote
    never starts or ends mid-sentence. The build stores a vector for each; `ask` reads them back by chunk."""
    low = text.rfind("\n\n", 0, start) + 1 if start else 0
    high = text.find("\n\n", end)
    high = len(text) if high < 0 else high
    return [(a, b) for a, b in sentence_spans(text, low, high) if b > start and a < end]
