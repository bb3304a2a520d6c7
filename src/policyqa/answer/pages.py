"""A citation's page is the page its quote starts on (a passage can span pages), with the printed label."""

from __future__ import annotations

from dataclasses import replace

from policyqa.answer.types import Answer, Citation
from policyqa.index.store import IndexReader
from policyqa.search.pages import with_page_labels


def with_quote_pages(answer: Answer, reader: IndexReader) -> Answer:
    citations = [_paged(c, reader) for c in answer.citations]
    return replace(answer, citations=citations, passages=with_page_labels(answer.passages, reader))


def _paged(citation: Citation, reader: IndexReader) -> Citation:
    pages = reader.page_map(citation.doc_id)
    page = pages.page_at(citation.start)
    if page is None:
        return citation
    return replace(citation, page=page, page_label=pages.label(page))
