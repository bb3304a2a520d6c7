"""A cited PDF page as an image (pypdfium2), to show beside its text in the document view."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from policyqa.errors import PolicyQAError

RENDER_WIDTH_PX = 900
_LOCK = threading.Lock()  # PDFium is not thread-safe


def render_page(path: Path, page: int, width: int = RENDER_WIDTH_PX) -> Any:
    """Page `page` (1-based) of the PDF at `path` as a PIL image about `width` pixels wide."""
    try:
        import pypdfium2 as pdfium
    except ImportError as exc:
        raise PolicyQAError("showing PDF pages needs pypdfium2 (pip install -e '.[ui]')") from exc
    with _LOCK:
        try:
            pdf = pdfium.PdfDocument(str(path))
        except (pdfium.PdfiumError, OSError) as exc:
            raise PolicyQAError(f"cannot open {path.name} to show page {page}: {exc}") from exc
        try:
            if not 1 <= page <= len(pdf):
                raise PolicyQAError(f"{path.name} has no page {page} (it has {len(pdf)}); rebuild the index")
            pdf_page = pdf[page - 1]
            scale = width / max(pdf_page.get_width(), 1.0)
            return pdf_page.render(scale=scale).to_pil()
        finally:
            pdf.close()
