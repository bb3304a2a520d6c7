"""What a file's bytes are, whatever its name says: PDF, a zip (a .docx), HTML, or text."""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["text", "markdown", "pdf", "docx", "html"]

_HTML_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S)
SNIFF_BYTES = 4096


def sniff_kind(data: bytes, named: Kind) -> Kind:
    """The kind the content shows; `named` when the content does not say (plain text fits any text kind)."""
    head = data[:SNIFF_BYTES]
    binary_name = named in ("pdf", "docx")
    # A PDF may carry junk before its header within the first 1,024 bytes; a text file that mentions "%PDF-" may not.
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"%PDF-") or (binary_name and b"%PDF-" in head[:1024]):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx" if named != "pdf" or b"word/" in data[:65536] else named
    if not binary_name:  # a text file is read as named: HTML source in a .txt is text to its author
        return named
    if _HTML_START.match(head):
        return "html"
    return "text" if _looks_like_text(head) else named


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # cut inside the last character
    return True
