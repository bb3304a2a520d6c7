"""PDF files."""

from __future__ import annotations

import io
import logging

from policyqa.errors import DocumentError
from policyqa.ingest.readers.base import ParsedText


class _WithoutFontToolsNotice(logging.Filter):
    """pypdf logs "fontTools is required to fully parse…" several times per PDF; the text is extracted anyway."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "fontTools" not in record.getMessage()


_FONT_NOTICE = _WithoutFontToolsNotice()


def read_pdf(data: bytes) -> ParsedText:
    logging.getLogger("pypdf._cmap").addFilter(_FONT_NOTICE)  # once: a logger keeps one copy of a filter
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError("encrypted PDF (needs a password)")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except DocumentError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise DocumentError(f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:  # pypdf raises many types on hostile files; none may stop a build
        raise DocumentError(f"unreadable PDF ({type(exc).__name__}: {exc})") from exc
    if not pages:
        raise DocumentError("PDF has no pages")
    parts: list[str] = []
    page_starts: list[int] = []
    offset = 0
    for page_text in pages:
        page_text = page_text.replace("\r\n", "\n").strip("\n")
        page_starts.append(offset)
        parts.append(page_text)
        offset += len(page_text) + 2  # the "\n\n" that joins pages
    return ParsedText(text="\n\n".join(parts), page_starts=page_starts, title=str(title) if title else None)
