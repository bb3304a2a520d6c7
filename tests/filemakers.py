"""Small helpers that write real PDF and DOCX files for the document-reader tests."""

from __future__ import annotations

from pathlib import Path


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _content_stream(text: str) -> bytes:
    """One `Tj` per line, each line 14pt below the previous one."""
    ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
    for i, line in enumerate(text.split("\n")):
        if i:
            ops.append("T*")
        ops.append(f"({_pdf_escape(line)}) Tj")
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


def make_pdf(path: Path, pages: list[str], size: tuple[float, float] = (612, 792)) -> Path:
    """Write a hand-built PDF with one page per string (Helvetica, extractable text, correct xref); `size` is each
    page's MediaBox width and height in points."""
    n = len(pages)
    font_num = 3
    first_page = 4  # page i is object first_page + 2*i, its content stream is the next object
    page_nums = [first_page + 2 * i for i in range(n)]
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: f"<< /Type /Pages /Kids [{' '.join(f'{p} 0 R' for p in page_nums)}] /Count {n} >>".encode(),
        font_num: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    for page_num, text in zip(page_nums, pages, strict=True):
        stream = _content_stream(text)
        objects[page_num] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {size[0]:g} {size[1]:g}] "
            f"/Resources << /Font << /F1 {font_num} 0 R >> >> /Contents {page_num + 1} 0 R >>"
        ).encode()
        objects[page_num + 1] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    xref_at = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        out += b"%010d 00000 n \n" % offsets[num]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref_at)
    path.write_bytes(bytes(out))
    return path


def make_docx(path: Path, blocks: list[tuple[str, str]]) -> Path:
    """Write a .docx with one paragraph per (style, text) block, e.g. ("Heading 1", "Scope")."""
    import docx

    document = docx.Document()
    for style, text in blocks:
        document.add_paragraph(text, style=style)
    document.save(str(path))
    return path


def make_word_by_word_pdf(path: Path, lines: list[str]) -> Path:
    """A one-page PDF drawn as word processors draw it: every word its own text object at its own position (text
    extractors that follow the drawing order put each word on a line of its own)."""
    ops: list[str] = []
    for row, line in enumerate(lines):
        x = 72.0
        for word in line.split():
            ops.append(f"BT /F1 12 Tf 1 0 0 1 {x:.2f} {720 - 16 * row} Tm ({_pdf_escape(word)}) Tj ET")
            x += 6.5 * len(word) + 3.5  # Helvetica averages about 0.54 em a letter; a space is about 0.28 em
    return _write_one_page(path, "\n".join(ops).encode("latin-1"))


def _write_one_page(path: Path, stream: bytes) -> Path:
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        4: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
        b"/Contents 5 0 R >>",
        5: b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    }
    out = bytearray(b"%PDF-1.4\n")
    offsets: dict[int, int] = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % offsets[n] for n in range(1, 6))
    out += b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref_at
    path.write_bytes(bytes(out))
    return path


def make_scanned_pdf(source: Path, page: int, path: Path, dpi: int = 150) -> Path:
    """A PDF whose one page is a picture of page `page` (0-based) of `source`, with no text layer: a scan."""
    import pypdfium2 as pdfium

    original = pdfium.PdfDocument(source)
    width, height = original[page].get_size()
    picture = original[page].render(scale=dpi / 72, grayscale=True).to_pil()
    scan = pdfium.PdfDocument.new()
    sheet = scan.new_page(width, height)
    image = pdfium.PdfImage.new(scan)
    image.set_bitmap(pdfium.PdfBitmap.from_pil(picture.convert("RGB")))
    image.set_matrix(pdfium.PdfMatrix().scale(width, height))
    sheet.insert_obj(image)
    sheet.gen_content()
    scan.save(path)
    original.close()
    return path
