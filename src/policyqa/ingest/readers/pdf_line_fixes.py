"""Repairs to a page's lines where the drawing order misleads: a footnote marker drawn apart from its line, and a
piece of a row drawn after the rest of the page ("SUBJECT:" ... its subject)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pdf_lines applies these repairs to its lines; no import back at run time
    from policyqa.ingest.readers.pdf_lines import Line


def without_stray_markers(lines: list[Line], marker_chars: frozenset[str]) -> list[Line]:
    """A footnote marker drawn apart from its line (after it, over it): a lone small raised number beside text."""
    kept: list[Line] = []
    for line in lines:
        if len(line.text) <= 3 and all(ch in marker_chars for ch in line.text) and _beside_text(line, lines):
            continue
        kept.append(line)
    return kept


def _beside_text(marker: Line, lines: list[Line]) -> bool:
    for line in lines:
        if line is marker or marker.size >= 0.8 * line.size:
            continue
        raised = line.top - 0.3 * line.size <= marker.top and marker.bottom < line.bottom
        if raised and line.x0 <= marker.x0 <= line.x1 + line.size:
            return True
    return False


def rejoin_rows(lines: list[Line]) -> list[Line]:
    """A piece drawn later than the rest of its row ("SUBJECT:" ... its subject) goes back to the end of that row.
    Only when one or two lines on the page are like that: many are columns or table cells, left as drawn."""
    late: list[tuple[int, int]] = []
    for i, line in enumerate(lines):
        if i < 2 or line.vertical or line.top >= lines[i - 1].top - 0.5 * line.height:
            continue  # drawn in reading order (below or beside the previous line)
        for j in range(max(0, i - 60), i - 1):
            row = lines[j]
            overlap = min(row.bottom, line.bottom) - max(row.top, line.top)
            if overlap > 0.5 * min(row.height, line.height) and row.x1 < line.x0 and not line.vertical:
                late.append((i, j))
                break
    if not late or len(late) > 2:
        return lines
    for i, j in late:
        row, line = lines[j], lines[i]
        lines[j] = replace(
            row,
            text=f"{row.text} {line.text}",
            top=min(row.top, line.top),
            x1=line.x1,
            bottom=max(row.bottom, line.bottom),
            bold=row.bold and line.bold,
            cells=[],
        )
    dropped = {i for i, _ in late}
    return [line for k, line in enumerate(lines) if k not in dropped]
