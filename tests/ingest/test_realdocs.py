"""Real policy documents (eval/realdocs, public domain): the extraction a person reading them expects, end to end.

The CI subset (eval/realdocs/ci_subset.txt) is built into a real index once: every file is read, the doctor finds
nothing, an unchanged rebuild embeds nothing, and each file meets eval/realdocs/expectations.json.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from policyqa import build_index, open_index
from policyqa.build.doctor import check_index
from policyqa.ingest.clean import is_clean

REALDOCS = Path(__file__).resolve().parents[2] / "eval" / "realdocs"
SUBSET = [line.strip() for line in (REALDOCS / "ci_subset.txt").read_text().splitlines() if line.strip()]
EXPECT = json.loads((REALDOCS / "expectations.json").read_text(encoding="utf-8"))


def folded(text: str) -> str:
    return " ".join(text.split()).casefold()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    root = tmp_path_factory.mktemp("realdocs")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in SUBSET:
        shutil.copy(REALDOCS / "corpus" / name, corpus / name)
    report = build_index(corpus, root / "index", progress=False, log=lambda _m: None)
    return corpus, root / "index", report


def test_every_file_is_read_and_the_index_is_sound(built: tuple[Path, Path, object]) -> None:
    corpus, index, report = built
    assert report.skipped_files == [] and report.documents_total == len(SUBSET)
    assert [p for p in check_index(index, corpus) if p.is_error] == []
    again = build_index(corpus, index, progress=False, log=lambda _m: None)
    assert again.chunks_embedded == 0 and again.generation is None


@pytest.mark.parametrize("name", SUBSET)
def test_extraction_meets_what_a_reader_expects(built: tuple[Path, Path, object], name: str) -> None:
    _, index_dir, _ = built
    index = open_index(index_dir)
    doc = index.document(name)
    want = EXPECT.get(name, {})
    assert doc is not None and is_clean(doc.text), "ligature, control character or irregular space left"
    chunks = [c.text for c in index.chunks() if c.doc_id == name]
    for gone in want.get("absent", []):
        assert not [c for c in chunks if gone in c], f"{gone!r} is in a chunk"
    for there in want.get("present", []):
        assert folded(there) in folded(doc.text), f"{there!r} is not in the text"
    words = set(re.findall(r"\w+", doc.text.casefold()))
    assert {w.casefold() for w in want.get("present_words", [])} <= words
    lines = Counter(line.strip() for line in doc.text.splitlines())
    for line, most in want.get("line_max", {}).items():
        assert lines[line] <= most, f"{line!r} stands alone {lines[line]} times"
    if "title" in want:
        assert folded(want["title"]) in folded(doc.title), doc.title
    assert not [bad for bad in want.get("title_not", []) if bad.casefold() in doc.title.casefold()], doc.title
    titles = {h.title for h in doc.headings}
    assert set(want.get("headings", [])) <= titles, sorted(titles)[:20]
    if "labels" in want:
        assert list(doc.page_labels) == want["labels"]
    assert list(doc.page_labels[: len(want.get("labels_start", []))]) == want.get("labels_start", [])
    if "ocr_pages" in want:
        assert list(doc.ocr_pages) == want["ocr_pages"] and any("OCR" in n for n in doc.notes)
    for heading in doc.headings:  # a heading is its own paragraph: never glued to the sentence after it
        if doc.text.startswith(heading.title, heading.start):
            after = doc.text[heading.start + len(heading.title) : heading.start + len(heading.title) + 1]
            assert after in ("", "\n"), f"{heading.title!r} is glued to {doc.text[heading.start:][:80]!r}"
