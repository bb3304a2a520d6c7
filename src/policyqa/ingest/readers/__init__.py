"""One reader per file format, chosen by the file's content where its name says otherwise.

Each reader returns a `ParsedText`; heavy libraries (pypdfium2, python-docx, lxml) are imported inside them, so
importing this package costs nothing on the search path.
"""

from __future__ import annotations

from policyqa.errors import DocumentError
from policyqa.ingest.readers.base import ParsedText
from policyqa.ingest.readers.sniff import Kind, sniff_kind

__all__ = ["ParsedText", "read_bytes", "KIND_BY_SUFFIX"]

KIND_BY_SUFFIX: dict[str, Kind] = {
    ".txt": "text", ".md": "markdown", ".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html"
}


def read_bytes(data: bytes, suffix: str) -> ParsedText:
    """Read a file's bytes by what they are; a note says so when the name named another type."""
    named = KIND_BY_SUFFIX.get(suffix.lower())
    if named is None:
        raise DocumentError(f"unsupported file type '{suffix or '(none)'}'")
    kind = sniff_kind(data, named)
    parsed = _READERS[kind](data)
    if kind != named and not (named == "markdown" and kind == "text"):
        parsed.notes.append(f"read as {_NAMES[kind]}: its content is {_NAMES[kind]}, though named '{suffix}'")
    return parsed


def _read_text(data: bytes) -> ParsedText:
    from policyqa.ingest.readers.text import read_plain_text

    return read_plain_text(data, markdown=False)


def _read_markdown(data: bytes) -> ParsedText:
    from policyqa.ingest.readers.text import read_plain_text

    return read_plain_text(data, markdown=True)


def _read_pdf(data: bytes) -> ParsedText:
    from policyqa.ingest.readers.pdf import read_pdf

    return read_pdf(data)


def _read_docx(data: bytes) -> ParsedText:
    from policyqa.ingest.readers.docx import read_docx

    return read_docx(data)


def _read_html(data: bytes) -> ParsedText:
    from policyqa.ingest.readers.html import read_html

    return read_html(data)


_READERS = {"text": _read_text, "markdown": _read_markdown, "pdf": _read_pdf, "docx": _read_docx, "html": _read_html}
_NAMES = {"text": "plain text", "markdown": "Markdown", "pdf": "PDF", "docx": "a Word document", "html": "HTML"}
