"""Word files: tables stay where they are in the body, under their heading, each row one line carrying its column
headers (issue 22 item 4); content controls are read through, a table of contents is not; the zip-bomb guard holds."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from policyqa.errors import DocumentError
from policyqa.ingest.documents import CorpusFile, read_document
from policyqa.ingest.readers.docx import read_docx

REPO = Path(__file__).resolve().parents[2]
REAL_DOCX = REPO / "eval" / "realdocs" / "corpus" / "fedramp_significant_change_policies_and_procedures.docx"


def docx_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def mark_header_row(row) -> None:
    from docx.oxml import OxmlElement

    row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))


def test_real_policy_tables_stay_in_place_under_their_heading() -> None:
    data = REAL_DOCX.read_bytes()
    document = read_document(CorpusFile(REAL_DOCX.name, REAL_DOCX, data, hashlib.sha256(data).hexdigest()))
    text = document.text
    row = (
        "Agency | Role: Authorizing Official (AO) | Responsibility: The approving authority for significant changes"
    )
    assert row in text.split("\n")  # a merged "Role" header names both of its columns
    assert document.heading_at(text.index(row)) == "Roles and Responsibilities"
    # in reading order: after the paragraph that introduces it, before the next section's heading
    assert text.index("Table 1-1 describes the roles") < text.index(row) < text.index("\n\nCompliance\n\n")
    assert "FedRAMP PMO | Role: FedRAMP Director | Responsibility: Issues and approves" in text
    assert "Acronym | Expansion" in text  # the last table is still there, at the end where it is in the file
    assert document.title == "FedRAMP Significant Change Policies and Procedures"
    assert [h.title for h in document.headings][:4] == [
        "About this document",
        "Who should use this document?",
        "How to contact us",
        "Introduction",
    ]


def test_table_between_paragraphs_mirrors_a_real_baseline_table() -> None:
    import docx

    document = docx.Document()
    document.add_heading("Baseline controls", level=1)
    document.add_paragraph("The table lists each control by tier.")
    table = document.add_table(rows=3, cols=3)
    rows = [("Control", "Foundational", "Advanced"), ("1.6", "–", "Y"), ("1.7", "Y", "")]
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    mark_header_row(table.rows[0])
    document.add_heading("Reviews", level=2)
    document.add_paragraph("Reviews happen yearly.")
    parsed = read_docx(docx_bytes(document))
    assert parsed.text == (
        "Baseline controls\n\nThe table lists each control by tier.\n\n"
        "Control | Foundational | Advanced\n1.6 | Foundational: – | Advanced: Y\n1.7 | Foundational: Y\n\n"
        "Reviews\n\nReviews happen yearly."
    )
    assert parsed.headings == [(0, "Baseline controls"), (parsed.text.index("Reviews\n"), "Reviews")]
    assert parsed.levels == [1, 2]


def test_unmarked_header_row_is_recognised_and_two_column_label_tables_are_not() -> None:
    import docx

    document = docx.Document()
    grid = document.add_table(rows=2, cols=3)
    for row, values in zip(grid.rows, [("Requirement", "Low", "High"), ("AC-2", "Yes", "Yes")], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    pairs = document.add_table(rows=2, cols=2)
    for row, values in zip(pairs.rows, [("Effective date", "1 May 2024"), ("Owner", "Records office")], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    assert read_docx(docx_bytes(document)).text.split("\n") == [
        "Requirement | Low | High",
        "AC-2 | Low: Yes | High: Yes",  # equal neighbouring values are both kept
        "",
        "Effective date | 1 May 2024",
        "Owner | Records office",
    ]


def test_merged_cells_are_given_once() -> None:
    import docx

    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    for row, values in zip(table.rows, [("Type", "Request", ""), ("A", "x", "y"), ("B", "", "")], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    table.cell(0, 1).merge(table.cell(0, 2))  # "Request" spans two columns
    table.cell(2, 1).merge(table.cell(2, 2)).text = "both"
    mark_header_row(table.rows[0])
    assert read_docx(docx_bytes(document)).text.split("\n") == [
        "Type | Request",
        "A | Request: x | Request: y",
        "B | Request: both",
    ]


def test_content_controls_are_read_and_a_table_of_contents_is_not() -> None:
    import docx
    from docx.oxml import parse_xml

    document = docx.Document()
    namespace = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    cover = f"<w:sdt {namespace}><w:sdtContent><w:p><w:r><w:t>Cover title</w:t></w:r></w:p></w:sdtContent></w:sdt>"
    toc = (
        f'<w:sdt {namespace}><w:sdtPr><w:docPartObj><w:docPartGallery w:val="Table of Contents"/></w:docPartObj>'
        "</w:sdtPr><w:sdtContent><w:p><w:r><w:t>Introduction 1</w:t></w:r></w:p></w:sdtContent></w:sdt>"
    )
    body = document.element.body
    body.insert(0, parse_xml(toc))
    body.insert(0, parse_xml(cover))
    document.add_paragraph("Body text.")
    assert read_docx(docx_bytes(document)).text == "Cover title\n\nBody text."


def test_zip_bomb_guard_still_refuses_before_parsing() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<" + b"a" * (40 * 1024 * 1024))
    with pytest.raises(DocumentError, match="zip bomb guard"):
        read_docx(buffer.getvalue())


def test_vertically_merged_cells_repeat_their_group_and_a_hostile_span_is_capped() -> None:
    import docx
    from docx.oxml.ns import qn

    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    rows = [("Team", "Role", "Duty"), ("PMO", "Director", "Approves"), ("", "Manager", "Advises")]
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    table.cell(1, 0).merge(table.cell(2, 0))  # "PMO" covers both rows
    mark_header_row(table.rows[0])
    span = table.rows[0]._tr.tc_lst[2].get_or_add_tcPr()
    span.append(span.makeelement(qn("w:gridSpan"), {qn("w:val"): "100000000"}))
    lines = read_docx(docx_bytes(document)).text.split("\n")
    assert lines[1:] == ["PMO | Role: Director | Duty: Approves", "PMO | Role: Manager | Duty: Advises"]
    assert len(lines[0]) < 100
