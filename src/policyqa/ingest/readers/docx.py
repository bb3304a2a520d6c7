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
MAX_GRID_SPAN = 64  # a hostile w:gridSpan must not make a row of millions of columns
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


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
            yield "\n".join(docx_table_lines(element)), 0
        elif element.tag == control and not _is_table_of_contents(element):
            inner = element.find(content)
            pending.extend(reversed(inner) if inner is not None else ())


def docx_table_lines(tbl: Any) -> list[str]:
    """Each row one line carrying its column headers; the header rows are those Word marks to repeat on each page
    (w:tblHeader), else the first row when it looks like one. Read from the XML by grid column (python-docx's
    row.cells took 10 s for a 20,000-row table): a cell spanning columns (w:gridSpan) comes once, a cell merged
    with the one above (w:vMerge) repeats its text, so each row still names its group."""
    rows: list[Row] = []
    marked = 0
    above: dict[int, str] = {}  # text of the last cell starting a vertical merge, by grid column
    for tr in tbl.iterchildren(_W + "tr"):
        properties = tr.find(_W + "trPr")
        values: Row = [""] * _int_val(properties, "gridBefore", 0)
        for tc in tr.iterchildren(_W + "tc"):
            cell_properties = tc.find(_W + "tcPr")
            column = len(values)
            merge = cell_properties.find(_W + "vMerge") if cell_properties is not None else None
            if merge is not None and merge.get(_W + "val", "continue") == "continue":
                text = above.get(column, "")
            else:
                text = _cell_text([_paragraph_text(p) for p in tc.iter(_W + "p")])
                if merge is not None:
                    above[column] = text
            values += [text] + [None] * (min(_int_val(cell_properties, "gridSpan", 1), MAX_GRID_SPAN) - 1)
        if marked == len(rows) and properties is not None and properties.find(_W + "tblHeader") is not None:
            marked += 1
        rows.append(values)
    return table_lines(rows, marked or None)


def _paragraph_text(p: Any) -> str:
    pieces: list[str] = []
    for node in p.iter(_W + "t", _W + "tab", _W + "br", _W + "cr", _W + "noBreakHyphen"):
        pieces.append(node.text or "" if node.tag == _W + "t" else "-" if node.tag == _W + "noBreakHyphen" else " ")
    return "".join(pieces)


def _int_val(properties: Any, name: str, default: int) -> int:
    found = properties.find(_W + name) if properties is not None else None
    value = found.get(_W + "val", "") if found is not None else ""
    return int(value) if value.isdigit() else default


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
