"""Search results read as text: no passage starts or ends inside a sentence (issue 27), on the bundled corpus and on
the real documents of eval/realdocs, real index, every question of their question sets, every mode.

A sentence is what the build's splitter makes of the whole document text (`sentence_spans`: a blank line ends one,
a hard-wrapped line does not); a passage may also start where a heading starts.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from policyqa import build_index, open_index
from policyqa.ingest.sentences import sentence_spans
from policyqa.search.retrieval import MODES
from tests.conftest import REPO

REALDOCS = REPO / "eval" / "realdocs"
# Every realdocs file but the scanned report (OCR alone takes most of a minute) and the encrypted one (no text).
REAL_FILES = sorted(
    p.name for p in (REALDOCS / "corpus").iterdir() if "_SCAN" not in p.name and "ENCRYPTED" not in p.name
)


def questions(path: Path) -> list[str]:
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def cut_sentences(index_dir: Path, asked: list[str]) -> tuple[int, list[str]]:
    """How many passages were checked, and each one that starts or ends inside a sentence (with its edges)."""
    index = open_index(index_dir)
    bounds: dict[str, tuple[set[int], set[int]]] = {}
    checked, bad = 0, []
    for mode in MODES:
        for question in asked:
            for hit in index.search(question, k=10, mode=mode):
                if hit.doc_id not in bounds:
                    doc = index.document(hit.doc_id)
                    spans = sentence_spans(doc.text)
                    starts = {a for a, _ in spans} | {h.start for h in doc.headings}
                    bounds[hit.doc_id] = (starts, {b for _, b in spans})
                starts, ends = bounds[hit.doc_id]
                checked += 1
                if hit.start not in starts or hit.end not in ends:
                    bad.append(f"{hit.doc_id} {hit.start}-{hit.end}: {hit.text[:60]!r} … {hit.text[-60:]!r}")
    return checked, bad


def test_no_passage_of_the_bundled_corpus_cuts_a_sentence(bundled_index: Path) -> None:
    checked, bad = cut_sentences(bundled_index, questions(REPO / "eval" / "bundled_questions.jsonl"))
    assert checked > 2500 and bad == [], bad[:5]  # passages reach further than before: fewer distinct ones


@pytest.fixture(scope="module")
def realdocs_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("realdocs-bounds")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in REAL_FILES:
        shutil.copy(REALDOCS / "corpus" / name, corpus / name)
    build_index(corpus, root / "index", progress=False, log=lambda _m: None)
    return root / "index"


def test_no_passage_of_the_real_documents_cuts_a_sentence(realdocs_index: Path) -> None:
    checked, bad = cut_sentences(realdocs_index, questions(REALDOCS / "questions.jsonl"))
    assert checked > 2000 and bad == [], bad[:5]
