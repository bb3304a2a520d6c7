"""Builds racing builds, builds racing searches (threads and another process), and a corpus changing mid-build."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

import policyqa.build.sync
from policyqa import build_index, open_index
from policyqa.ingest.documents import scan_corpus
from tests.conftest import BUNDLED_DOC
from tests.faults.helpers import (
    ADDED,
    QUERIES,
    Child,
    Scenario,
    Snapshot,
    apply_new_state,
    assert_new_state_searchable,
    assert_sound,
    fresh_copy,
)


def quiet(message: str) -> None:
    pass


def test_second_build_fails_with_lock_message_third_waits_and_index_ends_consistent(
    scenario: Scenario, tmp_path: Path
) -> None:
    corpus, index = fresh_copy(scenario, tmp_path)
    release = tmp_path / "release"
    build = ["build", "--corpus", str(corpus), "--index", str(index)]
    first = Child("--pause", "embedding", "--hold-until", str(release), "--replay", str(scenario.replay), *build)
    try:
        first.wait_for("PQA-PAUSE embedding")  # holds the lock, halfway through its build
        impatient = Child("--lock-timeout", "0.5", "--replay", str(scenario.replay), *build)
        assert impatient.finish() == 2
        assert f"another build of '{index}' is running (pid {first.proc.pid})" in impatient.err
        assert "Traceback" not in impatient.err
        patient = Child("--lock-timeout", "120", "--replay", str(scenario.replay), *build)
        patient.wait_for("waiting for it")
        assert patient.proc.poll() is None
        release.touch()
        assert first.finish() == 0, first.err
        assert patient.finish() == 0, patient.err
    finally:
        first.kill()
    assert "added 3, modified 1, deleted 1" in first.out
    assert "index is up to date; nothing written" in patient.out  # it waited, then found the work done
    assert_sound(index, corpus)
    assert_new_state_searchable(index, scenario)


def test_builds_while_threads_and_another_process_search(scenario: Scenario, tmp_path: Path) -> None:
    corpus, index = fresh_copy(scenario, tmp_path, new_state=False)
    stop = tmp_path / "stop"
    searcher = Child("--replay", str(scenario.replay), "search-loop", str(index), str(stop), *QUERIES)
    shared = open_index(index)
    done = threading.Event()
    failures: list[BaseException] = []
    counts = [0, 0, 0]
    generations: set[str] = set()

    def search_in_thread(slot: int) -> None:
        own = open_index(index) if slot == 2 else shared  # two threads share one index object, like the server
        try:
            while True:
                finished = done.is_set()
                own.refresh()
                for query in QUERIES:
                    before = own.generation  # another thread may refresh the shared index meanwhile
                    hits = own.search(query, k=3)
                    after = own.generation
                    generations.add(after.path.name)
                    assert hits, query
                    for hit in hits:
                        texts = [g.document_text(hit.doc_id) or "" for g in (before, after)]
                        assert hit.text in [t[hit.start : hit.end] for t in texts], (query, hit)
                    counts[slot] += 1
                if finished:
                    return
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=search_in_thread, args=(slot,)) for slot in range(3)]
    try:
        searcher.wait_for("PQA-SEARCHING")
        for thread in threads:
            thread.start()
        apply_new_state(corpus)
        build_index(corpus, index, log=quiet)  # adds three, edits one, deletes one document
        (corpus / ADDED_NAME).unlink()
        build_index(corpus, index, log=quiet)
        (corpus / ADDED_NAME).write_text(ADDED[ADDED_NAME], encoding="utf-8")
        build_index(corpus, index, log=quiet)
        build_index(corpus, index, full=True, log=quiet)  # every chunk id changes
    finally:
        done.set()
        stop.touch()
        for thread in threads:
            thread.join(timeout=120)
    assert searcher.finish() == 0, searcher.err
    assert not failures, failures
    assert min(counts) > 0 and len(generations) >= 2, (counts, generations)
    assert "PQA-SEARCHES" in searcher.out and " GENERATIONS 1\n" not in searcher.out, searcher.out
    assert_sound(index, corpus)
    assert_new_state_searchable(index, scenario)


ADDED_NAME = "policies/beta.txt"


def test_reader_holding_an_old_generation_keeps_answering_after_later_builds(
    scenario: Scenario, tmp_path: Path
) -> None:
    corpus, index = fresh_copy(scenario, tmp_path, new_state=False)
    idx = open_index(index)  # opened, but no search yet
    old_generation = idx.generation.path
    for n in range(3):
        (corpus / f"note_{n}.txt").write_text(f"Note {n}: the archive room key is kept by the guard.", encoding="utf-8")
        build_index(corpus, index, log=quiet)
    assert not old_generation.exists(), "the old generation was removed from disk by the later builds"
    hits = idx.search("Where was the peace agreement signed?", k=3)  # still the old generation
    assert hits[0].doc_id == BUNDLED_DOC and not any(h.doc_id.startswith("note_") for h in hits)
    assert idx.refresh() and idx.search("Who keeps the archive room key?", k=1)[0].doc_id.startswith("note_")


def test_corpus_file_changing_between_scan_and_embed(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, index = fresh_copy(scenario, tmp_path)
    target = corpus / "policies" / "alpha.md"
    scanned_bytes = target.read_bytes()
    later = "# Vendor audits\n\nThe Valparaiso clause requires monthly audits of vendor badges.\n"
    doomed_id = "policies/gamma.html"
    doomed = corpus / doomed_id

    def scan_then_change(root: Path) -> object:
        result = scan_corpus(root)
        target.write_text(later, encoding="utf-8")  # edited while the build embeds the scanned bytes
        doomed.unlink()  # and one file disappears
        return result

    monkeypatch.setattr(policyqa.build.sync, "scan_corpus", scan_then_change)
    build_index(corpus, index, log=quiet)
    monkeypatch.undo()

    indexed = Snapshot.of(index)
    assert indexed.documents["policies/alpha.md"] == hashlib.sha256(scanned_bytes).hexdigest()
    assert doomed_id in indexed.documents  # indexed as it was when scanned
    idx = open_index(index)
    assert "Zanzibar" in idx.document_text("policies/alpha.md")
    assert_sound(index)

    report = build_index(corpus, index, log=quiet)
    assert (report.modified_files, report.deleted_files, report.added) == (["policies/alpha.md"], [doomed_id], 0)
    assert report.chunks_embedded >= 1
    idx.refresh()
    assert "Valparaiso" in idx.document_text("policies/alpha.md")
    assert idx.search("Which clause requires monthly audits of vendor badges?", k=1)[0].doc_id == "policies/alpha.md"
    assert_sound(index, corpus)
    assert build_index(corpus, index, log=quiet).generation is None
