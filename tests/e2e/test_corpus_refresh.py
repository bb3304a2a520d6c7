"""The Corpus tab keeps itself current while the corpus watcher builds: a real `serve` with its watcher, a real
document copied into (and deleted from) the corpus folder behind the page's back, and Chromium watching the page
without a click or a reload."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policyqa.index.faiss_sqlite.locking import build_lock
from tests.e2e.conftest import ARTIFACTS, Server, bundled_copy, running_app
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, _require_browser

REPO = Path(__file__).resolve().parents[2]
DOCUMENT = REPO / "tests" / "ingest" / "data" / "html" / "fema_hurricane_maria_2017.html"  # a real web page
WITHIN_MS = 90_000  # the watcher waits 2 s of quiet, then a low-priority child process embeds the page
VIEWS = [(width, scheme) for width in (1280, 390) for scheme in ("light", "dark")]

TABLE_TEXT = "() => document.querySelector('#documents').innerText"
STALE_TEXT = "() => document.querySelector('#stale').innerText"


@pytest.fixture
def watching(tmp_path: Path, bundled_index: Path) -> Iterator[Server]:
    corpus, index = bundled_copy(tmp_path, bundled_index)
    log = tmp_path / "server.log"
    with running_app(corpus, index, log, watch=True) as server:
        yield server
    assert "Traceback" not in log.read_text(errors="replace")


@pytest.fixture
def pages(watching: Server) -> Iterator[dict[tuple[int, str], Any]]:
    """The Corpus tab open in one page per width and colour scheme, the watcher's start-up build done."""
    sync_playwright = _require_browser()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            opened = {}
            for width, scheme in VIEWS:
                page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
                page.set_default_timeout(WITHIN_MS)
                page.goto(watching.url)
                page.get_by_role("tab", name="Corpus").click()
                page.wait_for_function(f"() => ({STALE_TEXT})().includes('watching the corpus folder; last indexed')")
                opened[width, scheme] = page
            yield opened
        finally:
            browser.close()


def shoot(pages: dict[tuple[int, str], Any], moment: str, showing: str) -> list[str]:
    """A full-page shot of each view once its Corpus tab shows `showing` (a JS condition); the views that never did
    within a few seconds are returned (the shots are for people to look at, the assertions are on the first view)."""
    ARTIFACTS.mkdir(exist_ok=True)
    missed = []
    for (width, scheme), page in pages.items():
        try:
            page.wait_for_function(showing, timeout=6_000)
        except Exception:  # noqa: BLE001 - e.g. the build finished before this view's next tick
            missed.append(f"{width}-{scheme}")
            continue
        page.wait_for_timeout(300)  # Gradio's fade-in of updated outputs
        page.screenshot(path=str(ARTIFACTS / f"corpus-refresh-{moment}-{width}-{scheme}.png"), full_page=True)
    return missed


def test_the_corpus_tab_follows_the_watcher_without_a_click_and_is_left_alone_while_nothing_changes(
    pages: dict[tuple[int, str], Any], watching: Server
) -> None:
    page = pages[1280, "light"]
    name = DOCUMENT.name
    assert name not in page.evaluate(TABLE_TEXT)
    assert "<b>1</b> document(s)" in page.inner_html("#pqa-header")

    # Nothing changes: the timer ticks, the page is not touched (a marker set on the rendered table stays).
    ticks: list[str] = []
    page.on("request", lambda request: ticks.append(request.url) if request.method == "POST" else None)
    rendered = "[...document.querySelectorAll('#pqa-header .pqa-header, #documents table, #stale .pqa-msg')]"
    assert page.evaluate(f"() => {rendered}.map(e => e.dataset.marker = 'kept').length") == 4  # 2 boxes in #stale
    page.wait_for_timeout(7_000)
    assert len(ticks) >= 2, ticks  # the page did ask (about every 2 s)...
    assert page.evaluate(f"() => {rendered}.map(e => e.dataset.marker)") == ["kept"] * 4  # ...and nothing was redrawn

    # A real document copied into the folder by another program: the tab shows the build, then the new row. The
    # test holds the index's build lock meanwhile, so the watcher's build waits and the page is sure to see it run
    # (an idle machine indexes the page in ~1.4 s, less than a tick).
    indexing = f"() => ({STALE_TEXT})().includes('indexing changes in the corpus folder')"
    with build_lock(watching.index, timeout=10):
        shutil.copy(DOCUMENT, watching.corpus / name)
        page.wait_for_function(indexing, timeout=WITHIN_MS)
        assert f"Indexing 1 changed file… new: {name}" in page.evaluate(STALE_TEXT)  # not "click Rebuild index"
        assert "not indexed yet (being indexed)" in page.evaluate(TABLE_TEXT)
        missed = shoot(pages, "indexing", indexing)
    indexed = (
        f"(name) => ({STALE_TEXT})().includes('watching the corpus folder; last indexed')"
        f" && ({STALE_TEXT})().includes('up to date') && ({TABLE_TEXT})().includes(name)"
        f" && !({TABLE_TEXT})().includes('being indexed')"
    )
    page.wait_for_function(indexed, arg=name, timeout=WITHIN_MS)
    assert "<b>2</b> document(s)" in page.inner_html("#pqa-header")
    assert name in delete_choices(page)
    grid = "() => getComputedStyle(document.querySelector('#documents tbody tr')).borderLeftStyle"
    assert page.evaluate(grid) == "none"  # rows ruled in the theme's colour, not Gradio's near-black prose grid
    missed += shoot(pages, "indexed", f"() => ({indexed})({name!r})")
    print(f"views without an indexing shot: {missed or 'none'}")

    # Deleted from disk behind the page's back: gone from the table, the header and the delete dropdown.
    (watching.corpus / name).unlink()
    page.wait_for_function(
        f"(name) => !({TABLE_TEXT})().includes(name) && ({STALE_TEXT})().includes('up to date')"
        f" && ({STALE_TEXT})().includes('watching the corpus folder; last indexed')",
        arg=name,
        timeout=WITHIN_MS,
    )
    assert "<b>1</b> document(s)" in page.inner_html("#pqa-header")
    assert name not in delete_choices(page)


def delete_choices(page: Any) -> list[str]:
    """The delete dropdown's choices, as a user sees them when opening it."""
    page.click("#delete-choice input")
    options = page.get_by_role("option")
    options.first.wait_for()
    texts = [text.strip() for text in options.all_inner_texts()]
    page.keyboard.press("Escape")
    page.click("#documents")  # out of the dropdown: the next click opens it again
    return texts
