"""Word (.docx) files: paragraphs and tables in reading order, with a zip-bomb guard before python-docx inflates
them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from policyqa.errors import DocumentError
from policyqa.ingest.readers.base import ParsedText
from policyqa.ingest.readers.table_rows import Row, table_lines

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
    for text, level in body_blocks(document):
        if not text.strip():
            continue
        if level:
            headings.append((offset, text.strip()))
            levels.append(level)
        parts.append(text)
        offset += len(text) + 2
    title = document.core_properties.title or None
    return ParsedText(text="\n\n".join(parts), headings=headings, levels=levels, title=title)


def body_blocks(document: Any) -> Iterator[tuple[str, int]]:
    """The body's paragraphs and tables in reading order, as (text, heading level; 0 for body text): a table is one
    block whose lines are its rows. Content controls are read through (a cover page's title sits in one), except
    a table of contents, which only repeats the headings."""
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    # Heading levels by style id, read once: `paragraph.style` looks the style up anew each time (4 ms per
    # paragraph, minutes for a large document)
    style_levels = {style.style_id: _style_level(style) for style in document.styles}
    paragraph, table, control, content = qn("w:p"), qn("w:tbl"), qn("w:sdt"), qn("w:sdtContent")
    pending = list(reversed(document.element.body))
    while pending:
        element = pending.pop()
        if element.tag == paragraph:
            yield Paragraph(element, document).text, style_levels.get(element.style or "", 0)
        elif element.tag == table:
            yield "\n".join(docx_table_lines(element, document)), 0
        elif element.tag == control and not _is_table_of_contents(element):
            inner = element.find(content)
            pending.extend(reversed(inner) if inner is not None else ())


def docx_table_lines(tbl: Any, document: Any) -> list[str]:
    """Each row one line carrying its column headers; the header rows are those Word marks to repeat on each page
    (w:tblHeader), else the first row when it looks like one."""
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    rows: list[Row] = []
    marked = 0
    for row in Table(tbl, document).rows:
        values: Row = []
        previous = None
        for cell in row.cells:  # by grid column: a merged cell comes once per column it covers
            if previous is not None and cell._tc is previous:
                values.append(None)
                continue
            previous = cell._tc
            values.append(_cell_text([Paragraph(p, cell).text for p in cell._tc.iter(qn("w:p"))]))
        properties = row._tr.trPr
        if marked == len(rows) and properties is not None and properties.find(qn("w:tblHeader")) is not None:
            marked += 1
        rows.append(values)
    return table_lines(rows, marked or None)


def _cell_text(paragraphs: list[str]) -> str:
    """A cell's paragraphs on one line; "; " between two where the first ends without punctuation (list items)."""
    text = ""
    for paragraph in (" ".join(p.split()) for p in paragraphs):
        if paragraph:
            text = f"{text}{'; ' if text[-1:].isalnum() else ' ' if text else ''}{paragraph}"
    return text


def _style_level(style: Any) -> int:
    """1-9 for a heading style: "Heading N", "Title", or a style with an outline level ("GSA Section"), itself or
    through the styles it is based on; 0 for body text."""
    from docx.oxml.ns import qn

    for _ in range(16):  # a basedOn chain is short; a hostile file's loop must not hang the reader
        if style is None:
            return 0
        name = style.name or ""
        if name.startswith("Title"):
            return 1
        number = name.removeprefix("Heading").strip()
        if name.startswith("Heading") and number.isdigit():
            return int(number)
        outline = style.element.find(f"{qn('w:pPr')}/{qn('w:outlineLvl')}")
        if outline is not None:
            value = outline.get(qn("w:val")) or ""
            return int(value) + 1 if value.isdigit() and int(value) < 9 else 0
        try:
            style = style.base_style
        except (KeyError, ValueError, AttributeError):
            return 0
    return 0


def _is_table_of_contents(control: Any) -> bool:
    from docx.oxml.ns import qn

    gallery = control.find(f"{qn('w:sdtPr')}/{qn('w:docPartObj')}/{qn('w:docPartGallery')}")
    return gallery is not None and "Table of Contents" in (gallery.get(qn("w:val")) or "")
