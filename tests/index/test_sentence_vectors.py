"""Sentence vectors stored at build time: what `ask` reads instead of embedding sentences per question."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from policyqa import build_index, open_index
from policyqa.index.faiss_sqlite.files import DATABASE
from policyqa.index.faiss_sqlite.generation import FORMAT_VERSION, Generation
from policyqa.ingest.sentences import passage_sentences
from tests.conftest import BUNDLED_DOC


def test_every_chunk_has_its_sentences(bundled_index: Path) -> None:
    """Their vectors (late chunking by default) are checked in tests/embed/test_late_chunking.py."""
    generation = Generation.open_current(bundled_index)
    chunks = list(generation.iter_chunks())
    text = generation.document_text(BUNDLED_DOC)
    for chunk in chunks:
        stored = generation.sentences([chunk.id])
        assert [(s.start, s.end) for s in stored] == passage_sentences(text, chunk.start, chunk.end)
        assert all(np.isfinite(s.vector).all() and abs(float(s.vector @ s.vector) - 1) < 1e-4 for s in stored)
    assert generation.manifest["format_version"] == FORMAT_VERSION == 4


def test_an_edit_reuses_unchanged_sentences_and_a_delete_drops_them(corpus: Path, tmp_path: Path) -> None:
    """Sentences embedded on their own (the "separate" option) are reused by text; late chunking's reuse, by chunk,
    is tested in tests/embed/test_late_chunking.py."""
    index = tmp_path / "index"
    options = {"sentence_vectors": "separate", "log": lambda _m: None}
    (corpus / "leave.md").write_text("# Leave\n\nStaff get 25 days of leave. Managers approve it.\n", encoding="utf-8")
    build_index(corpus, index, **options)
    before = Generation.open_current(index)
    old = {(s.start, s.end): s.vector for s in before.sentences(c.id for c in before.iter_chunks("leave.md"))}
    before.close()
    (corpus / "leave.md").write_text(
        "# Leave\n\nStaff get 25 days of leave. Managers approve it.\n\nUnused days lapse in March.\n", encoding="utf-8"
    )
    report = build_index(corpus, index, **options)
    assert report.modified == 1 and report.chunks_embedded == 1
    after = Generation.open_current(index)
    new = {(s.start, s.end): s.vector for s in after.sentences(c.id for c in after.iter_chunks("leave.md"))}
    assert all(np.array_equal(new[span], vector) for span, vector in old.items())  # carried over, not re-embedded
    assert len(new) == len(old) + 1
    after.close()
    (corpus / "leave.md").unlink()
    build_index(corpus, index, **options)
    with sqlite3.connect(Generation.open_current(index).path / DATABASE) as db:
        orphans = db.execute("SELECT COUNT(*) FROM sentences WHERE chunk_id NOT IN (SELECT id FROM chunks)").fetchone()
    assert orphans == (0,)
    assert open_index(index).ask("How many days of leave do staff get?").state == "refused"


def test_an_index_of_the_previous_format_is_rebuilt_with_a_reason(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build_index(corpus, index)
    with sqlite3.connect(Generation.open_current(index).path / DATABASE) as db:
        db.execute("UPDATE manifest SET value = '2' WHERE key = 'format_version'")
    messages: list[str] = []
    report = build_index(corpus, index, log=messages.append)
    assert report.full_rebuild_reason and "format version 2" in report.full_rebuild_reason
    assert Generation.open_current(index).sentences([1])
