"""HTML pages."""

from __future__ import annotations

import re
from typing import Any

from policyqa.ingest.readers.base import ParsedText, decode_text

_HIDDEN_TAGS = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object"}
_BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "li",
    "tr",
    "br",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "ul",
    "ol",
    "header",
    "footer",
    "main",
    "blockquote",
    "pre",
    "title",
}


def read_html(data: bytes) -> ParsedText:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(data), "html.parser")
    raw = "".join(_visible_text(soup))
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in raw.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    headings: list[tuple[int, str]] = []
    levels: list[int] = []
    cursor = 0
    for tag in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"]):
        words = tag.get_text().split()
        found = re.compile(r"\s+".join(map(re.escape, words))).search(text, cursor) if words else None
        if found:
            headings.append((found.start(), " ".join(words)))
            levels.append(int(tag.name[1]))
            cursor = found.end()
    return ParsedText(text=text, headings=headings, levels=levels)


def _visible_text(root: Any) -> list[str]:
    """Text pieces in document order, a newline around block elements; one pass, no recursion (deep nesting)."""
    from bs4 import CData, NavigableString, Tag

    parts: list[str] = []
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        if closing:
            parts.append("\n")
        elif isinstance(node, Tag):
            if node.name in _HIDDEN_TAGS:
                continue
            if node.name in _BLOCK_TAGS:
                parts.append("\n")
                stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
        elif type(node) in (NavigableString, CData):  # not comments, doctypes or processing instructions
            parts.append(str(node))
    return parts
