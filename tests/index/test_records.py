"""A stored document's page and heading lookups: what the UI, the MCP server and the CLI read a source's place from."""

from __future__ import annotations

import pytest

from policyqa.index.records import StoredDocument
from policyqa.ingest.documents import Heading

PAGES = ["Page one intro.\n\n", "Second page text.\n\n", "Third and last."]


def _document(labels: tuple[str, ...] = ()) -> StoredDocument:
    starts = tuple(sum(len(p) for p in PAGES[:i]) for i in range(len(PAGES)))
    headings = (Heading(0, "Policy", 1), Heading(16, "Scope", 2), Heading(36, "Annex", 1))
    return StoredDocument("p.pdf", "p.pdf", "P", "".join(PAGES), starts, headings, page_labels=labels)


def test_page_at_and_page_bounds_cut_the_text_into_its_pages() -> None:
    doc = _document()
    for page, text in enumerate(PAGES, 1):
        start, end = doc.page_bounds(page)
        assert doc.text[start:end] == text
        assert doc.page_at(start) == page and doc.page_at(end - 1) == page
    assert doc.page_at(len(doc.text)) == 3
    with pytest.raises(ValueError, match="no page 4"):
        doc.page_bounds(4)
    with pytest.raises(ValueError, match="no page 0"):
        doc.page_bounds(0)


def test_a_document_without_pages_has_no_page() -> None:
    doc = StoredDocument("a.txt", "a.txt", "A", "plain text", (), ())
    assert doc.page_at(3) is None and doc.page_label(None) is None
    with pytest.raises(ValueError):
        doc.page_bounds(1)


def test_page_label_only_where_it_differs_from_the_index() -> None:
    doc = _document(("i", "2", ""))
    assert [doc.page_label(p) for p in (1, 2, 3, 4)] == ["i", None, None, None]


def test_heading_path_is_the_breadcrumb_at_an_offset() -> None:
    doc = _document()
    assert doc.heading_path(5) == ["Policy"]
    assert doc.heading_path(20) == ["Policy", "Scope"]
    assert doc.heading_path(40) == ["Annex"]  # a level-1 heading closes the ones below the previous
