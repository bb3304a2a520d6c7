"""Pages as a reader sees them: each result's page from its own offset, with the printed label where it differs."""

from __future__ import annotations

from dataclasses import replace

from policyqa.index.store import IndexReader
from policyqa.search.retrieval import Hit


def with_page_labels(hits: list[Hit], reader: IndexReader) -> list[Hit]:
    """`hits` with `page_label` set from their documents' page labels (one cached lookup per document)."""
    labelled = []
    for hit in hits:
        label = reader.page_map(hit.doc_id).label(hit.page) if hit.page is not None else None
        labelled.append(replace(hit, page_label=label) if label else hit)
    return labelled


def page_name(page: int | None, label: str | None = None) -> str | None:
    """How a page is named to a reader: "page 12", or "page iii (PDF page 5)" where the printed label differs."""
    if page is None:
        return None
    return f"page {label} (PDF page {page})" if label else f"page {page}"
