"""A corpus that indexes itself: a real `serve` (and `policyqa watch`) over real folders, seen through the REST API."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from policyqa.build.watch import CorpusWatcher, WatchSettings
from policyqa.index.store import open_store
from tests.conftest import BUNDLED_DOC, DOHA_QUESTION
from tests.e2e.conftest import Server, bundled_copy, running_app
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, _require_browser

AUTH = ("watch-user", "w4tch-pw")
WITHIN = 30.0  # the bound
NOTE = "kestrel_rule.md"
NOTE_TEXT = "# Kestrel rule\n\nThe Kestrel rule requires two-person approval for every firewall change.\n"
NOTE_QUERY = "Which rule requires two-person approval for firewall changes?"
BROKEN_PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\ntruncated"


def within(condition: Callable[[], bool], timeout: float = WITHIN) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not within {timeout:.0f} s")
        time.sleep(0.25)
    return time.monotonic() - started


def found(api: httpx.Client, doc_id: str) -> bool:
    response = api.post("/search", json={"query": NOTE_QUERY, "k": 3})
    assert response.status_code == 200, response.text
    return doc_id in {hit["doc_id"] for hit in response.json()["hits"]}


@pytest.fixture(scope="module")
def watching(tmp_path_factory: pytest.TempPathFactory, bundled_index: Path) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("watching")
    corpus, index = bundled_copy(root, bundled_index)
    log = root / "server.log"
    with running_app(corpus, index, log, {"POLICYQA_AUTH": ":".join(AUTH)}, watch=True) as running:
        yield Server(running.url.rstrip("/"), corpus, index, log)
    assert "Traceback" not in log.read_text(errors="replace")


@pytest.fixture
def api(watching: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{watching.url}/api/v1", auth=AUTH, timeout=120) as client:
        yield client


def test_a_dropped_file_is_found_within_30_s_and_a_deleted_one_is_gone_within_30_s(
    api: httpx.Client, watching: Server
) -> None:
    assert not found(api, NOTE)
    (watching.corpus / NOTE).write_text(NOTE_TEXT, encoding="utf-8")
    print(f"dropped file found after {within(lambda: found(api, NOTE)):.1f} s")
    within(lambda: api.get("/status").json()["watch"]["state"] == "idle")
    watch = api.get("/status").json()["watch"]
    assert watch["last_error"] is None and watch["last_build_at"] and "added 1" in watch["last_summary"], watch

    deleted = api.delete(f"/documents/{NOTE}").json()
    assert deleted["note"] == "deleted from the corpus; the corpus watcher removes it from the index", deleted
    print(f"deleted file gone after {within(lambda: not found(api, NOTE)):.1f} s")
    assert api.post("/ask", json={"question": DOHA_QUESTION}).json()["citations"][0]["doc_id"] == BUNDLED_DOC


def test_a_corrupt_pdf_shows_in_status_and_the_server_keeps_answering(api: httpx.Client, watching: Server) -> None:
    (watching.corpus / "broken.pdf").write_bytes(BROKEN_PDF)
    try:
        within(lambda: any(s.startswith("broken.pdf:") for s in api.get("/status").json()["watch"]["last_skipped"]))
        status = api.get("/status").json()
        assert "could not be read: broken.pdf" in status["watch"]["message"], status["watch"]
        assert [s["path"] for s in status["stale"]["skipped"]] == ["broken.pdf"]
        assert "Doha" in api.post("/ask", json={"question": DOHA_QUESTION}).json()["text"]
    finally:
        (watching.corpus / "broken.pdf").unlink()
    within(lambda: not api.get("/status").json()["watch"]["last_skipped"])


def test_no_watch_leaves_the_index_alone(tmp_path: Path, bundled_index: Path) -> None:
    corpus, index = bundled_copy(tmp_path, bundled_index)
    published = open_store(index).current_name()
    env = {"POLICYQA_AUTH": ":".join(AUTH)}
    with (
        running_app(corpus, index, tmp_path / "server.log", env) as server,
        httpx.Client(base_url=f"{server.url}api/v1", auth=AUTH, timeout=120) as api,
    ):
        (corpus / NOTE).write_text(NOTE_TEXT, encoding="utf-8")
        time.sleep(WatchSettings().quiet + 8)  # a watcher would have built by now (see the first test)
        status = api.get("/status").json()
        assert status["watch"] is None and status["stale"]["added"] == [NOTE], status
        assert not found(api, NOTE)
    assert open_store(index).current_name() == published


def test_the_corpus_tab_shows_what_the_watcher_does_and_a_file_it_cannot_read(
    tmp_path: Path, bundled_index: Path
) -> None:
    """The UI's handlers over a watched corpus, in this process: the Corpus tab's status box and the upload note."""
    from policyqa_app.handlers import Handlers
    from policyqa_app.state import AppState

    corpus, index = bundled_copy(tmp_path, bundled_index)
    state = AppState(index, corpus)
    state.watcher = CorpusWatcher(corpus, index, WatchSettings(quiet=0.5), on_build=lambda *_: state.reload())
    handlers = Handlers(state)
    state.watcher.start()
    try:
        upload = tmp_path / "upload" / "broken.pdf"
        upload.parent.mkdir()
        upload.write_bytes(BROKEN_PDF)
        note, _, table, *_ = handlers.upload([str(upload)])
        assert "It is indexed in a few seconds." in note and "Rebuild index" not in note, note
        assert "not indexed yet (being indexed)" in table and "(rebuild)" not in table, table
        within(lambda: state.watcher is not None and bool(state.watcher.status().last_skipped))
        within(lambda: state.watcher is not None and state.watcher.status().state == "idle")
        _, stale, _ = handlers.corpus_view()
        assert "watching the corpus folder" in stale and "could not be read: broken.pdf" in stale, stale
        assert "pqa-warning" in stale
    finally:
        state.watcher.stop()


def test_policyqa_watch_indexes_changes_and_stops_cleanly_on_ctrl_c(tmp_path: Path, bundled_index: Path) -> None:
    corpus, index = bundled_copy(tmp_path, bundled_index)
    command = [sys.executable, "-m", "policyqa.cli", "watch", "--corpus", str(corpus), "--index", str(index)]
    log = tmp_path / "watch.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([*command, "--quiet", "0.5"], stdout=out, stderr=subprocess.STDOUT)
    try:
        within(lambda: "Ctrl-C stops" in log.read_text())
        within(lambda: "index is up to date" in log.read_text())  # the catch-up build at start: nothing to do
        (corpus / NOTE).write_text(NOTE_TEXT, encoding="utf-8")
        within(lambda: NOTE in _indexed(index))
        (corpus / NOTE).unlink()
        within(lambda: NOTE not in _indexed(index))
        within(lambda: "deleted 1" in log.read_text())  # the build's report follows its publish
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=20)
    text = log.read_text()
    assert code == 0 and "stopped watching" in text and "Traceback" not in text, text
    assert "added 1" in text


def _indexed(index: Path) -> set[str]:
    reader = open_store(index).open_current()
    try:
        return {d.doc_id for d in reader.documents()}
    finally:
        reader.close()


def test_an_upload_in_the_browser_is_answered_without_a_click(tmp_path: Path, bundled_index: Path) -> None:
    sync_playwright = _require_browser()
    corpus, index = bundled_copy(tmp_path, bundled_index)
    upload = tmp_path / NOTE
    upload.write_text(NOTE_TEXT, encoding="utf-8")
    with (
        running_app(corpus, index, tmp_path / "server.log", watch=True) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(WAIT_MS)
            page.goto(server.url)
            page.get_by_role("tab", name="Corpus").click()
            page.wait_for_function("() => document.querySelector('#stale').innerText.includes('watching the corpus')")
            assert not page.locator("#auto-rebuild").is_visible()  # nothing to tick: uploads are indexed anyway
            page.set_input_files("#upload input[type=file]", str(upload))
            page.wait_for_function("() => document.querySelector('#corpus-note').innerText.includes('Added')")
            assert "It is indexed in a few seconds." in page.inner_text("#corpus-note")
            within(lambda: NOTE in _indexed(index))
            page.get_by_role("tab", name="Ask").click()
            page.fill("#question textarea", NOTE_QUERY)
            page.press("#question textarea", "Enter")
            page.wait_for_function(
                "(name) => document.querySelector('#chat').innerText.includes(name)", arg=NOTE, timeout=60_000
            )
            assert "two-person approval" in page.inner_text("#chat")
        finally:
            browser.close()
