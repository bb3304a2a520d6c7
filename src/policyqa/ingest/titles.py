"""A document's title: a metadata title when it is one, else the first heading or paragraph, else the file name.

Below documents.py and the readers alike (the PDF reader judges its file's title property with `sane_title`).
"""

from __future__ import annotations

import re
from pathlib import Path

TITLE_CHARS = 160
# Lines a print-to-PDF tool puts on every page: "11/28/26, 6:24 PM …", a URL, "Page 1 of 3", "1/3".
PRINT_HEADER = re.compile(
    r"^(\d{1,4}[./-]\d{1,2}[./-]\d{1,4},?\s+\d{1,2}:\d{2}|https?://|file:/|page\s+\d+(\s+of\s+\d+)?$|\d+\s*/\s*\d+$)",
    re.IGNORECASE,
)
_FILE_LIKE = re.compile(r"\.(docx?|pdf|txt|rtf|odt|md|html?|indd|qxd)$|^microsoft word\b|^untitled\b", re.IGNORECASE)


def sane_title(value: str | None) -> str | None:
    """A metadata title worth showing: some words, not a file name, a tool's default or a print header."""
    text = " ".join((value or "").split())
    if not (3 <= len(text) <= 200) or sum(ch.isalpha() for ch in text) < 3:
        return None
    if _FILE_LIKE.search(text) or PRINT_HEADER.match(text):
        return None
    return text


def shorten(text: str, limit: int = TITLE_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit + 1)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:-") + "…"


def document_title(headings: list[tuple[int, str]], text: str, path: Path) -> str:
    """The first heading, else the first paragraph (up to a blank line, whitespace normalised), else the file name.
    Front matter and print-tool header lines are skipped."""
    if headings:
        return shorten(" ".join(headings[0][1].split()), 200)
    from policyqa.ingest.readers.text import FRONT_MATTER

    body = text[m.end() :] if (m := FRONT_MATTER.match(text)) else text
    paragraph: list[str] = []
    for line in body.splitlines():
        line = " ".join(line.split())
        if not paragraph and (not line or PRINT_HEADER.match(line)):
            continue
        if not line:
            break
        paragraph.append(line)
    return shorten(" ".join(paragraph)) if paragraph else path.stem
