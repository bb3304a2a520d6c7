"""The Corpus tab's refresh while the corpus watcher builds: nothing sent while nothing changed, the new state once a
build published, what the user chose kept; the timer only when a watcher runs. (The browser side is in
tests/e2e/test_corpus_refresh.py.)"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest
from policyqa_app import build_app
from policyqa_app.corpus_html import stale_html
from policyqa_app.handlers import WATCH_DONE, Handlers
from policyqa_app.state import AppState

from policyqa import CorpusWatcher, WatchSettings, WatchStatus, build_index, read_index_status
from policyqa.build.watch import State
from tests.conftest import BUNDLED_DOC

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # gr.Warning outside a running app
NOTE = "kestrel_rule.md"


def watching(state: AppState, doing: State, last_error: str | None = None) -> WatchStatus:
    """What the watcher reports while `doing`, one build done; `last_error`: that build failed."""
    return WatchStatus(
        corpus=str(state.corpus_dir),
        state=doing,
        pending=False,
        builds=1,
        last_build_at=None if last_error else 1.0e9,
        last_summary=None if last_error else "added 1",
        last_skipped=(),
        last_error=last_error,
        last_error_at=1.0e9 if last_error else None,
    )


def test_a_tick_sends_nothing_until_a_build_publishes_then_the_new_state_keeping_the_choices(
    handlers: Handlers,
) -> None:
    seen = handlers.on_load()[0]
    unchanged = handlers.corpus_refresh(seen, [BUNDLED_DOC], [], [], BUNDLED_DOC)
    assert unchanged == gr.skip()
    (handlers.state.corpus_dir / NOTE).write_text("# Kestrel rule\n\nTwo people approve each firewall change.\n")
    assert handlers.corpus_refresh(seen, [], [], [], None) == gr.skip()  # a new file alone: the watcher says when

    build_index(handlers.state.corpus_dir, handlers.state.store)  # another process (here: this one) publishes
    now, header, search, ask, compare, table, stale, delete, note = handlers.corpus_refresh(
        seen, [BUNDLED_DOC], [BUNDLED_DOC, "gone.md"], None, NOTE, "<div>Added x. It is indexed in a few seconds.</div>"
    )
    assert now != seen and now[0] == handlers.state.store.current_name()
    assert "<b>2</b> document(s)" in header and NOTE in table and "up to date" in stale
    for dropdown in (search, ask, compare):
        assert [value for _, value in dropdown.choices] == sorted([BUNDLED_DOC, NOTE])
    assert (search.value, ask.value, compare.value) == ([BUNDLED_DOC], [BUNDLED_DOC], [])  # gone.md was dropped
    assert delete.value == NOTE  # still in the folder: still chosen
    assert note == gr.skip()  # no watcher here: the note's promise is not the refresh's to judge
    assert handlers.corpus_refresh(now, [BUNDLED_DOC], [], [], NOTE) == gr.skip()


def test_the_fingerprint_follows_the_watcher_and_an_upload_note_says_when_it_is_done(
    handlers: Handlers, tmp_path: Path
) -> None:
    state = handlers.state
    settings = WatchSettings(quiet=0.3, catch_up=False)
    state.watcher = CorpusWatcher(state.corpus_dir, state.store.location, settings, on_build=lambda *_: state.reload())
    stopped = state.corpus_fingerprint()
    state.watcher.start()
    try:
        assert state.corpus_fingerprint() != stopped  # "stopped" -> "idle"
        seen = state.corpus_fingerprint()
        assert state.corpus_fingerprint() == seen
        upload = tmp_path / "upload" / NOTE
        upload.parent.mkdir()
        upload.write_text("# Kestrel rule\n\nTwo people approve each firewall change.\n")
        note = handlers.upload([str(upload)])[0]
        assert f"Added {NOTE}. It is indexed in a few seconds." in note, note
        state.watcher.request_build()
        assert state.corpus_fingerprint() != seen
        assert state.watcher.wait_idle(120)
        *_, table, stale, _, settled = handlers.corpus_refresh(seen, [], [], [], None, note)
        assert NOTE in table and "being indexed" not in table and "up to date" in stale, (table, stale)
        assert settled == note.replace(" It is indexed in a few seconds.", WATCH_DONE)
        assert handlers.corpus_refresh(seen, [], [], [], None, settled)[-1] == gr.skip()  # nothing left to settle
    finally:
        state.watcher.stop()


def test_a_watched_corpus_says_its_changes_are_being_indexed_unless_the_last_build_failed(
    handlers: Handlers,
) -> None:
    state = handlers.state
    (state.corpus_dir / NOTE).write_text("# Kestrel rule\n\nTwo people approve each firewall change.\n")
    (state.corpus_dir / BUNDLED_DOC).unlink()
    status = read_index_status(state.corpus_dir, state.store)
    building = stale_html(status, watching(state, "building"))
    assert f"Indexing 2 changed files… new: {NOTE}; removed: {BUNDLED_DOC}" in building
    assert "pqa-info" in building and "Rebuild index" not in building
    assert "Indexing 2 changed files in a few seconds." in stale_html(status, watching(state, "changed"))
    failed = stale_html(status, watching(state, "idle", "build failed: disk full"))
    unwatched = stale_html(status)
    assert failed == unwatched and "click “Rebuild index”" in failed and "pqa-warning" in failed


def test_the_page_polls_only_when_a_watcher_runs(corpus: Path, bundled_index: Path) -> None:
    def timers(state: AppState) -> int:
        config = build_app(bundled_index, corpus, state).config
        return sum(1 for component in config["components"] if component["type"] == "timer")

    state = AppState(bundled_index, corpus)
    assert timers(state) == 0
    state.watcher = CorpusWatcher(corpus, bundled_index)  # not started: only its presence counts
    assert timers(state) == 1
