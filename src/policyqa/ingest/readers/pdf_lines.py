"""A PDF page's text as lines with positions, from PDFium's characters and their boxes.

PDFium orders characters as the page's content stream draws them and puts a line break wherever the text moves;
word processors that draw every word on its own make one "line" per word. So lines are made here from geometry:
characters whose boxes overlap vertically, drawn left to right, form one line, whatever PDFium's breaks say.
Raised small digits and symbols (footnote markers) are set apart so "2018¹" never reads "20181".
"""

from __future__ import annotations

import ctypes
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from policyqa.ingest.readers.pdf_line_fixes import rejoin_rows, without_stray_markers

_SURROGATE = re.compile("[\ud800-\udfff]")
_WIDE = re.compile("[\ud800-\udfff\ue000-\uf8ff]")
MARKER_CHARS = frozenset("0123456789*†‡§¶")
# Symbol-font bullets that PDFium reports as private-use characters (Word's "Symbol" and "Wingdings" lists)
_BULLETS = {"\uf0b7": "•", "\uf0a7": "▪", "\uf0d8": "•", "\uf0fc": "✓", "\uf076": "•", "\uf0a8": "•", "\uf02d": "-"}
_BOLD_WEIGHT = 600
SOFT, HARD = 1, 2
CELL_GAP = 1.2  # a gap this many times the font size parts two table cells (or tab stops) on one line


@dataclass
class Line:
    """One line of text. Coordinates in points from the page's top-left corner."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float  # font size of most of its characters
    bold: bool = False
    marker: str = ""  # a raised footnote marker that starts the line: "1" of "¹ See the Act."
    vertical: bool = False  # text running up or down the page (a margin note, a rotated label)
    cells: list[tuple[float, str]] = field(default_factory=list)  # (x0, text) of pieces apart like table cells

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass
class PageLines:
    lines: list[Line] = field(default_factory=list)
    width: float = 612.0
    height: float = 792.0
    chars: int = 0  # characters PDFium found (0: no text layer)


@dataclass(slots=True)
class _Char:
    ch: str
    index: int  # PDFium's character index (for font queries)
    x0: float
    top: float
    x1: float
    bottom: float
    gap_before: int = 0  # before it: 0 nothing, SOFT a space or line break PDFium added, HARD a space character


def read_page_lines(page: Any, textpage: Any) -> PageLines:
    """The lines of one page, in the order PDFium reads them (hold PDFIUM_LOCK while calling)."""
    import pypdfium2.raw as pdfium_c

    left, bottom, right, top = page.get_bbox()
    rotation = page.get_rotation() % 360
    turned = rotation in (90, 270)
    result = PageLines(width=top - bottom if turned else right - left, height=right - left if turned else top - bottom)
    raw = textpage.raw
    count = pdfium_c.FPDFText_CountChars(raw)
    result.chars = max(count, 0)
    if count <= 0:
        return result
    text = textpage.get_text_range()
    if len(text) != count or _SURROGATE.search(text):  # beyond the BMP: the text's halves shift every index after
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(raw, i) or 0xFFFD) for i in range(count))
    chars = _boxed_chars(raw, text, (left, bottom, right, top), rotation, pdfium_c)

    def rotated(index: int) -> bool:  # asked only of characters stacked like rotated text (few)
        return abs(math.sin(pdfium_c.FPDFText_GetCharAngle(raw, index) - math.radians(rotation))) > 0.7

    for group, vertical in _group_lines(chars, rotated):
        line = _vertical_line(group) if vertical else _make_line(group, raw, pdfium_c)
        if line is not None:
            result.lines.append(line)
    result.lines = rejoin_rows(without_stray_markers(result.lines, MARKER_CHARS))
    return result


def _boxed_chars(
    raw: Any, text: str, bbox: tuple[float, float, float, float], rotation: int, pdfium_c: Any
) -> list[_Char]:
    """Characters with their loose boxes (the font's ascent to descent, so every letter of a line has the same
    height) as the page is shown (turned by its /Rotate), in points from its top-left corner; PDFium's generated
    spaces and line breaks have no box and only mark a gap before the next one."""
    left, bottom, right, top = bbox
    rect = pdfium_c.FS_RECTF()
    ref = ctypes.byref(rect)
    get_box = pdfium_c.FPDFText_GetLooseCharBox
    chars: list[_Char] = []
    append = chars.append
    gap = 0
    wide = _WIDE.search(text) is not None  # surrogate halves or private-use glyphs: the careful path
    for index, ch in enumerate(text):
        if wide and ch >= "\ud800":
            if ch <= "\udfff":  # PDFium keeps a character beyond the BMP as two halves: make it one
                if ch > "\udbff" or index + 1 >= len(text) or not "\udc00" <= text[index + 1] <= "\udfff":
                    continue
                ch = (ch + text[index + 1]).encode("utf-16-le", "surrogatepass").decode("utf-16-le")
            ch = _BULLETS.get(ch, ch)
            if "\ue000" <= ch <= "\uf8ff":  # a private-use glyph (a decorative symbol font) means nothing as text
                gap = gap or SOFT
                continue
        if ch == "\n" or ch == "\r" or not get_box(raw, index, ref) or rect.top <= rect.bottom:
            gap = gap or SOFT  # a line break or space PDFium added (it has no box)
            continue
        if ch == " " or ch.isspace():
            gap = HARD  # a space the file draws
            continue
        if rotation == 0:
            append(_Char(ch, index, rect.left - left, top - rect.top, rect.right - left, top - rect.bottom, gap))
            gap = 0
            continue
        if rotation == 90:  # shown turned clockwise: up becomes right, right becomes down
            append(_Char(ch, index, rect.bottom - bottom, rect.left - left, rect.top - bottom, rect.right - left, gap))
        elif rotation == 180:
            append(
                _Char(ch, index, right - rect.right, rect.bottom - bottom, right - rect.left, rect.top - bottom, gap)
            )
        else:
            append(_Char(ch, index, top - rect.top, right - rect.right, top - rect.bottom, right - rect.left, gap))
        gap = 0
    return chars


def _stacked(previous: _Char, c: _Char) -> bool:
    """`c` continues a run of text going down or up the page (each character under the previous one)."""
    width = previous.x1 - previous.x0
    if abs(c.x0 - previous.x0) > 0.1 * width or abs(c.x1 - previous.x1) > 0.1 * width:
        return False
    return -0.2 * width <= c.top - previous.bottom <= width or -0.2 * width <= previous.top - c.bottom <= width


def _group_lines(chars: list[_Char], rotated: Callable[[int], bool]) -> list[tuple[list[_Char], bool]]:
    """Consecutive characters on one baseline, moving right, make one line; characters stacked in a column
    (rotated text) make one vertical line."""
    lines: list[tuple[list[_Char], bool]] = []
    current: list[_Char] = []
    top = bottom = right = 0.0
    vertical = False
    for c in chars:
        if current and (vertical or len(current) == 1) and _stacked(current[-1], c) and rotated(c.index):
            vertical = True
            current.append(c)
            continue
        if vertical:
            lines.append((current, True))
            current, vertical = [], False
        if current:
            c_top, c_bottom = c.top, c.bottom
            overlap = (bottom if bottom < c_bottom else c_bottom) - (top if top > c_top else c_top)
            height = bottom - top if bottom - top < c_bottom - c_top else c_bottom - c_top
            # the same row, going on to the right (letters of one ligature glyph share its box: "ti")
            if overlap > 0.5 * height and (c.x0 > right - 0.5 * height or c.x0 >= current[-1].x0 - 0.1 * height):
                current.append(c)
                if c.x1 > right:
                    right = c.x1
                if c.ch not in MARKER_CHARS or c_bottom - c_top >= 0.8 * (bottom - top):
                    top = c_top if c_top < top else top
                    bottom = c_bottom if c_bottom > bottom else bottom
                continue
            lines.append((current, False))
        current = [c]
        top, bottom, right = c.top, c.bottom, c.x1
    if current:
        lines.append((current, vertical))
    return lines


def _make_line(chars: list[_Char], raw: Any, pdfium_c: Any) -> Line | None:
    heights = [c.bottom - c.top for c in chars if c.ch.isalpha()] or [c.bottom - c.top for c in chars]
    size = median(heights)
    base = median(c.bottom for c in chars if c.bottom - c.top >= 0.8 * size)
    tracking = _letter_spacing(chars)
    pieces: list[tuple[float, int]] = []  # where each piece set apart by a wide gap starts: x0, index in parts
    parts: list[str] = []
    lead = ""
    body_chars: list[_Char] = []
    skipped = False  # a marker was dropped since the last kept character
    for c in chars:
        if _is_marker(c, size, base):
            if not body_chars:
                lead += c.ch
            skipped = True
            continue
        if body_chars:
            previous = body_chars[-1]
            if c.x0 - previous.x1 > CELL_GAP * size:
                pieces.append((c.x0, len(parts) + 1))
            if _word_break(previous, c, size, tracking) or (skipped and previous.ch.isalnum() and c.ch.isalnum()):
                parts.append(" ")  # a dropped marker between two words ("law¹and") still separates them
        elif not pieces:
            pieces.append((c.x0, 0))
        parts.append(c.ch)
        body_chars.append(c)
        skipped = False
    if not body_chars:  # only markers: a lone raised number is kept as text
        body_chars = chars
        parts = [c.ch for c in chars]
        lead = ""
    text = "".join(parts).strip()
    if not text:
        return None
    words = text.split()
    if len(words) >= 5 and sum(len(w) == 1 for w in words) >= 0.8 * len(words):
        text = _spread_out(body_chars)
    return Line(
        text=text,
        x0=min(c.x0 for c in chars),
        top=min(c.top for c in body_chars),
        x1=max(c.x1 for c in chars),
        bottom=max(c.bottom for c in body_chars),
        size=size,
        bold=_is_bold(body_chars, raw, pdfium_c),
        marker=lead,
        cells=_cells(parts, pieces) if len(pieces) > 1 else [],
    )


def _cells(parts: list[str], pieces: list[tuple[float, int]]) -> list[tuple[float, str]]:
    ends = [start for _, start in pieces[1:]] + [len(parts)]
    return [(x0, "".join(parts[start:end]).strip()) for (x0, start), end in zip(pieces, ends, strict=True)]


def _vertical_line(chars: list[_Char]) -> Line:
    size = median(c.x1 - c.x0 for c in chars)
    parts = [chars[0].ch]
    for previous, c in zip(chars, chars[1:], strict=False):
        gap = max(c.top - previous.bottom, previous.top - c.bottom)
        parts.append(" " + c.ch if c.gap_before or gap > 0.3 * size else c.ch)
    return Line(
        text="".join(parts),
        x0=min(c.x0 for c in chars),
        top=min(c.top for c in chars),
        x1=max(c.x1 for c in chars),
        bottom=max(c.bottom for c in chars),
        size=size,
        vertical=True,
    )


def _is_marker(c: _Char, size: float, base: float) -> bool:
    """A footnote marker: a digit or reference symbol, smaller than the line's letters and raised above them."""
    if c.ch not in MARKER_CHARS:
        return False
    height = c.bottom - c.top
    return height < 0.8 * size and c.bottom < base - 0.15 * size


def _spread_out(chars: list[_Char]) -> str:
    """A line set with a space after every letter ("I N F O R M A T I O N"): words are where the gap is wider
    than between letters."""
    gaps = [c.x0 - p.x1 for p, c in zip(chars, chars[1:], strict=False)]
    letters = median(gaps)
    wide = letters + 0.5 * (max(gaps) - letters) if max(gaps) > 1.5 * max(letters, 0.5) else max(gaps) + 1
    return chars[0].ch + "".join((" " if gap >= wide else "") + c.ch for gap, c in zip(gaps, chars[1:], strict=True))


def _letter_spacing(chars: list[_Char]) -> float:
    """The usual space between two letters of a word on this line (0 for most text; more when letter-spaced)."""
    gaps = [c.x0 - p.x1 for p, c in zip(chars, chars[1:], strict=False) if not c.gap_before]
    return max(0.0, median(gaps)) if gaps else 0.0


def _word_break(previous: _Char, c: _Char, size: float, tracking: float) -> bool:
    """A space character is a break; so is a space PDFium added, or a gap, wider than the line's letter spacing
    by a thin space (letter-spaced capitals "N ATIONAL" get spaces added where the font size changes)."""
    if c.gap_before == HARD:
        return True
    wide = c.x0 - previous.x1 > tracking + (0.1 if c.gap_before else 0.3) * size
    return wide or (c.gap_before == SOFT and c.x0 < previous.x0)


def _is_bold(chars: list[_Char], raw: Any, pdfium_c: Any) -> bool:
    """Bold when its first and last letters are (font weight, else the font's name)."""
    letters = [c for c in chars if c.ch.isalpha()]
    if not letters:
        return False
    return _char_bold(letters[0].index, raw, pdfium_c) and (
        len(letters) == 1 or _char_bold(letters[-1].index, raw, pdfium_c)
    )


def _char_bold(index: int, raw: Any, pdfium_c: Any) -> bool:
    weight = pdfium_c.FPDFText_GetFontWeight(raw, index)
    if weight > 0:
        return weight >= _BOLD_WEIGHT
    flags = ctypes.c_int()
    size = pdfium_c.FPDFText_GetFontInfo(raw, index, None, 0, ctypes.byref(flags))
    if size <= 0:
        return False
    buffer = ctypes.create_string_buffer(size)
    pdfium_c.FPDFText_GetFontInfo(raw, index, buffer, size, ctypes.byref(flags))
    name = buffer.value.decode("latin-1", "replace").lower()
    return any(word in name for word in ("bold", "black", "heavy", "semibold"))
