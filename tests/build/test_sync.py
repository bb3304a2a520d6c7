from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import faiss
import pytest

from policyqa import build_index, open_index
from policyqa.embed.embedder import bundled_model_dir
from policyqa.errors import BuildLockedError, EmptyCorpusError
from policyqa.index.faiss_sqlite.generation import Generation
from policyqa.index.faiss_sqlite.locking import build_lock
from policyqa.index.store import is_milvus_location, open_store
from policyqa.ingest.chunking import ChunkSettings
from tests.conftest import BUNDLED_DOC, REPO

NEW_DOC = (
    "# Vendor audits\n\nThe Zanzibar clause requires quarterly audits of every vendor's encryption keys. "
    "Auditors report to the data protection board within thirty days.\n"
)
EDITED_DOC = "# Vendor audits\n\nThe Marrakesh annex obliges vendors to delete backups after ninety days.\n"


def assert_consistent(index_dir: Path | str) -> set[int]:
    """The store finds no damage; for a folder, FAISS ids and SQLite chunk ids are the same set. The chunk ids."""
    reader, problems = open_store(index_dir).inspect()
    assert reader is not None and not [p for p in problems if p.is_error], problems
    ids = {r.id for r in reader.iter_chunks()}
    reader.close()
    if is_milvus_location(str(index_dir)):
        return ids
    generation = Generation.open_current(Path(index_dir))
    try:
        faiss_ids = set(faiss.vector_to_array(generation.vectors.id_map).tolist())
        sqlite_ids = {r.id for r in generation.iter_chunks()}
        assert faiss_ids == sqlite_ids == ids
        return sqlite_ids
    finally:
        generation.close()


def test_add_edit_delete_unchanged(corpus: Path, tmp_path: Path, store: str) -> None:
    index_dir = store
    first = build_index(corpus, index_dir)
    assert (first.added, first.chunks_embedded) == (1, first.chunks_total)
    base_ids = assert_consistent(index_dir)

    (corpus / "policies").mkdir()
    (corpus / "policies" / "audit.md").write_text(NEW_DOC, encoding="utf-8")
    added = build_index(corpus, index_dir)
    assert (added.added, added.unchanged, added.modified, added.deleted) == (1, 1, 0, 0)
    assert added.chunks_embedded == 1 and added.chunks_total == first.chunks_total + 1
    idx = open_index(index_dir)
    top = idx.search("Which clause requires audits of vendor encryption keys?", k=1)[0]
    assert top.doc_id == "policies/audit.md" and "Zanzibar" in top.text and top.heading == "Vendor audits"
    assert assert_consistent(index_dir) > base_ids

    (corpus / "policies" / "audit.md").write_text(EDITED_DOC, encoding="utf-8")
    edited = build_index(corpus, index_dir)
    assert (edited.modified, edited.chunks_embedded) == (1, 1)
    assert idx.refresh()
    assert not any("Zanzibar" in c.text for c in idx.chunks())
    hits = idx.search("Zanzibar clause quarterly audits", k=len(idx))
    assert not any("Zanzibar" in h.text for h in hits)
    assert idx.search("When must vendors delete backups?", k=1)[0].doc_id == "policies/audit.md"

    (corpus / "policies" / "audit.md").unlink()
    deleted = build_index(corpus, index_dir)
    assert (deleted.deleted, deleted.chunks_embedded, deleted.chunks_total) == (1, 0, first.chunks_total)
    idx.refresh()
    assert {c.doc_id for c in idx.chunks()} == {BUNDLED_DOC}
    assert all(h.doc_id == BUNDLED_DOC for h in idx.search("vendors delete backups", k=len(idx)))
    assert assert_consistent(index_dir) == base_ids

    again = build_index(corpus, index_dir)
    assert (again.chunks_embedded, again.unchanged, again.generation) == (0, 1, None)


def test_editing_one_paragraph_reembeds_only_changed_chunks(corpus: Path, tmp_path: Path, store: str) -> None:
    index_dir = store
    first = build_index(corpus, index_dir)
    path = corpus / BUNDLED_DOC
    path.write_text(path.read_text(encoding="utf-8") + "\n\nA closing paragraph added later.\n", encoding="utf-8")
    report = build_index(corpus, index_dir)
    assert report.modified == 1
    assert 1 <= report.chunks_embedded < first.chunks_total
    assert report.chunks_reused == report.chunks_total - report.chunks_embedded
    texts = [c.text for c in open_index(index_dir).chunks()]
    assert texts[-1].endswith("A closing paragraph added later.") and len(texts) == report.chunks_total


def test_model_change_forces_full_rebuild(corpus: Path, tmp_path: Path, store: str) -> None:
    index_dir = store
    build_index(corpus, index_dir)
    other_model = tmp_path / "other-model"
    shutil.copytree(bundled_model_dir(), other_model)
    report = build_index(corpus, index_dir, model=other_model)
    assert report.full_rebuild_reason and "model" in report.full_rebuild_reason
    assert report.chunks_embedded == report.chunks_total
    from policyqa.errors import ModelMismatchError

    with pytest.raises(ModelMismatchError, match="policyqa build"):
        open_index(index_dir)
    assert open_index(index_dir, model=other_model).search("Doha", k=1)


def test_chunking_change_forces_full_rebuild(corpus: Path, tmp_path: Path, store: str) -> None:
    index_dir = store
    first = build_index(corpus, index_dir)
    report = build_index(corpus, index_dir, chunking=ChunkSettings(chunk_tokens=100, overlap_tokens=20))
    assert "chunking" in (report.full_rebuild_reason or "")
    assert report.chunks_total < first.chunks_total  # default: 64-token chunks, shown as larger passages


def test_index_read_by_an_older_reader_is_rebuilt_with_the_reason(corpus: Path, tmp_path: Path) -> None:
    import sqlite3

    index_dir = tmp_path / "index"
    build_index(corpus, index_dir)
    generation = Generation.open_current(index_dir)
    path = generation.path / "index.sqlite"
    generation.close()
    with sqlite3.connect(path) as db:  # what an index built before titles and heading levels looks like
        db.execute("DELETE FROM manifest WHERE key = 'reading'")
        db.execute("UPDATE documents SET title = 'old title', headings = '[[0, \"Top\"]]'")
    old = open_index(index_dir).document(BUNDLED_DOC)
    assert old is not None and old.title == "old title" and old.headings[0].level == 1  # still readable
    report = build_index(corpus, index_dir)
    assert "reading" in (report.full_rebuild_reason or "") and "version: 1 → 3" in report.full_rebuild_reason
    new = open_index(index_dir).document(BUNDLED_DOC)
    assert new is not None and new.title.startswith("Issues of strengthening cooperation between Russia and Central")
    assert build_index(corpus, index_dir).full_rebuild_reason is None


def test_bad_files_are_skipped_with_reasons(corpus: Path, store: str) -> None:
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\n this is not really a pdf")
    (corpus / "image.txt").write_bytes(bytes(range(256)) * 40)
    (corpus / "empty.md").write_text("   \n", encoding="utf-8")
    (corpus / "latin1.txt").write_bytes("Politique de confidentialit\xe9: donn\xe9es conserv\xe9es.".encode("cp1252"))
    messages: list[str] = []
    report = build_index(corpus, store, log=messages.append)
    reasons = {s.path: s.reason for s in report.skipped_files}
    assert set(reasons) == {"broken.pdf", "image.txt", "empty.md"}
    assert "PDF" in reasons["broken.pdf"] and "binary" in reasons["image.txt"] and "no text" in reasons["empty.md"]
    assert any("broken.pdf" in m for m in messages) and any("image.txt" in m for m in messages)
    assert report.added == 2 and "skipped broken.pdf" in report.summary()
    idx = open_index(store)
    assert "confidentialité" in next(c.text for c in idx.chunks() if c.doc_id == "latin1.txt")
    assert build_index(corpus, store).generation is None, "known-bad files do not make it stale"


def test_empty_or_missing_corpus_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyCorpusError, match="no readable documents"):
        build_index(tmp_path / "empty", tmp_path / "index")
    with pytest.raises(EmptyCorpusError, match="does not exist"):
        build_index(tmp_path / "nope", tmp_path / "index")
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_deleting_every_file_keeps_the_previous_index(corpus: Path, tmp_path: Path, store: str) -> None:
    index_dir = store
    build_index(corpus, index_dir)
    (corpus / BUNDLED_DOC).unlink()
    with pytest.raises(EmptyCorpusError, match="previous index was kept"):
        build_index(corpus, index_dir)
    assert len(open_index(index_dir)) > 0


def test_second_build_waits_then_fails_clearly(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    with build_lock(index_dir, timeout=0), pytest.raises(BuildLockedError, match="another build"):
        build_index(corpus, index_dir, lock_timeout=0.5)
    assert build_index(corpus, index_dir).added == 1


BUILD_SCRIPT = """
import sys
from policyqa import build_index
build_index(sys.argv[1], sys.argv[2], progress=True)
"""


def _big_corpus(path: Path, documents: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for n in range(documents):
        paragraphs = [
            f"Policy {n} section {p}: the controller keeps records of processing activity {n * 100 + p} "
            "and reviews retention schedules, access rights and transfers to third countries every year."
            for p in range(40)
        ]
        (path / f"policy_{n:03d}.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")


@pytest.mark.slow
def test_killed_build_leaves_previous_index_usable(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    before = build_index(corpus, index_dir)
    before_ids = assert_consistent(index_dir)
    _big_corpus(corpus / "bulk", documents=30)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", BUILD_SCRIPT, str(corpus), str(index_dir)],
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    deadline = time.monotonic() + 120
    seen = ""
    while "Batches" not in seen and time.monotonic() < deadline:  # the embedding progress bar has started
        seen += proc.stderr.read(1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert "Batches" in seen
    idx = open_index(index_dir)
    assert len(idx) == before.chunks_total and assert_consistent(index_dir) == before_ids
    assert idx.search("Where was the Peace Agreement signed?", k=1)[0].doc_id == BUNDLED_DOC
    after = build_index(corpus, index_dir)
    assert after.added == 30 and after.unchanged == 1
    assert len(assert_consistent(index_dir)) == after.chunks_total
    assert not list(index_dir.glob("gen-*.tmp"))
