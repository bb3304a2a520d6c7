"""Plain text and Markdown.

Markdown: the YAML (or TOML) front matter becomes metadata and the title, not text; HTML comments outside code
are dropped; headings ("#" lines and underlined ones) are found outside code fences. Offsets refer to what remains.
Every scan here is linear: no pattern backtracks over a line, and comments are found with str.find.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from policyqa.ingest.readers.base import ParsedText, decode_text

FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_TOML_FRONT_MATTER = re.compile(r"\A\ufeff?\+\+\+[ \t]*\n(.*?)\n\+\+\+[ \t]*(?:\n|\Z)", re.DOTALL)
_ATX_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(\S.*))?$")  # "[ \t]+(\S" cannot backtrack: linear per line
_SETEXT_UNDERLINE = re.compile(r" {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])")
_KEY = re.compile(r"([A-Za-z_][\w-]*)[ \t]*[:=][ \t]*(.*)$")
MAX_METADATA_KEYS = 50
MAX_METADATA_CHARS = 1000


def read_plain_text(data: bytes, markdown: bool) -> ParsedText:
    text = decode_text(data)
    if not markdown:
        return ParsedText(text=text)
    metadata: dict[str, str] = {}
    found = FRONT_MATTER.match(text) or _TOML_FRONT_MATTER.match(text)
    if found:
        metadata = front_matter_metadata(found.group(1))
        text = text[found.end() :]
    text = drop_html_comments(text).lstrip("\n")  # no blank lines left where the front matter was
    headings, levels = markdown_headings(text)
    title = metadata.get("title") or None
    return ParsedText(text=text, headings=headings, levels=levels, title=title, metadata=metadata)


def front_matter_title(text: str) -> str | None:
    """`title:` of a YAML front matter block at the very start of `text`, quotes removed."""
    found = FRONT_MATTER.match(text)
    return front_matter_metadata(found.group(1)).get("title") if found else None


def front_matter_metadata(block: str) -> dict[str, str]:
    """Top-level `key: value` (YAML) or `key = value` (TOML) pairs; a list ("- a" lines or "[a, b]") joined by
    ", ". Nested mappings are left out. Read line by line, never by a YAML loader (no aliases, no tags)."""
    metadata: dict[str, str] = {}
    key = None
    for line in block.split("\n"):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0] not in " \t" and (pair := _KEY.match(line)):
            key, value = pair.group(1).lower(), _scalar(pair.group(2))
            if value:
                metadata[key] = value[:MAX_METADATA_CHARS]
            if len(metadata) >= MAX_METADATA_KEYS:
                break
        elif key and line.lstrip().startswith("- ") and (item := _scalar(line.lstrip()[2:])):
            joined = f"{metadata[key]}, {item}" if metadata.get(key) else item
            metadata[key] = joined[:MAX_METADATA_CHARS]
        elif line[0] not in " \t":
            key = None
    return metadata


def _scalar(value: str) -> str:
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        return ", ".join(filter(None, (_scalar(v) for v in value[1:-1].split(","))))
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    elif " #" in value:  # a YAML comment after a plain value
        value = value[: value.index(" #")]
    return " ".join(value.split()) if value not in ("|", ">", "|-", ">-") else ""


def drop_html_comments(text: str) -> str:
    """Text without its <!-- … --> comments outside code fences; a comment alone on its line takes the line."""
    fences = _fence_spans(text)
    parts: list[str] = []
    last = 0
    fence = 0
    position = text.find("<!--")
    while position >= 0:
        while fence < len(fences) and fences[fence][1] <= position:
            fence += 1
        if fence < len(fences) and fences[fence][0] <= position:  # inside a code fence: code, not a comment
            position = text.find("<!--", fences[fence][1])
            continue
        end = text.find("-->", position + 4)
        if end < 0:  # unclosed: left as it is (Markdown shows it as text)
            break
        end += 3
        line_start = position == 0 or text[position - 1] == "\n"
        if line_start and text.startswith("\n", end) and not text[last:position].endswith("\n\n\n"):
            end += 1
        parts.append(text[last:position])
        last = end
        position = text.find("<!--", end)
    parts.append(text[last:])
    return "".join(parts)


def markdown_headings(text: str) -> tuple[list[tuple[int, str]], list[int]]:
    """ATX ("## Title") and setext (a one-line paragraph underlined with "===" or "---") headings outside code."""
    headings: list[tuple[int, str]] = []
    levels: list[int] = []
    candidate: tuple[int, str] | None = None  # a one-line paragraph that an underline would make a heading
    after_blank = True
    for start, line, code in _lines(text):
        if code:
            candidate, after_blank = None, False
            continue
        if atx := _ATX_HEADING.match(line):
            title = _heading_title((atx.group(2) or "").rstrip(" \t#") or (atx.group(2) or ""))
            if title:
                headings.append((start, title))
                levels.append(len(atx.group(1)))
            candidate, after_blank = None, False
            continue
        if candidate is not None and (underline := _SETEXT_UNDERLINE.match(line)):
            headings.append((candidate[0], _heading_title(candidate[1])))
            levels.append(1 if underline.group(1)[0] == "=" else 2)
            candidate, after_blank = None, False
            continue
        stripped = line.strip()
        candidate = (start + line.index(stripped), stripped) if stripped and after_blank and _plain(line) else None
        after_blank = not stripped
    return headings, levels


def _heading_title(text: str) -> str:
    """The heading's words: backslash escapes and emphasis around the whole title removed ("**Sec. 3608.**")."""
    text = _ESCAPE.sub(r"\1", text.strip())
    while len(text) > 4 and text[:2] == text[-2:] and text[:2] in ("**", "__"):
        text = text[2:-2].strip()
    return text


def _plain(line: str) -> bool:
    """A line that can be a setext heading's text: not a list item, quote, table row, tag or indented code."""
    stripped = line.lstrip()
    if len(line) - len(stripped) >= 4 or stripped.startswith(("- ", "* ", "+ ", ">", "|", "<")):
        return False
    return not (stripped[:1].isdigit() and re.match(r"\d{1,9}[.)]\s", stripped))


def _lines(text: str) -> Iterator[tuple[int, str, bool]]:
    """Each line with its offset and whether it belongs to a code fence (its fence lines included)."""
    fence: str | None = None
    offset = 0
    for line in text.split("\n"):
        start, offset = offset, offset + len(line) + 1
        opened = _FENCE.match(line)
        if fence is None:
            if opened and not (opened.group(1)[0] == "`" and "`" in line[opened.end() :]):
                fence = opened.group(1)
        elif opened and _closes(opened.group(1), fence) and not line[opened.end() :].strip():
            yield start, line, True
            fence = None
            continue
        yield start, line, fence is not None


def _closes(marker: str, fence: str) -> bool:
    return marker[0] == fence[0] and len(marker) >= len(fence)


def _fence_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for start, line, code in _lines(text):
        if not code:
            continue
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], start + len(line) + 1)
        else:
            spans.append((start, start + len(line) + 1))
    return spans
