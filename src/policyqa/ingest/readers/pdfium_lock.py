"""One lock for every use of PDFium in the process (reading at build time, rendering a cited page in the app):
PDFium keeps global state and is not thread-safe."""

from __future__ import annotations

import threading

PDFIUM_LOCK = threading.RLock()
