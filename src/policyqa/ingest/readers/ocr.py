"""OCR of a page image (a scanned PDF page) with word boxes: Debian's Tesseract, read through its TSV output.

Chosen over RapidOCR (rapidocr-onnxruntime, models in its wheel) by benchmarks/ocr_compare.py on 34 real pages of
10 documents at 300 dpi (BENCHMARKS.md): word recall 0.96 against 0.83, half the character errors,
about a third of the time per page and 75 MB against 1.3 GB at peak. scripts/setup.sh installs Debian's
`tesseract-ocr` when `tesseract` is missing; it runs offline (its English model ships in the package).
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from policyqa.errors import DocumentError

if TYPE_CHECKING:
    from PIL import Image

LANGUAGE = "eng"
TIMEOUT_S = 300  # a dense 300-dpi page takes a few seconds; this only stops a hung engine from stopping a build
_INSTALL = "install Debian's tesseract-ocr (`apt-get install tesseract-ocr`, which scripts/setup.sh does)"


@dataclass(frozen=True)
class OcrWord:
    text: str
    start: int  # offsets of the word in OcrPage.text
    end: int
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the image's pixels, origin top-left


@dataclass(frozen=True)
class OcrPage:
    text: str  # reading order: words joined by " ", lines by "\n", paragraphs by "\n\n"
    words: list[OcrWord]


@functools.cache
def ocr_available() -> str | None:
    """None when OCR can run here, else the reason and what to install."""
    if shutil.which("tesseract") is None:
        return f"OCR needs the `tesseract` program: {_INSTALL}"
    try:
        listed = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"`tesseract` does not run ({exc}): {_INSTALL}"
    if LANGUAGE not in listed.stdout.split():
        return f"Tesseract has no '{LANGUAGE}' language data: install Debian's tesseract-ocr-{LANGUAGE}"
    return None


def ocr_image(image: Image.Image) -> OcrPage:
    """Read the text of a page image, in reading order, with each word's box."""
    reason = ocr_available()
    if reason:
        raise DocumentError(reason)
    data, dpi = _as_pnm(image)
    # Without a resolution Tesseract estimates one from the text height, which works for rendered pages.
    command = ["tesseract", "-", "-", "-l", LANGUAGE, *(["--dpi", str(dpi)] if dpi else []), "tsv"]
    # One thread: the build may OCR from a pool of its own, and Tesseract's OpenMP threads gain little on a page.
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired as exc:
        raise DocumentError(f"OCR took longer than {TIMEOUT_S} s on one page and was stopped") from exc
    except OSError as exc:
        raise DocumentError(f"OCR could not start tesseract ({exc})") from exc
    if done.returncode:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DocumentError(f"OCR failed (tesseract: {detail[-1] if detail else f'exit {done.returncode}'})")
    return _page_from_tsv(done.stdout.decode("utf-8", "replace"))


def _as_pnm(image: Image.Image) -> tuple[bytes, int | None]:
    """The image as uncompressed PGM/PPM bytes (fast to write, read by Tesseract from stdin) and its dpi if known."""
    from PIL import Image, UnidentifiedImageError

    if not isinstance(image, Image.Image):
        raise DocumentError(f"OCR needs a PIL image, not {type(image).__name__}")
    if image.width < 1 or image.height < 1:
        raise DocumentError(f"OCR needs a non-empty image, not {image.width}x{image.height} pixels")
    try:
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            # Transparent pixels carry no colour of their own; on white they read as paper, not as black ink.
            rgba = image.convert("RGBA")
            page = Image.new("RGBA", rgba.size, "white")
            page.alpha_composite(rgba)
            image = page.convert("RGB")
        elif image.mode not in ("L", "RGB"):
            image = image.convert("L" if image.mode in ("1", "I", "I;16", "F") else "RGB")
        buffer = io.BytesIO()
        image.save(buffer, format="PPM")
    except (OSError, ValueError, UnidentifiedImageError) as exc:
        raise DocumentError(f"OCR could not read the page image ({exc})") from exc
    dpi = image.info.get("dpi")
    return buffer.getvalue(), round(dpi[0]) if dpi and 50 <= dpi[0] <= 2400 else None


def _page_from_tsv(tsv: str) -> OcrPage:
    """Words (TSV level 5) in Tesseract's reading order; a new line or a new paragraph changes the separator."""
    parts: list[str] = []
    words: list[OcrWord] = []
    offset = 0
    last: tuple[str, str, str] | None = None  # (block, paragraph, line)
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
            continue
        text = cells[11].strip()
        key = (cells[2], cells[3], cells[4])
        if last is None:
            separator = ""
        elif key[:2] != last[:2]:
            separator = "\n\n"
        else:
            separator = "\n" if key != last else " "
        last = key
        left, top, width, height = (float(cells[i]) for i in range(6, 10))
        offset += len(separator)
        words.append(OcrWord(text, offset, offset + len(text), (left, top, left + width, top + height)))
        parts += [separator, text]
        offset += len(text)
    return OcrPage("".join(parts), words)
