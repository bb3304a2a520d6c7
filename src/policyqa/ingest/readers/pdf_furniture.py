"""Page furniture: running headers, footers and page numbers, found so the text can leave them out.

A line is furniture when it sits at the top or bottom edge of its page (among the outermost lines, inside the
edge band) and either repeats, digits aside, at about the same height on several pages, or is a bare page number
("12", "iv", "2-3", "Page 3 of 10", "- 7 -") or a print tool's stamp (a date and time, a URL). Body lines are safe:
they are not both repeated and at the page edge. The printed page numbers found here serve as page labels when
the PDF has none of its own.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from statistics import median

from policyqa.ingest.readers.pdf_lines import Line, PageLines

BAND = 0.2  # share of the page height at the top and at the bottom where furniture sits (typeset pages: wide)
OUTERMOST = 4  # furniture is among this many lines from the top or bottom of a page
NUMBER_OUTERMOST = 2  # a bare page number is among this many
_PAGE_WORD = re.compile(r"\b(?:p\s*a\s*g\s*e|pg\.?|p\.)\s*", re.IGNORECASE)
_OF_TOTAL = re.compile(r"\s*(?:of|/)\s*\d+\s*$", re.IGNORECASE)
_ROMAN = r"(?=[ivxlcdm])m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
_LABEL = re.compile(rf"^(?:{_ROMAN}|[A-Z]{{0,4}}-?\d{{1,4}}|\d{{1,3}}[-.]\d{{1,4}})$", re.IGNORECASE)
_PRINT_STAMP = re.compile(
    r"^(?:\d{1,4}[./-]\d{1,2}[./-]\d{1,4},?\s+\d{1,2}:\d{2}|(?:https?|file)://\S+(?:\s+\d+\s*/\s*\d+)?$)",
    re.IGNORECASE,
)
_NUMBER_WORDS = {"page", "pg", "pg.", "p.", "of", "|", "-", "–", "—", "/"}
_EDGE_TOKEN = re.compile(r"^(\S+)\s.*?\s?(\S+)$")


@dataclass
class Furniture:
    dropped: list[set[int]] = field(default_factory=list)  # per page: indexes of its furniture lines
    numbers: list[str | None] = field(default_factory=list)  # per page: the printed page number found, if any


def page_number(text: str) -> str | None:
    """The page number a footer line is made of ("Page 3 of 10" -> "3"), or None if it says more than that."""
    t = text.strip().strip("-–—|·• ").strip()
    t = _PAGE_WORD.sub("", t).strip("-–—|·•, ")
    t = _OF_TOTAL.sub("", t).strip("-–—|·•, ")
    return t if t and _LABEL.match(t) else None


def _key(text: str) -> str:
    """A line's text without its page number ("Page 3 of 10", "iv", "2-3"): the same running line on every page,
    whether or not a page prints its number in it."""
    words = (w for w in text.lower().split() if not page_number(w) and w not in _NUMBER_WORDS)
    return re.sub(r"\d+", "#", " ".join(words))


def _edge_lines(page: PageLines) -> list[tuple[int, bool]]:
    """The lines that could be furniture: the outermost ones inside the top and bottom bands, each with whether
    it is outermost enough to be a bare page number."""
    order = sorted(range(len(page.lines)), key=lambda i: page.lines[i].top)
    top_band = page.height * BAND
    bottom_band = page.height * (1 - BAND)
    chosen = [(i, k < NUMBER_OUTERMOST) for k, i in enumerate(order[:OUTERMOST]) if page.lines[i].bottom <= top_band]
    tail = order[-OUTERMOST:]
    for k, i in enumerate(tail):
        if page.lines[i].top >= bottom_band and i not in {c for c, _ in chosen}:
            chosen.append((i, k >= len(tail) - NUMBER_OUTERMOST))
    return chosen


def _edge_distance(page: PageLines, line: Line) -> float:
    """How far a line sits from the page edge it is near (the same on portrait and landscape pages)."""
    return line.top if line.top < page.height / 2 else page.height - line.bottom


def find_furniture(pages: list[PageLines]) -> Furniture:
    edges = [_edge_lines(page) for page in pages]  # per page: (line index, outermost)
    min_repeats = 2 if len(pages) <= 4 else 3
    positions: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for number, (page, indexes) in enumerate(zip(pages, edges, strict=True)):
        for i, _ in indexes:
            positions[_key(page.lines[i].text)].append((number, _edge_distance(page, page.lines[i])))
    repeated: set[tuple[int, str]] = set()
    for key, seen in positions.items():
        if len({p for p, _ in seen}) < min_repeats:
            continue
        middle = median(distance for _, distance in seen)
        near = {p for p, distance in seen if abs(distance - middle) <= 0.03 * pages[p].height}
        if len(near) >= min_repeats:
            repeated.update((p, key) for p in near)
    result = Furniture()
    for number, (page, indexes) in enumerate(zip(pages, edges, strict=True)):
        dropped: set[int] = set()
        found: str | None = None
        for i, outermost in indexes:
            text = page.lines[i].text
            label = page_number(text) if outermost else None
            if label is not None or (number, _key(text)) in repeated or _PRINT_STAMP.match(text):
                dropped.add(i)
                found = found or label
        dropped.update(i for i, line in enumerate(page.lines) if line.vertical and _in_side_margin(page, line))
        result.dropped.append(dropped)
        result.numbers.append(found)
    _numbers_from_running_lines(pages, result)
    _drop_outliers(result.numbers)
    return result


def _in_side_margin(page: PageLines, line: Line) -> bool:
    """Text running up the left or right margin: a DOI strip, a "DRAFT" or archive stamp."""
    return line.x1 <= page.width * BAND * 1.5 or line.x0 >= page.width * (1 - BAND * 1.5)


def _numbers_from_running_lines(pages: list[PageLines], result: Furniture) -> None:
    """Page numbers printed inside a running line ("NIST SP 800-63B   12", "III-5   JP 6-0"): the first or last
    word of the line, where that word changes from page to page."""
    lines_by_key: dict[str, dict[int, Line]] = defaultdict(dict)
    for number, (page, dropped) in enumerate(zip(pages, result.dropped, strict=True)):
        if result.numbers[number] is None:
            for i in dropped:
                lines_by_key[_key(page.lines[i].text)].setdefault(number, page.lines[i])
    for found in lines_by_key.values():
        if len(found) < 2:
            continue
        sides = []  # the ends of the line where a changing page number is printed (both, on odd and even pages)
        for side in (0, 1):
            labels = {n: page_number(_edge_words(line.text)[side]) for n, line in found.items()}
            if len(set(labels.values()) - {None}) >= max(2, len(found) // 4):
                sides.append(labels)
        for n in found:
            label = next((labels[n] for labels in sides if labels[n] is not None), None)
            if label is not None and result.numbers[n] is None:
                result.numbers[n] = label


def _edge_words(text: str) -> tuple[str, str]:
    match = _EDGE_TOKEN.match(text.strip())
    return (match.group(1), match.group(2)) if match else ("", "")


def _drop_outliers(numbers: list[str | None]) -> None:
    """A plain number that breaks the run of its neighbours (a stray figure at a page edge) is not a page number."""
    offsets = {i: int(n) - i for i, n in enumerate(numbers) if n is not None and n.isdigit()}
    if len(offsets) < 3:
        return
    common = Counter(offsets.values())
    for i, offset in offsets.items():
        neighbours = [offsets.get(i - 1), offsets.get(i + 1)]
        if offset not in neighbours and common[offset] == 1:
            numbers[i] = None
