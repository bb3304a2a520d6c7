"""Pages without a text layer (scans): rendered and read by OCR, as lines in the page's own coordinates, so the
same layout pass (furniture, paragraphs, headings) treats them like any other page."""

from __future__ import annotations

from statistics import median
from typing import Any

from policyqa.ingest.readers.pdf_lines import Line, PageLines
from policyqa.ingest.readers.pdfium_lock import PDFIUM_LOCK

DPI = 200  # as good as 300 dpi here (word recall 0.959 vs 0.962) in half the time (BENCHMARKS.md)
MAX_SIDE_PX = 4000
MAX_PIXELS = 12_000_000
MIN_IMAGE_SHARE = 0.2  # a page whose images cover less than this is blank or a figure, not a scan


def looks_scanned(page: Any) -> bool:
    """An image covering a good part of the page (hold PDFIUM_LOCK)."""
    import pypdfium2.raw as pdfium_c

    left, bottom, right, top = page.get_bbox()
    area = max((right - left) * (top - bottom), 1.0)
    covered = 0.0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3):
        x0, y0, x1, y1 = obj.get_bounds()
        covered += max(0.0, min(x1, right) - max(x0, left)) * max(0.0, min(y1, top) - max(y0, bottom))
    return covered >= MIN_IMAGE_SHARE * area


def render_scale(width: float, height: float) -> float:
    """Pixels per point: 300 dpi, capped at MAX_SIDE_PX a side and MAX_PIXELS in all."""
    return min(DPI / 72, MAX_SIDE_PX / max(width, height, 1.0), (MAX_PIXELS / max(width * height, 1.0)) ** 0.5)


def ocr_page_lines(pdf: Any, index: int) -> PageLines:
    """Render page `index` and read it by OCR (PDFium only while rendering; the OCR runs without the lock)."""
    from policyqa.ingest.readers.ocr import ocr_image

    with PDFIUM_LOCK:
        page = pdf[index]
        try:
            width, height = page.get_size()
            scale = render_scale(width, height)
            image = page.render(scale=scale, grayscale=True).to_pil()
        finally:
            page.close()
    result = ocr_image(image)
    return PageLines(lines=_lines(result, scale), width=width, height=height, chars=len(result.text))


def _lines(result: Any, scale: float) -> list[Line]:
    """OCR words grouped by the text lines of its output, boxes turned from pixels into points."""
    lines: list[Line] = []
    offset = 0
    for raw_line in result.text.split("\n"):
        start, end = offset, offset + len(raw_line)
        offset = end + 1
        text = " ".join(raw_line.split())
        if not text:
            continue
        boxes = [w.box for w in result.words if start <= w.start < end]
        if not boxes:
            continue
        heights = [(y1 - y0) / scale for _, y0, _, y1 in boxes]
        lines.append(
            Line(
                text=text,
                x0=min(b[0] for b in boxes) / scale,
                top=min(b[1] for b in boxes) / scale,
                x1=max(b[2] for b in boxes) / scale,
                bottom=max(b[3] for b in boxes) / scale,
                size=median(heights),
            )
        )
    return lines
