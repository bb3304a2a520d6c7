"""The rows a store hands across the seam: chunks, sentences with their vectors, documents."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TypedDict

import numpy as np

from policyqa.ingest.documents import Document, Heading, heading_path

# Of what an index holds, in any store. 2: a BM25 index beside the vectors; 3: sentence vectors for `ask`;
# 4: each document's layout (printed page labels, footnote ranges, pages read by OCR, reading notes).
FORMAT_VERSION = 4


@dataclass(frozen=True)
class ChunkRecord:
    id: int
    doc_id: str
    title: str
    start: int
    end: int
    page: int | None
    page_end: int | None
    heading: str | None
    text: str


@dataclass(frozen=True)
class SentenceRecord:
    chunk_id: int
    start: int  # offsets into the document's text, whole sentences (policyqa.ingest.sentences.passage_sentences)
    end: int
    vector: np.ndarray  # float32 unit vector, stored as a little-endian float32 blob (no pickle)


def vector_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    path: str
    title: str
    sha256: str
    size: int
    chunks: int
    indexed_at: float
    notes: tuple[str, ...] = ()  # how the file was read, when a user should know ("pages 3–5 read by OCR")


@dataclass(frozen=True)
class StoredDocument:
    """A document as indexed: its full text with page starts and headings (for showing a source in context)."""

    doc_id: str
    path: str
    title: str
    text: str
    page_starts: tuple[int, ...]
    headings: tuple[Heading, ...]
    page_labels: tuple[str, ...] = ()
    footnotes: tuple[tuple[int, int], ...] = ()
    ocr_pages: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()
    metadata: tuple[tuple[str, str], ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The 1-based page (the PDF's own numbering) holding `offset`; None for a document without pages."""
        return PageMap(self.page_starts).page_at(offset)

    def page_bounds(self, page: int) -> tuple[int, int]:
        """[start, end) of `page` in `text`: the page's text is text[start:end] (a page ends where the next starts,
        the last at the end of the text)."""
        if not 1 <= page <= len(self.page_starts):
            raise ValueError(f"{self.doc_id} has no page {page} (it has {len(self.page_starts)})")
        end = self.page_starts[page] if page < len(self.page_starts) else len(self.text)
        return self.page_starts[page - 1], end

    def page_label(self, page: int | None) -> str | None:
        """The printed label of `page` where it differs from the page index ("iii", "A-4")."""
        return PageMap(self.page_starts, self.page_labels).label(page)

    def heading_path(self, offset: int) -> list[str]:
        """The section headings enclosing `offset`, outermost first (a breadcrumb)."""
        return heading_path(self.headings, offset)


@dataclass(frozen=True)
class PageMap:
    """Where a document's pages start and what they are printed as: a citation's page from its offset."""

    starts: tuple[int, ...]
    labels: tuple[str, ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The 1-based page index (the PDF's own numbering) holding `offset`; None without pages."""
        return bisect.bisect_right(self.starts, offset) if self.starts else None

    def label(self, page: int | None) -> str | None:
        """The printed label of `page` where it differs from the page index ("iii", "A-4", "12" on PDF page 14)."""
        if page is None or not 1 <= page <= len(self.labels):
            return None
        label = self.labels[page - 1].strip()
        return label if label and label != str(page) else None


def layout_json(doc: Document) -> dict[str, list]:
    """What a store keeps of a document's layout beside its text, page starts and headings (JSON, no pickle)."""
    return {
        "page_labels": list(doc.page_labels),
        "footnotes": [list(span) for span in doc.footnotes],
        "ocr_pages": list(doc.ocr_pages),
        "notes": list(doc.notes),
        "metadata": [list(item) for item in doc.metadata],
    }


class LayoutFields(TypedDict):
    page_labels: tuple[str, ...]
    footnotes: tuple[tuple[int, int], ...]
    ocr_pages: tuple[int, ...]
    notes: tuple[str, ...]
    metadata: tuple[tuple[str, str], ...]


def layout_fields(layout: dict[str, list]) -> LayoutFields:
    """`StoredDocument` keyword arguments from `layout_json`'s value."""
    return {
        "page_labels": tuple(str(x) for x in layout.get("page_labels", ())),
        "footnotes": tuple((int(a), int(b)) for a, b in layout.get("footnotes", ())),
        "ocr_pages": tuple(int(x) for x in layout.get("ocr_pages", ())),
        "notes": tuple(str(x) for x in layout.get("notes", ())),
        "metadata": tuple((str(k), str(v)) for k, v in layout.get("metadata", ())),
    }
