"""Text cleaning shared by every reader: the stored text is the cleaned text, and citations slice it exactly.

Ligatures are folded by a table, not NFKC (NFKC would also rewrite superscripts, fractions, full-width forms and
"…", changing quotes); control characters are dropped; spaces and line ends are normalised. `clean_text` also
returns an `OffsetMap`, so the page starts and headings a reader found in its raw text move with the text.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

# Latin ligatures (U+FB00-FB06) as PDFs and some Word exports write them; BM25 and the tokenizer need the letters.
LIGATURES = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
}
_SPACES = "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
# Control and invisible characters: C0/C1 controls except line breaks, soft hyphen, zero-width characters, BOM,
# noncharacters, and lone surrogates (which SQLite and JSON cannot store).
_DROP = "\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200d\u2060\ufeff\ufffe\uffff\ud800-\udfff"
_RUN = f"[ {_SPACES}{_DROP}]"  # spaces with invisible characters among them
# One alternative per edit, each matching a whole run, so that cleaning twice changes nothing:
_PATTERN = re.compile(
    rf"(?P<eol>{_RUN}*(?:\r\n?|[\n\x0b\x0c\u2028\u2029]))"  # a line break, spaces before it dropped
    rf"|(?P<gap>(?<=\S){_RUN}*[ {_SPACES}]{_RUN}*)"  # spaces between words: one space
    rf"|(?P<drop>[{_DROP}]+)"
    rf"|(?P<ligature>[{''.join(LIGATURES)}])"
    rf"|(?P<space>[{_SPACES}])"  # an irregular space in indentation: a plain one
)
_REPLACE = {"eol": lambda _t: "\n", "gap": lambda _t: " ", "drop": lambda _t: "", "space": lambda _t: " "}
_REPLACE["ligature"] = LIGATURES.__getitem__


@dataclass(frozen=True)
class OffsetMap:
    """Maps an offset in the raw text to the offset of the same place in the cleaned text."""

    raw: tuple[int, ...]  # raw offsets where an edit starts, ascending
    shift: tuple[int, ...]  # cleaned - raw after each edit
    raw_ends: tuple[int, ...]  # raw offsets where each edit ends

    def __call__(self, offset: int) -> int:
        i = bisect.bisect_right(self.raw, offset) - 1
        if i < 0:
            return offset
        if offset < self.raw_ends[i]:  # inside a replaced run: the start of its replacement
            before = self.shift[i - 1] if i else 0
            return self.raw[i] + before
        return offset + self.shift[i]


def _replacement(match: re.Match[str]) -> str:
    kind = match.lastgroup or "drop"
    return _REPLACE[kind](match.group())


def clean_text(text: str) -> tuple[str, OffsetMap]:
    """The cleaned text and the map from raw offsets to cleaned ones."""
    parts: list[str] = []
    raw: list[int] = []
    shift: list[int] = []
    raw_ends: list[int] = []
    last = 0
    delta = 0
    for match in _PATTERN.finditer(text):
        new = _replacement(match)
        if new == match.group():
            continue
        parts.append(text[last : match.start()])
        parts.append(new)
        delta += len(new) - (match.end() - match.start())
        raw.append(match.start())
        raw_ends.append(match.end())
        shift.append(delta)
        last = match.end()
    parts.append(text[last:])
    return "".join(parts), OffsetMap(tuple(raw), tuple(shift), tuple(raw_ends))


def is_clean(text: str) -> bool:
    """No ligature, control character or irregular space left (the extraction tests' check)."""
    return clean_text(text)[0] == text
