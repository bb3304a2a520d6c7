"""What every reader returns, and the text decoding shared by the text-based readers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from policyqa.errors import DocumentError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass
class ParsedText:
    """A reader's output. Offsets (page starts, headings, footnotes) refer to `text` as returned; the caller cleans
    the text (policyqa.ingest.clean) and moves them with it."""

    text: str
    page_starts: list[int] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    levels: list[int] = field(default_factory=list)  # outline level of each heading (1 = top); empty: all 1
    title: str | None = None  # from the file's own metadata: Markdown front matter, PDF/DOCX properties
    page_labels: list[str] = field(default_factory=list)  # printed label of each page ("iii", "12"); empty: numbers
    footnotes: list[tuple[int, int]] = field(default_factory=list)  # (start, end) of footnote text kept apart
    ocr_pages: list[int] = field(default_factory=list)  # 1-based pages whose text came from OCR
    notes: list[str] = field(default_factory=list)  # what a user should know of how the file was read
    metadata: dict[str, str] = field(default_factory=dict)  # e.g. front matter's date, a PDF's author


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252; never drops a text file.

    A file that is mostly valid UTF-8 is read as UTF-8 even with stray bytes in it (a pasted Windows quote): each
    stray byte becomes its Windows-1252 character, and the rest of the file keeps its letters. Only a file whose
    non-ASCII bytes are mostly not UTF-8 is read as Windows-1252 throughout.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"invalid UTF-16 text ({exc.reason})") from exc
    elif b"\x00" in data[:65536]:
        raise DocumentError("binary file (contains NUL bytes), not text")
    else:
        text = _decode_8bit(data.removeprefix(b"\xef\xbb\xbf"))
    sample = text[:65536]
    if sample and len(_CONTROL.findall(sample)) > 0.05 * len(sample):
        raise DocumentError("binary file (mostly control characters), not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# A stray byte, as "surrogateescape" decoding keeps it (U+DC80..U+DCFF), mapped to its Windows-1252 character; the
# five bytes Windows-1252 leaves undefined keep their Latin-1 code point (a C1 control the cleaner drops).
_STRAY_BYTE = {0xDC00 + b: bytes([b]).decode("cp1252", "ignore") or chr(b) for b in range(0x80, 0x100)}
_STRAY = re.compile("[\udc80-\udcff]")
_ASCII = bytes(range(0x80))


def _decode_8bit(data: bytes) -> str:
    text = data.decode("utf-8", "surrogateescape")
    stray = len(_STRAY.findall(text))
    if not stray:
        return text
    non_ascii = len(data.translate(None, _ASCII))
    if stray > non_ascii // 2:  # mostly not UTF-8: Windows-1252 throughout
        text = data.decode("cp1252", "surrogateescape")
    return _STRAY.sub(_stray_character, text)  # what is left: each stray byte as its Windows-1252 character


def _stray_character(match: re.Match[str]) -> str:
    return _STRAY_BYTE[ord(match.group())]
