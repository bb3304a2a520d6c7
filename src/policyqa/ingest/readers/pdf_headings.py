"""Headings and the title of a PDF, from its bookmarks and from its fonts.

Bookmarks (the outline) name the sections and their depth; each is matched to the line(s) on its page that print
its title. Without a usable outline, headings are the short lines set clearly larger than the body text, or bold
at body size with space after them; their level is the rank of their size, or the depth of their number ("2.3").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from policyqa.ingest.readers.pdf_furniture import page_number
from policyqa.ingest.readers.pdf_lines import Line, PageLines

LARGER = 1.15  # a heading's size against the body text's
MAX_HEADING_CHARS = 160
COVER_CHARS = 600  # a first page with less text than this is a cover: its largest line is the title
_NUMBERED = re.compile(r"^(?:(?:chapter|section|part|appendix|annex)\s+)?(\d+(?:\.\d+)*)\.?\s", re.IGNORECASE)
_NUMBERING = re.compile(r"^(?:appendix|annex|chapter|section|part)?[a-z0-9]{0,4}$")
_BULLET = re.compile(r"^[•●▪■◦○\-–—*✓]\s")
_IDENTIFIER = re.compile(r"^[\w./:-]*\d[\w./:-]*$")  # one "word" with a digit: "NIST.SP.800-63b", "M-24-15"


@dataclass
class Bookmark:
    title: str
    page: int  # 0-based page index the bookmark points to
    level: int  # 1 = top of the outline


@dataclass
class HeadingLines:
    page: int
    lines: list[int]  # indexes into the page's lines, in reading order
    level: int


def _alnum(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def headings_from_bookmarks(
    pages: list[PageLines], skip: list[set[int]], bookmarks: list[Bookmark]
) -> list[HeadingLines]:
    """Each bookmark matched to the lines printing its title on its page (or the next one); unmatched ones are
    left out: their title is not in the text."""
    found: list[HeadingLines] = []
    used: set[tuple[int, int]] = set()
    for mark in bookmarks:
        wanted = _alnum(mark.title)
        if not wanted:
            continue
        for page in (mark.page, mark.page + 1):
            if not 0 <= page < len(pages):
                continue
            match = _match_title(pages[page].lines, skip[page], used, page, wanted)
            if match:
                used.update((page, i) for i in match)
                found.append(HeadingLines(page, match, mark.level))
                break
    return found


def _match_title(lines: list[Line], skip: set[int], used: set[tuple[int, int]], page: int, wanted: str) -> list[int]:
    for i, line in enumerate(lines):
        if i in skip or (page, i) in used:
            continue
        got = _alnum(line.text)
        if not got:
            continue
        if got == wanted or (got.endswith(wanted) and len(got) - len(wanted) <= 8 and len(wanted) >= 4):
            return [i]  # the line, perhaps with a number the bookmark leaves out
        if len(got) >= 4 and wanted.endswith(got) and _NUMBERING.match(wanted[: len(wanted) - len(got)]):
            return [i]  # the bookmark names its number ("Appendix B— Acronyms"), the page draws it apart
        if not wanted.startswith(got):
            continue
        taken = [i]
        j = i + 1
        while got != wanted and j < len(lines) and j - i < 6:
            more = _alnum(lines[j].text)
            if j in skip or not wanted.startswith(got + more):
                break
            got += more
            taken.append(j)
            j += 1
        if got == wanted:
            return taken
    return []


def headings_from_fonts(pages: list[PageLines], skip: list[set[int]], body_size: float) -> list[HeadingLines]:
    """Short lines clearly larger than the body text, or bold at body size with space after them; consecutive
    lines of one heading (same size and weight, aligned, close) are taken together."""
    candidates: list[tuple[int, list[int], float]] = []  # page, lines, size (0: bold at body size)
    for number, page in enumerate(pages):
        lines = page.lines
        i = 0
        while i < len(lines):
            line = lines[i]
            larger = line.size >= LARGER * body_size
            if i in skip[number] or not _heading_like(line) or not (larger or _bold_body(line, body_size)):
                i += 1
                continue
            group = [i]
            j = i + 1
            while j < len(lines) and j not in skip[number] and len(group) < 4:
                if not (_heading_like(lines[j]) and _continues(lines[j - 1], lines[j])):
                    break
                group.append(j)
                j += 1
            last = lines[group[-1]]
            after = lines[j] if j < len(lines) and j not in skip[number] else None
            set_apart = after is None or after.top - last.bottom > 0.3 * last.size or after.top < last.top
            if larger or set_apart:
                candidates.append((number, group, line.size if larger else 0.0))
            i = j
    sizes = sorted({round(size * 2) / 2 for _, _, size in candidates if size}, reverse=True)
    headings: list[HeadingLines] = []
    for number, indexes, size in candidates:
        text = " ".join(pages[number].lines[i].text for i in indexes)
        if len(text) > MAX_HEADING_CHARS:
            continue
        numbered = _NUMBERED.match(text)
        if size:
            level = sizes.index(round(size * 2) / 2) + 1
        elif numbered:
            level = numbered.group(1).count(".") + 1 + (1 if sizes else 0)
        else:
            level = len(sizes) + 1
        headings.append(HeadingLines(number, indexes, level))
    return headings


def _bold_body(line: Line, body_size: float) -> bool:
    return line.bold and line.size >= 0.95 * body_size


def _heading_like(line: Line) -> bool:
    text = line.text
    if len(text) > MAX_HEADING_CHARS or sum(ch.isalpha() for ch in text) < 2:
        return False
    if text[0].islower() or _BULLET.match(text) or text.endswith((",", ";")) or page_number(text):
        return False
    return not (text.endswith(".") and not _NUMBERED.match(text + " ") and len(text.split()) > 3)


def _continues(previous: Line, line: Line) -> bool:
    """A heading's next line: same size and weight, aligned with it, close below it, not a numbered heading."""
    size = previous.size
    aligned = abs(line.x0 - previous.x0) <= size or abs((line.x0 + line.x1) - (previous.x0 + previous.x1)) <= 2 * size
    return (
        abs(line.size - size) <= 0.08 * size
        and line.bold == previous.bold
        and 0 <= line.top - previous.bottom <= 0.8 * size
        and aligned
        and not _NUMBERED.match(line.text)
    )


def title_from_fonts(pages: list[PageLines], skip: list[set[int]], body_size: float) -> str | None:
    """The largest text on the first page with text (its lines close together, top to bottom), when it is
    clearly larger than the body text or the page is a cover (little text). Numbers and identifiers set large
    ("Calendar No. 618", "NIST Special Publication 800-207") are passed over."""
    for number, page in enumerate(pages[:2]):
        lines = [line for i, line in enumerate(page.lines) if i not in skip[number] and _title_like(line.text)]
        if not lines:
            continue
        largest = max(line.size for line in lines)
        cover = sum(len(line.text) for line in page.lines) < COVER_CHARS
        if largest < LARGER * body_size and not cover:
            return None
        big = sorted((line for line in lines if line.size >= 0.95 * largest), key=lambda line: line.top)
        parts = [big[0]]
        for line in big[1:]:
            if line.top - parts[-1].bottom > line.size:
                break
            parts.append(line)
        title = " ".join(line.text for line in parts)
        return title if len(title) <= 200 else None
    return None


def _title_like(text: str) -> bool:
    words = text.split()
    if sum(ch.isalpha() for ch in text) < 3 or page_number(text) or _IDENTIFIER.match(text):
        return False
    return not (len(words) <= 4 and any(ch.isdigit() for ch in text))
