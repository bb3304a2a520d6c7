"""Table rows as lines that carry their column headers, shared by the DOCX and HTML readers.

A row read alone (one chunk, one quoted line) must still say what each cell is: "1.6 | Foundational: – |
Advanced: Y". The first cell is given bare (it names the row); empty cells are left out. A row is a list of cell
texts by grid column; None marks a column covered by the cell before it (a merged or spanning cell).
"""

from __future__ import annotations

import re

Row = list[str | None]

_SENTENCE_END = re.compile(r"[.;!?]$")
_NUMBER = re.compile(r"^[\d\s.,%$€£()+\-–/]*$")
HEADER_CELL_CHARS = 80


def table_lines(rows: list[Row], header_rows: int | None = None) -> list[str]:
    """Every row as one line. `header_rows` leading rows are headers; None: the first row is the header row when
    it looks like one (the file did not mark its header rows)."""
    rows = [row for row in rows if any(cell and cell.strip() for cell in row)]
    if not rows:
        return []
    if header_rows is None:
        header_rows = 1 if looks_like_header(rows) else 0
    header_rows = min(header_rows, len(rows) - 1)  # a table of header rows only has no data to label
    header = column_headers(rows[:header_rows])
    lines = [row_line(row, None) for row in rows[:header_rows]]
    lines += [row_line(row, header) for row in rows[header_rows:]]
    return [line for line in lines if line]


def column_headers(rows: list[Row]) -> list[str]:
    """Each column's header: the texts above it in the header rows, outer first ("SC-REQUEST / Initial"). A row
    that is one cell across the table is a caption, not a column header."""
    width = max((len(row) for row in rows), default=0)
    headers: list[list[str]] = [[] for _ in range(width)]
    for row in rows:
        spread = _spread(row)
        if len(row) > 1 and len(set(spread)) == 1:
            continue
        for i, text in enumerate(spread):
            if text and text not in headers[i]:
                headers[i].append(text)
    return [" / ".join(texts) for texts in headers]


def row_line(row: Row, header: list[str] | None) -> str:
    """One line for one row: cells joined by " | ", each after the first prefixed by its column's header."""
    parts: list[str] = []
    for i, cell in enumerate(row):
        text = " ".join((cell or "").split())
        if not text:
            continue
        name = header[i] if header and 0 < i < len(header) else ""
        parts.append(f"{name}: {text}" if name and name != text else text)
    return " | ".join(parts)


def looks_like_header(rows: list[Row]) -> bool:
    """A first row of short labels above at least one more row: every cell but the corner filled, none a number or
    a sentence. Two-column tables are left alone: most are label/value lists whose first row is data."""
    if len(rows) < 2 or len(rows[0]) < 3:
        return False
    labels = _spread(rows[0])
    return all(_is_label(label) or (i == 0 and not label) for i, label in enumerate(labels))


def _spread(row: Row) -> list[str]:
    """Cell texts by column, a spanning cell's text repeated over the columns it covers."""
    spread: list[str] = []
    for cell in row:
        spread.append(spread[-1] if cell is None and spread else " ".join((cell or "").split()))
    return spread


def _is_label(text: str) -> bool:
    return bool(text) and len(text) <= HEADER_CELL_CHARS and not _NUMBER.match(text) and not _SENTENCE_END.search(text)
