"""A cited PDF page as an image (pypdfium2), the quote's boxes marked, for an interface to show beside its text.

The quote is found on the page by its letters and digits alone (case folded, ligatures spelt out), so the stored
text's cleaning (joined hyphens, dropped headers and footers, folded spaces) does not stop the match. A page without a
text layer is read by OCR again and the quote's words are marked by their OCR boxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policyqa.errors import PolicyQAError
from policyqa.ingest.readers.pdfium_lock import PDFIUM_LOCK  # PDFium is not thread-safe: one lock for all its users

RENDER_WIDTH_PX = 900
MAX_HEIGHT_PX = 2400  # a page taller than this (a long receipt, a hostile MediaBox) is scaled down to fit
MAX_PIXELS = 900 * 2400
MIN_SCALE = 0.01
HIGHLIGHT = (255, 200, 0, 90)  # translucent amber, readable in light and dark mode
OUTLINE = (200, 120, 0, 255)


@dataclass(frozen=True)
class RenderedPage:
    image: Any  # PIL.Image.Image
    note: str  # what the reader should know: the page was scaled down, or the quote was not found on it
    marked: int  # how many boxes were drawn


def render_page(path: Path, page: int, quote: str = "", width: int = RENDER_WIDTH_PX) -> RenderedPage:
    """Page `page` (1-based) of the PDF at `path`, about `width` pixels wide (less for very tall pages), with the
    boxes of `quote` (or the part of it on this page) marked."""
    try:
        import pypdfium2 as pdfium
    except ImportError as exc:
        raise PolicyQAError("showing PDF pages needs pypdfium2 (pip install pypdfium2)") from exc
    with PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(str(path))
        except (pdfium.PdfiumError, OSError) as exc:
            raise PolicyQAError(f"cannot open {path.name} to show page {page}: {exc}") from exc
        try:
            if not 1 <= page <= len(pdf):
                raise PolicyQAError(f"{path.name} has no page {page} (it has {len(pdf)}); rebuild the index")
            pdf_page = pdf[page - 1]
            page_w, page_h = max(pdf_page.get_width(), 1.0), max(pdf_page.get_height(), 1.0)
            scale, note = fit_scale(page_w, page_h, width)
            image = pdf_page.render(scale=scale).to_pil().convert("RGBA")
            boxes = text_layer_boxes(pdf_page, quote) if quote else []
        finally:
            pdf.close()
    pixels = [(x0 * scale, (page_h - y1) * scale, x1 * scale, (page_h - y0) * scale) for x0, y0, x1, y1 in boxes]
    if quote and not boxes:
        pixels = ocr_boxes(image, quote)
    if quote and not pixels:
        missing = "The quote could not be located on the page image; it is marked in the text."
        note = f"{note} {missing}".strip()
    return RenderedPage(mark(image, pixels), note, len(pixels))


def fit_scale(page_w: float, page_h: float, width: int) -> tuple[float, str]:
    """The render scale: `width` pixels wide, unless the height or the area would pass their caps."""
    scale = width / page_w
    capped = min(scale, MAX_HEIGHT_PX / page_h, (MAX_PIXELS / (page_w * page_h)) ** 0.5)
    capped = max(capped, MIN_SCALE)
    if capped < scale * 0.999:
        w, h = max(1, round(page_w * capped)), max(1, round(page_h * capped))
        return capped, f"This page is unusually large; it is shown scaled down to {w} × {h} pixels."
    return scale, ""


def _folded(text: str) -> tuple[str, list[int]]:
    """Letters and digits of `text`, lower-cased and ligatures spelt out, with the index each came from."""
    from policyqa.ingest.clean import LIGATURES

    letters: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for c in LIGATURES.get(ch, ch):
            if c.isalnum():
                letters.append(c.lower())
                where.append(i)
    return "".join(letters), where


def locate(haystack: str, needle: str) -> tuple[int, int] | None:
    """(first, last) index in `haystack` of `needle`'s letters and digits; where the quote runs onto another page,
    the longest start or end of it found here."""
    hay, where = _folded(haystack)
    want, _ = _folded(needle)
    if not want or not hay:
        return None
    found = hay.find(want)
    if found >= 0:
        return where[found], where[found + len(want) - 1]
    for size in range(len(want) - 1, max(len(want) // 5, 12) - 1, -1):  # a part on this page, at least 12 letters
        head = hay.rfind(want[:size])
        if head >= 0:
            return where[head], where[head + size - 1]
        tail = hay.find(want[-size:])
        if tail >= 0:
            return where[tail], where[tail + size - 1]
    return None


def text_layer_boxes(pdf_page: Any, quote: str) -> list[tuple[float, float, float, float]]:
    """Boxes (PDF points, origin bottom-left) of the quote's characters, merged into one box per line."""
    textpage = pdf_page.get_textpage()
    try:
        count = textpage.count_chars()
        if count <= 0:
            return []
        text = textpage.get_text_range(0, count)
        span = locate(text, quote)
        if span is None:
            return []
        boxes = [textpage.get_charbox(i, loose=True) for i in range(span[0], span[1] + 1)]
    finally:
        textpage.close()
    return merge_lines([b for b in boxes if b[2] > b[0] and b[3] > b[1]])


def merge_lines(boxes: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """Character boxes in reading order merged into one box per line (a new line where a box does not overlap the
    current line vertically)."""
    lines: list[list[float]] = []
    for x0, y0, x1, y1 in boxes:
        line = lines[-1] if lines else None
        if line is not None and y0 < line[3] and y1 > line[1] and x0 >= line[0] - 2:
            line[0], line[1], line[2], line[3] = min(line[0], x0), min(line[1], y0), max(line[2], x1), max(line[3], y1)
        else:
            lines.append([x0, y0, x1, y1])
    return [(a, b, c, d) for a, b, c, d in lines]


def ocr_boxes(image: Any, quote: str) -> list[tuple[float, float, float, float]]:
    """The quote's words on a page without a text layer, by their OCR boxes (pixels); [] without OCR."""
    try:
        from policyqa.ingest.readers.ocr import ocr_available, ocr_image
    except ImportError:
        return []
    if ocr_available() is not None:
        return []
    page = ocr_image(image.convert("RGB"))
    span = locate(page.text, quote)
    if span is None:
        return []
    return [w.box for w in page.words if w.end > span[0] and w.start <= span[1]]


def mark(image: Any, boxes: list[tuple[float, float, float, float]]) -> Any:
    """`image` with translucent boxes drawn over `boxes` (pixels, origin top-left)."""
    from PIL import Image, ImageDraw

    if not boxes:
        return image.convert("RGB")
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for x0, y0, x1, y1 in boxes:
        draw.rectangle((x0 - 2, y0 - 2, x1 + 2, y1 + 2), fill=HIGHLIGHT, outline=OUTLINE, width=2)
    return Image.alpha_composite(image, overlay).convert("RGB")
