"""PDF files, read through PDFium (pypdfium2) with a layout pass.

PDFium gives each character with its box, the outline (bookmarks), page labels and the document's properties;
pdf_lines makes lines of the characters, pdf_furniture finds running headers and footers, pdf_layout turns the
rest into headings, paragraphs and footnotes. Pages without a text layer are read by OCR when it is installed.
"""

from __future__ import annotations

import re
from typing import Any

from policyqa.errors import DocumentError
from policyqa.ingest.readers.base import ParsedText
from policyqa.ingest.readers.pdf_furniture import find_furniture, page_number
from policyqa.ingest.readers.pdf_headings import Bookmark, title_from_fonts
from policyqa.ingest.readers.pdf_layout import lay_out
from policyqa.ingest.readers.pdf_lines import PageLines, read_page_lines
from policyqa.ingest.readers.pdfium_lock import PDFIUM_LOCK
from policyqa.ingest.titles import sane_title

_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD
_STAMP = re.compile(r"^[A-Z]{0,8}[\s_-]?\d{3,10}$")  # a Bates number a scanner stamps on each page
# Title properties a tool filled from a file name: "CSP_Vulnerability_Scanning", "…rev23Dec2022 - FINAL",
# "DataProcessingAddendum", "… Procedures_JH Reviewed_070224"
_FILE_NAME_LIKE = re.compile(r"_|(?i:\b(?:final|draft|clean|rev\d\w*|v\d+(?:\.\d+)+)\b)|[a-z][A-Z][a-z]+[A-Z]")
_NO_PAGES = re.compile(rb"/Type\s*/Pages\b[^>]*?/Count\s+0\b|/Count\s+0\b[^>]*?/Type\s*/Pages\b")
_A_PAGE = re.compile(rb"/Type\s*/Page\b(?!s)")
_METADATA = {"Author": "author", "Subject": "subject", "Keywords": "keywords", "CreationDate": "created"}


def read_pdf(data: bytes) -> ParsedText:
    import pypdfium2 as pdfium

    if not data:
        raise DocumentError("empty file, not a PDF")
    with PDFIUM_LOCK:
        pdf = _open(pdfium, data)
        try:
            count = len(pdf)
            if count == 0:
                raise DocumentError("PDF has no pages")
            pages, scanned = _read_pages(pdf, count)
            labels = [pdf.get_page_label(i) for i in range(count)]
            bookmarks = _bookmarks(pdf)
            properties = {k: str(v).strip() for k, v in pdf.get_metadata_dict().items() if v and str(v).strip()}
        except pdfium.PdfiumError as exc:
            pdf.close()
            raise DocumentError(f"unreadable PDF (PDFium: {exc})") from exc
        except BaseException:
            pdf.close()
            raise
    try:
        notes, ocr_pages = _read_scans(pdf, pages, scanned)
    finally:
        with PDFIUM_LOCK:
            pdf.close()
    if not any(page.lines for page in pages):
        if ocr_pages:
            raise DocumentError("no text found: the pages are images and OCR read no text on them")
        raise DocumentError(f"no text could be read from this PDF ({notes[0] if notes else 'its pages have no text'})")
    furniture = find_furniture(pages)
    laid = lay_out(pages, furniture.dropped, bookmarks)
    indexes = [str(i + 1) for i in range(count)]
    if any(labels) and labels != indexes:  # the file's own labels win (unless they only repeat the page numbers)
        printed = [label or index for label, index in zip(labels, indexes, strict=True)]
    else:  # else the number printed on the page, else its index
        printed = [found or index for found, index in zip(furniture.numbers, indexes, strict=True)]
    return ParsedText(
        text=laid.text,
        page_starts=laid.page_starts,
        headings=laid.headings,
        levels=laid.levels,
        title=_title(properties.get("Title"), pages, furniture.dropped, set(ocr_pages), laid.headings),
        page_labels=printed,
        footnotes=laid.footnotes,
        ocr_pages=ocr_pages,
        notes=notes,
        metadata={name: properties[key] for key, name in _METADATA.items() if key in properties},
    )


def _open(pdfium: Any, data: bytes) -> Any:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if _NO_PAGES.search(data) and not _A_PAGE.search(data):  # PDFium refuses a page tree without pages, and
            raise DocumentError("PDF has no pages") from exc  # may call it a password error
        if getattr(exc, "err_code", None) == _PASSWORD_ERROR:
            raise DocumentError("encrypted PDF (needs a password)") from exc
        found = re.search(r"\(PDFium: ([^)]*)\)", str(exc))
        reason = found.group(1).rstrip(".") if found else str(exc) or "unknown error"
        raise DocumentError(f"corrupt or unreadable PDF ({reason})") from exc


def _read_pages(pdf: Any, count: int) -> tuple[list[PageLines], list[int]]:
    """Every page's lines, and the pages that look scanned (an image and no text of their own)."""
    from policyqa.ingest.readers.pdf_ocr import looks_scanned

    pages: list[PageLines] = []
    scanned: list[int] = []
    for index in range(count):
        page = pdf[index]
        try:
            textpage = page.get_textpage()
            try:
                lines = read_page_lines(page, textpage)
            finally:
                textpage.close()
            if all(_STAMP.match(line.text) or page_number(line.text) for line in lines.lines) and looks_scanned(page):
                scanned.append(index)  # no text layer, or only a stamp on a scan ("Page 3", a Bates number)
        finally:
            page.close()
        pages.append(lines)
    return pages, scanned


def _bookmarks(pdf: Any) -> list[Bookmark]:
    import pypdfium2.raw as pdfium_c

    found: list[Bookmark] = []
    try:
        for mark in pdf.get_toc(max_depth=8):
            dest = mark.get_dest()
            index = dest.get_index() if dest is not None else None
            if index is None:  # a GoTo action instead of a destination
                action = pdfium_c.FPDFBookmark_GetAction(mark.raw)
                target = pdfium_c.FPDFAction_GetDest(pdf.raw, action) if action else None
                index = pdfium_c.FPDFDest_GetDestPageIndex(pdf.raw, target) if target else -1
            title = " ".join(mark.get_title().split())
            if index is not None and index >= 0 and title:
                found.append(Bookmark(title, index, mark.level + 1))
    except Exception:  # a broken outline is no reason to lose the document: read it without bookmarks  # noqa: BLE001
        return found
    return found


def _read_scans(pdf: Any, pages: list[PageLines], scanned: list[int]) -> tuple[list[str], list[int]]:
    """OCR the scanned pages when OCR is available; notes say what was read and what could not be."""
    if not scanned:
        return [], []
    reason = _ocr_unavailable()
    shown = page_ranges([i + 1 for i in scanned])
    if reason:
        verbs = ("has", "was") if len(scanned) == 1 else ("have", "were")
        return [f"{shown} {verbs[0]} no text layer and {verbs[1]} not read: {reason}"], []
    from policyqa.ingest.readers.pdf_ocr import ocr_page_lines

    done: list[int] = []
    failed: list[str] = []
    for index in scanned:
        try:
            pages[index] = ocr_page_lines(pdf, index)
            done.append(index + 1)
        except DocumentError as exc:
            failed.append(f"page {index + 1}: {exc}")
    notes = [f"{page_ranges(done)} read by OCR"] if done else []
    if failed:
        notes.append("OCR failed on " + "; ".join(failed))
    return notes, done


def _ocr_unavailable() -> str | None:
    try:
        from policyqa.ingest.readers.ocr import ocr_available
    except ImportError:
        return "OCR is not installed in this version"
    return ocr_available()


def page_ranges(numbers: list[int]) -> str:
    """ "page 3", "pages 3–5, 8" """
    spans: list[str] = []
    i = 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        spans.append(str(numbers[i]) if i == j else f"{numbers[i]}–{numbers[j]}")
        i = j + 1
    return ("page " if len(numbers) == 1 else "pages ") + ", ".join(spans)


def _title(
    metadata: str | None,
    pages: list[PageLines],
    dropped: list[set[int]],
    ocr: set[int],
    headings: list[tuple[int, str]],
) -> str | None:
    """The file's title property when it is a title; else the largest text on page 1 (never OCR's guess); else
    the first heading; else a title property that reads like a file name, with its underscores as spaces."""
    from policyqa.ingest.readers.pdf_blocks import body_size

    named = sane_title(metadata)
    if named and not _FILE_NAME_LIKE.search(named):
        return named
    text_pages = [page if number + 1 not in ocr else PageLines() for number, page in enumerate(pages)]
    printed = sane_title(title_from_fonts(text_pages, dropped, body_size(pages, dropped)))
    if printed or not named:
        return printed
    if headings:
        return sane_title(headings[0][1])
    return sane_title(named.replace("_", " "))
