"""One reader per file format. Each returns the document text plus page starts and headings in that text."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from policyqa.errors import DocumentError

_MARKDOWN_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*\S.*)$", re.MULTILINE)  # trailing #s are stripped after
_CODE_FENCE = re.compile(r"^```.*?(?:^```|\Z)", re.MULTILINE | re.DOTALL)
FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass
class ParsedText:
    text: str
    page_starts: list[int] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    levels: list[int] = field(default_factory=list)  # outline level of each heading (1 = top); empty: all 1
    title: str | None = None  # from the file's own metadata: Markdown front matter, PDF/DOCX properties


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, then cp1252, then latin-1: never drops a text file."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"invalid UTF-16 text ({exc.reason})") from exc
    elif b"\x00" in data[:65536]:
        raise DocumentError("binary file (contains NUL bytes), not text")
    else:
        text = _decode_8bit(data)
    sample = text[:65536]
    if sample and len(_CONTROL.findall(sample)) > 0.05 * len(sample):
        raise DocumentError("binary file (mostly control characters), not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode_8bit(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


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


class _WithoutFontToolsNotice(logging.Filter):
    """pypdf logs "fontTools is required to fully parse…" several times per PDF; the text is extracted anyway."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "fontTools" not in record.getMessage()


_FONT_NOTICE = _WithoutFontToolsNotice()


def read_pdf(data: bytes) -> ParsedText:
    logging.getLogger("pypdf._cmap").addFilter(_FONT_NOTICE)  # once: a logger keeps one copy of a filter
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError("encrypted PDF (needs a password)")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except DocumentError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise DocumentError(f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:  # pypdf raises many types on hostile files; none may stop a build
        raise DocumentError(f"unreadable PDF ({type(exc).__name__}: {exc})") from exc
    if not pages:
        raise DocumentError("PDF has no pages")
    parts: list[str] = []
    page_starts: list[int] = []
    offset = 0
    for page_text in pages:
        page_text = page_text.replace("\r\n", "\n").strip("\n")
        page_starts.append(offset)
        parts.append(page_text)
        offset += len(page_text) + 2  # the "\n\n" that joins pages
    return ParsedText(text="\n\n".join(parts), page_starts=page_starts, title=str(title) if title else None)


# A .docx is a zip: a few MB can inflate to gigabytes, and python-docx inflates every part in memory before
# parsing, and its tree costs ~14 bytes of memory per byte of dense XML (32 MiB of one-line paragraphs: +434 MiB
# peak RSS, README "Memory"). Real documents stay below these: a 500-page report's word/document.xml is ~20 MB.
MAX_DOCX_MEMBER_BYTES = 32 * 1024 * 1024
MAX_DOCX_TOTAL_BYTES = 128 * 1024 * 1024
_INFLATE_STEP = 1024 * 1024


def check_zip_sizes(data: bytes, member_limit: int, total_limit: int) -> None:
    """Raise DocumentError when any member, or all together, inflate past the limits: first by the sizes the
    archive declares, then by actually inflating each member in 1 MiB steps (declared sizes can lie)."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            for member in members:
                _check_size(member.filename, member.file_size, member_limit, "declares")
            _check_size("(all parts)", sum(m.file_size for m in members), total_limit, "declare")
            total = 0
            for member in members:
                size = 0
                with archive.open(member) as stream:
                    while chunk := stream.read(_INFLATE_STEP):
                        size, total = size + len(chunk), total + len(chunk)
                        _check_size(member.filename, size, member_limit, "inflates to")
                        _check_size("(all parts)", total, total_limit, "inflate to")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as exc:
        raise DocumentError(f"not a valid .docx file ({type(exc).__name__}: {exc})") from exc


def _check_size(name: str, size: int, limit: int, verb: str) -> None:
    if size > limit:
        amount = f"{size:,} bytes" if verb.startswith("declare") else f"more than {limit:,} bytes"
        raise DocumentError(
            f"zip bomb guard: {name} {verb} {amount} uncompressed, over the {limit:,}-byte limit; not read"
        )


def read_docx(data: bytes) -> ParsedText:
    import zipfile

    import docx

    check_zip_sizes(data, MAX_DOCX_MEMBER_BYTES, MAX_DOCX_TOTAL_BYTES)
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"not a valid .docx file ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:
        raise DocumentError(f"unreadable .docx ({type(exc).__name__}: {exc})") from exc
    parts: list[str] = []
    headings: list[tuple[int, str]] = []
    levels: list[int] = []
    offset = 0
    # Style names by id, read once: `paragraph.style` looks the style up anew each time (4 ms per paragraph,
    # minutes for a large document)
    style_names = {style.style_id: style.name or "" for style in document.styles}
    blocks = [(p.text, style_names.get(p._p.style or "", "")) for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            blocks.append((" | ".join(cell.text for cell in row.cells), ""))
    for text, style in blocks:
        if not text.strip():
            continue
        if style.startswith(("Heading", "Title")):
            headings.append((offset, text.strip()))
            number = style.removeprefix("Heading").strip()
            levels.append(int(number) if number.isdigit() else 1)
        parts.append(text)
        offset += len(text) + 2
    title = document.core_properties.title or None
    return ParsedText(text="\n\n".join(parts), headings=headings, levels=levels, title=title)


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
