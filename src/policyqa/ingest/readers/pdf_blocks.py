"""A page's body lines as blocks a person reads: headings, paragraphs, footnotes.

Paragraphs break at extra space between lines, a change of size, a bullet, or a sentence that ends a line short
of the column's edge; lines inside one are joined with a space, line-end hyphens undone where the joined word is a
word ("regu-" + "lation"), kept where both halves are ("cloud-" + "based"). Footnotes are the small lines at the
foot of a page from the first one starting with a marker; each becomes its own block.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from statistics import median

from policyqa.ingest.readers.pdf_lines import Line, PageLines

SMALLER = 0.9  # footnote text against the body text's size
_SENTENCE_END = re.compile(r"[.!?:;][\"'”’)\]]*$")
_LIST_START = re.compile(r"^(?:[•●▪■◦○✓➢►]|[-–—*]\s|\(?[a-z0-9]{1,3}\)\s|\d{1,2}\.\s|[a-z]\.\s)", re.IGNORECASE)
_FOOTNOTE_START = re.compile(r"^(?:\d{1,3}|[*†‡§¶]{1,3})(?:\s|\.\s|(?=[A-Z\"“(]))")
_LEADER = re.compile(r"(?:\s*\.){4,}\s*|(?:\s*…){2,}\s*")
_HYPHENS = "-\u00ad\ufffe\x02\u2010"
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


@dataclass
class Block:
    kind: str  # "heading", "paragraph" or "table" (one line per row)
    text: str
    level: int = 0  # headings: outline level
    open_end: bool = False  # paragraphs: its last line runs to the column's edge without ending a sentence
    lines: int = 1


@dataclass
class Vocabulary:
    """The document's words, to tell a word broken at a line end ("regu-" "lation") from a compound ("cloud-"
    "based"). Where the document itself does not say (neither form occurs elsewhere), its own habit decides:
    typeset documents hyphenate words at line ends, word processors mostly break after a compound's hyphen."""

    words: set[str] = field(default_factory=set)
    joins_words: bool = False  # line-end hyphens in this document mostly break words

    @classmethod
    def of(cls, pages: list[PageLines]) -> Vocabulary:
        found: set[str] = set()
        for page in pages:
            for line in page.lines:
                for word in _WORD.findall(line.text.lower()):
                    found.add(word)
                    if "-" in word:
                        found.update(word.split("-"))
        vocabulary = cls(found)
        votes = [vocabulary._known(first, second) for first, second in _line_end_breaks(pages)]
        vocabulary.joins_words = votes.count("joined") > votes.count("hyphenated")
        return vocabulary

    def _known(self, first: str, second: str) -> str | None:
        if first + second in self.words:
            return "joined"
        if f"{first}-{second}" in self.words:
            return "hyphenated"
        return None

    def join(self, before: str, after: str) -> str:
        """`before` and `after` as consecutive lines of one paragraph."""
        if not before or not after:
            return before + after
        if before[-1] in _HYPHENS and len(before) > 1 and before[-2].isalpha():
            head = re.search(r"[^\W\d_]+$", before[:-1])
            tail = re.match(r"[^\W\d_]+", after)
            if head and tail and not after[0].isupper():
                first, second = head.group().lower(), tail.group().lower()
                known = self._known(first, second)
                if known == "joined" or (known is None and self.joins_words):
                    return before[:-1] + after
            return before[:-1] + "-" + after
        if before[-1] in _HYPHENS[1:]:
            return before[:-1] + after
        if before[-1] in _HYPHENS and len(before) > 1 and before[-2].isdigit() and after[0].isdigit():
            return before + after  # a number range or code broken at the line end: "113-" + "274"
        return before + " " + after


def _line_end_breaks(pages: list[PageLines]) -> list[tuple[str, str]]:
    """(first part, second part) of each word broken by a hyphen at a line end, the next line going on in lower
    case."""
    found: list[tuple[str, str]] = []
    for page in pages:
        for line, following in zip(page.lines, page.lines[1:], strict=False):
            head = re.search(r"[^\W\d_]+(?=.$)", line.text) if line.text[-1:] in _HYPHENS else None
            tail = re.match(r"[^\W\d_]+", following.text) if head else None
            if head and tail and tail.group()[0].islower():
                found.append((head.group().lower(), tail.group().lower()))
    return found


def body_size(pages: list[PageLines], skip: list[set[int]]) -> float:
    """The size most of the text is set in (weighted by characters)."""
    sizes: Counter[float] = Counter()
    for page, dropped in zip(pages, skip, strict=True):
        for i, line in enumerate(page.lines):
            if i not in dropped:
                sizes[round(line.size * 2) / 2] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def line_gap(pages: list[PageLines], skip: list[set[int]], size: float) -> float:
    """The usual space between two lines of one paragraph (may be negative: loose boxes overlap)."""
    gaps: list[float] = []
    for page, dropped in zip(pages, skip, strict=True):
        lines = page.lines
        for i in range(1, len(lines)):
            a, b = lines[i - 1], lines[i]
            if i in dropped or i - 1 in dropped or abs(a.size - size) > 0.1 * size or abs(b.size - size) > 0.1 * size:
                continue
            gap = b.top - a.bottom
            if -0.5 * size < gap < size:
                gaps.append(gap)
    return median(gaps) if gaps else 0.2 * size


def find_footnotes(page: PageLines, skip: set[int], size: float) -> list[list[int]]:
    """The footnotes at the foot of a page, each as the indexes of its lines (top to bottom)."""
    order = sorted((i for i in range(len(page.lines)) if i not in skip), key=lambda i: page.lines[i].top)
    tail: list[int] = []
    for i in reversed(order):
        if page.lines[i].size >= SMALLER * size:
            break
        tail.append(i)
    tail.reverse()
    starts = _note_starts([page.lines[i] for i in tail])
    if not starts or page.lines[tail[starts[0]]].top < 0.4 * page.height or len(tail) == len(order):
        return []
    notes: list[list[int]] = []
    for k in range(starts[0], len(tail)):
        if k in starts or not notes:
            notes.append([])
        notes[-1].append(tail[k])
    return notes


def _note_starts(lines: list[Line]) -> list[int]:
    """Which lines start a footnote: a raised marker, or a plain number that follows the previous note's."""
    starts: list[int] = []
    previous: int | None = None
    for k, line in enumerate(lines):
        if line.marker:
            starts.append(k)
            previous = int(line.marker) if line.marker.isdigit() else None
            continue
        found = _FOOTNOTE_START.match(line.text)
        if not found:
            continue
        label = found.group().strip(" .")
        number = int(label) if label.isdigit() else None
        if not starts or previous is None or number is None or number == previous + 1:
            starts.append(k)
            previous = number
    return starts


def footnote_text(page: PageLines, indexes: list[int], vocabulary: Vocabulary) -> str:
    first = page.lines[indexes[0]]
    text = f"{first.marker} {first.text}" if first.marker else first.text
    for i in indexes[1:]:
        text = vocabulary.join(text, page.lines[i].text)
    return text


@dataclass
class PageLayout:
    size: float  # body text size
    gap: float  # usual space between lines of a paragraph


def paragraphs(page: PageLines, order: list[int], layout: PageLayout, vocabulary: Vocabulary) -> list[Block]:
    """The lines `order` (body lines, no headings) of a page as paragraphs."""
    from policyqa.ingest.readers.pdf_tables import find_tables

    blocks: list[Block] = []
    lines = page.lines
    tables = {t.start: t for t in find_tables([lines[i] for i in order], layout.size, vocabulary.join)}
    previous: Line | None = None
    skip_to = 0
    for position, i in enumerate(order):
        if position < skip_to:
            continue
        if table := tables.get(position):  # a table: one line per row, its own block
            blocks.append(Block("table", "\n".join(table.lines), lines=len(table.lines)))
            skip_to = table.end
            previous = None  # what follows a table starts a block of its own
            continue
        line = lines[i]
        text = _LEADER.sub(" … ", line.text).strip()
        if previous is None or _breaks(previous, line, page, layout):
            blocks.append(Block("paragraph", text))
        elif _LEADER.search(line.text) or _LEADER.search(previous.text):
            blocks[-1].text += "\n" + text  # a table-of-contents entry per line
            blocks[-1].lines += 1
        else:
            blocks[-1].text = vocabulary.join(blocks[-1].text, text)
            blocks[-1].lines += 1
        full = line.x1 >= _right_edge(page, line) - 2 * line.size
        blocks[-1].open_end = blocks[-1].lines > 1 and full and not _SENTENCE_END.search(text)
        previous = line
    return blocks


def _breaks(previous: Line, line: Line, page: PageLines, layout: PageLayout) -> bool:
    size = max(previous.size, line.size)
    ended = bool(_SENTENCE_END.search(previous.text))
    if line.top < previous.top - 0.5 * size:  # moved up: the next column, or a box drawn out of order
        return ended
    if line.top - previous.bottom > layout.gap + 0.3 * size:
        return True
    if abs(line.size - previous.size) > 0.15 * size:
        return True
    if previous.bold and not line.bold and previous.x1 < _right_edge(page, previous) - 3 * size:
        return True  # a short bold line (a run-in heading) before body text
    if _LIST_START.match(line.text):
        return True
    if ended and previous.x1 < _right_edge(page, previous) - 3 * size:
        return True  # the short last line of a paragraph
    return ended and line.x0 > previous.x0 + 0.8 * size and not _LIST_START.match(previous.text)


def _right_edge(page: PageLines, line: Line) -> float:
    """Where lines of this line's column end: the furthest right end among lines starting near its start."""
    reach = 0.25 * page.width
    return max((other.x1 for other in page.lines if abs(other.x0 - line.x0) <= reach), default=line.x1)
