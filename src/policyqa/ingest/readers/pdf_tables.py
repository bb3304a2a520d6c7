"""Tables in a PDF page's body, found from where lines sit, so each row becomes one line that carries its
column headers ("Update | Description of Update: Added clarity that …").

Two ways a PDF draws a table: row by row (a line whose pieces stand apart like cells), or cell by cell (a cell's
lines, then the next cell's lines back up at the row's top, to the right). Both are recognised when at least two
rows have the same number of cells starting at the same places. Anything else stays paragraphs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from policyqa.ingest.readers.pdf_lines import Line
from policyqa.ingest.readers.table_rows import table_lines

_LIST_NUMBER = re.compile(r"^(?:\(?[0-9A-Za-z]{1,3}(?:\.\d+)*[.)]?|[•●▪■◦○\-–*])$")


@dataclass
class Table:
    start: int  # position in the run of body lines of its first line
    end: int  # position after its last line
    lines: list[str]  # one per row, the header row first when there is one


@dataclass
class _Row:
    starts: list[float]  # each cell's left edge
    cells: list[list[str]]  # each cell's lines
    top: float
    bottom: float
    end: int  # position after the row's last line


def find_tables(lines: list[Line], size: float, join: Callable[[str, str], str]) -> list[Table]:
    """The tables among `lines` (a page's body lines in reading order); `join` joins two lines of a cell."""
    tables: list[Table] = []
    k = 0
    while k < len(lines):
        rows: list[_Row] = []
        at = k
        while at < len(lines) and (row := _row_at(lines, at, size)) is not None:
            if rows and not _same_columns(rows[0], row, size):
                break
            rows.append(row)
            at = row.end
        if len(rows) >= 2 and not _numbered_list(rows):
            start = k
            cells: list[list[str | None]] = [[functools.reduce(join, cell) for cell in row.cells] for row in rows]
            header = _header_before(lines, k, rows[0], size)
            if header is not None:
                cells.insert(0, header)
                start = k - 1
            found = table_lines(cells, header_rows=1 if header is not None else None)
            tables.append(Table(start, rows[-1].end, found))
            k = rows[-1].end
        else:
            k += 1
    return tables


def _numbered_list(rows: list[_Row]) -> bool:
    """Numbered paragraphs with a hanging indent ("6.2   Text of the clause"), not a table."""
    return len(rows[0].starts) == 2 and all(_LIST_NUMBER.match(" ".join(row.cells[0])) for row in rows)


def _row_at(lines: list[Line], k: int, size: float) -> _Row | None:
    first = lines[k]
    if first.cells:
        row = _Row([x for x, _ in first.cells], [[t] for _, t in first.cells], first.top, first.bottom, k + 1)
    else:
        row = _Row([first.x0], [[first.text]], first.top, first.bottom, k + 1)
    right = first.x1
    previous = first
    for j in range(k + 1, len(lines)):
        line = lines[j]
        column = _column(row.starts, line.x0, size)
        below = -0.5 * size <= line.top - previous.bottom <= 0.9 * size and line.top > previous.top
        # the next line of a cell: any cell of a row drawn as one line; else the cell being drawn
        current = column is not None and (bool(first.cells) or column == len(row.starts) - 1)
        if below and current and column is not None and not line.cells:
            row.cells[column].append(line.text)
        elif abs(line.top - row.top) <= 0.6 * size and line.x0 >= right - 0.5 * size and not line.cells:
            row.starts.append(line.x0)  # the next cell, drawn after the previous one's lines
            row.cells.append([line.text])
        else:
            break
        right = max(right, line.x1)
        row.bottom = max(row.bottom, line.bottom)
        row.end = j + 1
        previous = line
    return row if len(row.starts) >= 2 else None


def _column(starts: list[float], x0: float, size: float) -> int | None:
    for i, start in enumerate(starts):
        if abs(x0 - start) <= 1.5 * size:
            return i
    return None


def _same_columns(first: _Row, row: _Row, size: float) -> bool:
    return len(first.starts) == len(row.starts) and all(
        abs(a - b) <= 1.5 * size for a, b in zip(first.starts, row.starts, strict=True)
    )


def _header_before(lines: list[Line], k: int, row: _Row, size: float) -> list[str | None] | None:
    """The line just above the first row, when its pieces fall one over each column."""
    if k == 0:
        return None
    line = lines[k - 1]
    if len(line.cells) != len(row.starts) or not -0.5 * size <= row.top - line.bottom <= 1.5 * size:
        return None
    spans = row.starts[1:] + [float("inf")]
    if not all(start - 2 * size <= x < end for (x, _), start, end in zip(line.cells, row.starts, spans, strict=True)):
        return None
    return [text for _, text in line.cells]
