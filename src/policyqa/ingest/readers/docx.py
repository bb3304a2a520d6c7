"""Word (.docx) files, with a zip-bomb guard before python-docx inflates them."""

from __future__ import annotations

import io

from policyqa.errors import DocumentError
from policyqa.ingest.readers.base import ParsedText

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
