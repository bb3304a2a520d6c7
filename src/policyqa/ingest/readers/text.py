"""Plain text and Markdown (headings from "#" lines outside code fences; the title from front matter)."""

from __future__ import annotations

import re

from policyqa.ingest.readers.base import ParsedText, decode_text

_MARKDOWN_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*\S.*)$", re.MULTILINE)  # trailing #s are stripped after
_CODE_FENCE = re.compile(r"^```.*?(?:^```|\Z)", re.MULTILINE | re.DOTALL)
FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)


def read_plain_text(data: bytes, markdown: bool) -> ParsedText:
    text = decode_text(data)
    if not markdown:
        return ParsedText(text=text)
    fences = [m.span() for m in _CODE_FENCE.finditer(text)]
    found = [m for m in _MARKDOWN_HEADING.finditer(text) if not any(a <= m.start() < b for a, b in fences)]
    headings = [(m.start(), m.group(2).rstrip(" \t#").strip() or m.group(2).strip()) for m in found]
    levels = [len(m.group(1)) for m in found]
    return ParsedText(text=text, headings=headings, levels=levels, title=front_matter_title(text))


def front_matter_title(text: str) -> str | None:
    """`title:` of a YAML front matter block (between "---" lines at the very start), quotes removed."""
    match = FRONT_MATTER.match(text)
    if not match:
        return None
    found = re.search(r"^title:[ \t]*(.+?)[ \t]*$", match.group(1), re.MULTILINE)
    if not found:
        return None
    return found.group(1).strip("'\"").strip() or None


