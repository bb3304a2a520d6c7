"""OCR of page images: a real public-domain PDF page (tests/ingest/data/ocr/SOURCE.md) rendered and read back by
Tesseract, checked against the page's own text layer: its words, their boxes and their order."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from policyqa.errors import DocumentError
from policyqa.ingest.readers.ocr import OcrPage, ocr_available, ocr_image

PAGE_PDF = Path(__file__).parent / "data" / "ocr" / "fips199-page6.pdf"
DPI = 200


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("“", '"').replace("”", '"')
    found = (re.sub(r"^\W+|\W+$", "", w).lower() for w in text.split())
    return [w for w in found if re.search(r"[a-z0-9]", w)]


@pytest.fixture(scope="module")
def pdf_page():
    pdf = pdfium.PdfDocument(str(PAGE_PDF))
    yield pdf[0]
    pdf.close()


@pytest.fixture(scope="module")
def image(pdf_page) -> Image.Image:
    return pdf_page.render(scale=DPI / 72, grayscale=True).to_pil()


@pytest.fixture(scope="module")
def ocr(image) -> OcrPage:
    return ocr_image(image)


def test_ocr_runs_on_this_machine():
    assert ocr_available() is None


def test_words_of_the_text_layer_are_read(pdf_page, ocr):
    layer = set(_words(pdf_page.get_textpage().get_text_range()))
    read = set(_words(ocr.text))
    missed = layer - read
    assert len(layer) > 120
    assert len(missed) <= 0.03 * len(layer), sorted(missed)
    for phrase in ("The FISMA defines three security objectives", "unauthorized disclosure of information",
                   "Potential Impact on Organizations and Individuals"):
        assert phrase in " ".join(ocr.text.split())


def test_each_word_is_its_slice_of_the_text(ocr):
    assert ocr.words
    assert [w.text for w in ocr.words] == ocr.text.split()
    assert all(ocr.text[w.start : w.end] == w.text for w in ocr.words)
    assert all(a.end < b.start for a, b in zip(ocr.words, ocr.words[1:], strict=False))
    assert "\n\n" in ocr.text and "\n" in ocr.text.replace("\n\n", "")  # paragraphs and lines kept apart


def test_boxes_lie_in_the_image_in_reading_order(image, ocr):
    width, height = image.size
    for w in ocr.words:
        x0, y0, x1, y1 = w.box
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, w
    for a, b in zip(ocr.words, ocr.words[1:], strict=False):
        between = ocr.text[a.end : b.start]
        if between == " ":  # same line: left to right, overlapping vertically
            assert b.box[0] > a.box[0] and b.box[1] < a.box[3] and a.box[1] < b.box[3], (a, b)
        else:  # a later line of this single-column page: lower down
            assert b.box[1] > a.box[1], (a, b)


@pytest.mark.parametrize("word", ["FISMA", "disruption", "proprietary", "Amplification"])
def test_a_word_box_matches_the_text_layer_box(pdf_page, ocr, word):
    textpage = pdf_page.get_textpage()
    layer_text = textpage.get_text_range()
    at = layer_text.lower().index(word.lower())
    boxes = [textpage.get_charbox(i) for i in range(at, at + len(word))]  # PDF points, origin bottom-left
    scale, page_height = DPI / 72, pdf_page.get_height()
    expected = (min(b[0] for b in boxes) * scale, (page_height - max(b[3] for b in boxes)) * scale,
                max(b[2] for b in boxes) * scale, (page_height - min(b[1] for b in boxes)) * scale)
    found = [w for w in ocr.words if _words(w.text) == [word.lower()]]
    assert found, word
    assert max(_overlap(w.box, expected) for w in found) > 0.6, (expected, [w.box for w in found])


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union


def test_transparent_background_reads_as_paper(pdf_page, ocr):
    clear = pdf_page.render(scale=DPI / 72, fill_color=(0, 0, 0, 0)).to_pil()  # black ink on transparent pixels
    assert clear.mode == "RGBA"
    assert _words(ocr_image(clear).text) == _words(ocr.text)


def test_a_blank_page_has_no_words():
    page = ocr_image(Image.new("L", (1700, 2200), 255))
    assert page == OcrPage("", [])


@pytest.mark.parametrize("bad", [b"%PDF-1.7", "page.png", None])
def test_what_is_not_an_image_is_refused_with_a_reason(bad):
    with pytest.raises(DocumentError, match="PIL image"):
        ocr_image(bad)


def test_an_empty_image_is_refused_with_a_reason():
    with pytest.raises(DocumentError, match="non-empty image"):
        ocr_image(Image.new("L", (0, 0)))


def test_without_tesseract_the_reason_says_what_to_install(monkeypatch, tmp_path, image):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no `tesseract` on the PATH
    ocr_available.cache_clear()
    try:
        reason = ocr_available()
        assert reason and "tesseract-ocr" in reason
        with pytest.raises(DocumentError, match="tesseract-ocr"):
            ocr_image(image)
    finally:
        monkeypatch.undo()
        ocr_available.cache_clear()
    assert ocr_available() is None
