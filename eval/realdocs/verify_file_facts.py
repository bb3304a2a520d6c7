"""Check eval/realdocs/file_facts.json against the corpus files themselves.

file_facts.json says, per file, what a person reading it sees and what an extraction must get right: a pattern the
right title matches (and wrong titles the file's metadata offers), running header/footer lines (regular expressions
on whole lines) that must stay out of chunks, sentences, titles and quotes, headings, table rows (cells in order,
to be kept on one line), footnote texts (to be kept out of the body), strings that only appear when a footnote
marker is glued to a word, printed page labels by 1-based PDF page, pages that need OCR, and whether the file is
encrypted. This script checks each expectation describes the file as it is (the lines really repeat, the headings
and cells really exist, the traps are really there), so extraction tests can rely on them.
Run: .venv/bin/python eval/realdocs/verify_file_facts.py
"""

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from verify_questions import CORPUS, normalise, plain_text  # noqa: E402


def raw_lines(path: Path) -> list[str]:
    """Every line of the file as its own format shows it, including headers, footers and front matter."""
    if path.suffix == ".pdf":
        import pypdfium2

        document = pypdfium2.PdfDocument(str(path))
        pages = [document[i].get_textpage().get_text_range() for i in range(len(document))]
        return [line.strip() for page in pages for line in page.splitlines()]
    if path.suffix == ".docx":
        import docx

        document = docx.Document(str(path))
        parts = [section.header for section in document.sections] + [s.footer for s in document.sections]
        parts += [s.first_page_header for s in document.sections] + [s.first_page_footer for s in document.sections]
        texts = [p.text for part in parts for p in part.paragraphs] + [p.text for p in document.paragraphs]
        return [t.strip() for t in texts]
    if path.suffix == ".html":
        from bs4 import BeautifulSoup

        text = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").get_text("\n")
        return [line.strip() for line in text.splitlines()]
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]


def headings_of(path: Path) -> set[str]:
    found = {normalise(line) for line in raw_lines(path)}
    if path.suffix == ".pdf":
        import pypdfium2

        found |= {normalise(b.get_title()) for b in pypdfium2.PdfDocument(str(path)).get_toc(max_depth=15)}
    if path.suffix == ".html":
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        found |= {normalise(h.get_text(" ").replace("¶", "")) for h in soup.find_all(re.compile("^h[1-6]$"))}
    if path.suffix == ".md":
        found |= {normalise(re.sub(r"^#+\s*|\*\*", "", line)) for line in raw_lines(path) if line.startswith("#")}
    return found


def metadata_title(path: Path) -> str:
    if path.suffix == ".pdf":
        import pypdfium2

        return pypdfium2.PdfDocument(str(path)).get_metadata_dict().get("Title", "")
    if path.suffix == ".docx":
        import docx

        return docx.Document(str(path)).core_properties.title or ""
    return ""


def check(name: str, spec: dict) -> list[str]:
    path = CORPUS / name
    problems = []
    lines = raw_lines(path)
    text = normalise(plain_text(path))
    pages = 0
    if path.suffix == ".pdf":
        import pypdfium2

        document = pypdfium2.PdfDocument(str(path))
        pages = len(document)
        for page, label in spec.get("page_labels", {}).items():
            if document.get_page_label(int(page) - 1) != label:
                problems.append(f"page {page} label is {document.get_page_label(int(page) - 1)!r}, not {label!r}")
        blank = [i + 1 for i in range(pages) if len(document[i].get_textpage().get_text_range().strip()) < 20]
        if "ocr_pages" in spec and blank != spec["ocr_pages"]:
            problems.append(f"pages without text are {blank}, not {spec['ocr_pages']}")
    needed = 1 if path.suffix in (".docx", ".html", ".md") else max(2, min(5, pages // 3))
    for pattern in spec.get("running_lines", []):
        hits = sum(1 for line in lines if re.search(pattern, line))
        if hits < needed:
            problems.append(f"running line {pattern!r} occurs on {hits} lines, expected >= {needed}")
    found = headings_of(path)
    problems += [f"heading not found: {h!r}" for h in spec.get("headings", []) if normalise(h) not in found]
    for cells in spec.get("table_rows", []):
        pattern = r"\W{0,12}".join(re.escape(normalise(c)) for c in cells)
        if not re.search(pattern, text) and not re.search(pattern.replace(r"\W{0,12}", r".{0,300}?"), text):
            problems.append(f"table row not found: {cells}")
    problems += [f"footnote not found: {f!r}" for f in spec.get("footnotes", []) if normalise(f) not in text]
    problems += [f"trap not present: {t!r}" for t in spec.get("must_not_contain", []) if t not in text]
    title = metadata_title(path)
    problems += [f"metadata title is {title!r}, not the trap {w!r}" for w in spec.get("wrong_titles", []) if title != w]
    if "SCAN" not in name and not re.search(spec["title_pattern"], text, flags=re.IGNORECASE):
        problems.append(f"title pattern {spec['title_pattern']!r} matches nothing in the text")
    if spec.get("encrypted") and b"/Encrypt" not in path.read_bytes():
        problems.append("not encrypted")
    return [f"{name}: {p}" for p in problems]


def main() -> int:
    expected = json.loads((CORPUS.parent / "file_facts.json").read_text(encoding="utf-8"))
    missing = sorted({p.name for p in CORPUS.iterdir()} - set(expected))
    problems = [f"no expectations for {name}" for name in missing]
    for name, spec in expected.items():
        problems += check(name, spec)
    print(f"{len(expected)} files checked")
    print("\n".join(problems) or "every expectation matches its file")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
