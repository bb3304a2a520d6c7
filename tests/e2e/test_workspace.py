"""The document-QA workspace in real Chromium: a conversation with a follow-up, history across reloads, the source
in its document (and a PDF page image), dark and light colour schemes, and a 390 px phone without overflow."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policyqa import build_index
from tests.conftest import BUNDLED_CORPUS
from tests.e2e.conftest import ARTIFACTS, Server, running_app
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, _require_browser
from tests.filemakers import make_pdf

PDF_PAGES = [
    "Vendor security policy\nThis policy covers outside suppliers.",
    "Audits\nThe Zanzibar clause requires quarterly audits of vendor encryption keys.",
    "Penalties\nA supplier that fails two audits is suspended.",
]
BULLETIN = """---
title: Border Trade Bulletin, autumn edition
---
# Border Trade Bulletin

Figures for the border crossings of the region.

## Tariffs

Tariffs on grain stay unchanged
for the whole season.

## Outlook

The **Kestrel corridor** opens to freight traffic
in *October* 2027, after the bridge repairs.
"""
TABS = ("Ask", "Search", "Corpus")
CONTRAST_JS = """
() => {
  const mark = document.querySelector('mark.pqa-quote');
  const rgb = (s) => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => { const [r, g, b] = c.map((v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const style = getComputedStyle(mark);
  const [a, b] = [lum(rgb(style.color)), lum(rgb(style.backgroundColor))];
  return {ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), fg: style.color, bg: style.backgroundColor,
          dark: document.body.classList.contains('dark') || document.documentElement.classList.contains('dark')};
}
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server over the bundled corpus plus a 3-page PDF and a Markdown bulletin with sections."""
    root = tmp_path_factory.mktemp("workspace")
    corpus, index = root / "corpus", root / "index"
    shutil.copytree(BUNDLED_CORPUS, corpus)
    make_pdf(corpus / "vendor_policy.pdf", PDF_PAGES)
    (corpus / "border_trade_bulletin_with_a_rather_long_file_name_2027.md").write_text(BULLETIN, "utf-8")
    build_index(corpus, index, progress=False, log=lambda _m: None)
    with running_app(corpus, index, root / "server.log") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _require_browser()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Any, url: str, width: int = 1280, scheme: str = "light") -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    page.wait_for_selector("#pqa-header .pqa-header")
    return context, page


def turns(page: Any) -> int:
    return page.locator("#chat .pqa-turn").count()


def ask(page: Any, question: str) -> Any:
    """Ask and wait for the new turn; returns the locator of that turn."""
    page.get_by_role("tab", name="Ask").click()
    before = turns(page)
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function(f"document.querySelectorAll('#chat .pqa-turn').length > {before}")
    return page.locator("#chat .pqa-turn").nth(before)


def shot(page: Any, name: str, full: bool = True) -> None:
    page.wait_for_timeout(700)  # Gradio fades updated outputs in
    page.screenshot(path=str(ARTIFACTS / f"workspace-{name}.png"), full_page=full)


def test_conversation_with_follow_up_history_and_new_conversation(browser: Any, workspace: Server) -> None:
    context, page = open_page(browser, workspace.url)
    try:
        first = ask(page, "When was the International Conference on Afghanistan held in Tashkent?")
        assert "March 2018" in first.inner_text()
        follow = ask(page, "And who initiated it?")
        expanded = follow.locator(".pqa-expanded").inner_text()
        assert "Searched for" in expanded and "Tashkent" in expanded  # the previous question's subject
        assert "Mirziyoyev" in follow.locator(".pqa-a").inner_text()
        assert follow.locator(".pqa-source mark.pqa-quote").count() >= 1
        follow.locator("a.pqa-cite").first.click()
        page.wait_for_selector("#chat .pqa-turn.pqa-last .pqa-source.pqa-active")
        shot(page, "conversation-1280-light")
        page.wait_for_function("document.querySelectorAll('#history button.pqa-past').length === 2")

        page.reload()  # the history is this browser's: kept across a reload, and clickable
        page.wait_for_selector("#history button.pqa-past")
        saved = page.locator("#history button.pqa-past").first.inner_text()  # a follow-up is saved as searched
        assert saved.startswith("And who initiated it? (") and "Tashkent" in saved, saved
        assert turns(page) == 0  # a reload starts a new conversation
        page.locator("#history button.pqa-past").nth(1).click()
        page.wait_for_function("document.querySelectorAll('#chat .pqa-turn').length === 1")
        assert "March 2018" in page.inner_text("#chat")

        page.get_by_role("button", name="Who organized the conference?").click()  # an example submits
        page.wait_for_function("document.querySelectorAll('#chat .pqa-turn').length === 2")
        assert "Valdai" in page.locator("#chat .pqa-turn").nth(1).inner_text()

        page.click("#new-conversation")
        page.wait_for_function("document.querySelectorAll('#chat .pqa-turn').length === 0")
        page.click("#ask-settings button, #ask-settings .label-wrap")  # settings on the Ask tab
        page.get_by_label("bm25").check()
        turn = ask(page, "When was the International Conference on Afghanistan held in Tashkent?")
        assert "pqa-error" not in turn.inner_html() and "March 2018" in turn.inner_text()
        page.wait_for_function("document.querySelectorAll('#history button.pqa-past').length === 5")
    finally:
        context.close()


@pytest.mark.parametrize(("width", "scheme"), [(1280, "light"), (1280, "dark"), (390, "light"), (390, "dark")])
def test_view_in_document_scrolls_to_the_highlight(browser: Any, workspace: Server, width: int, scheme: str) -> None:
    context, page = open_page(browser, workspace.url, width=width, scheme=scheme)
    try:
        turn = ask(page, "When does the Kestrel corridor open to freight traffic?")
        source = turn.locator(".pqa-source").first
        meta = source.locator(".pqa-meta").inner_text()
        assert "Border Trade Bulletin, autumn edition" in meta  # front matter title
        assert "Border Trade Bulletin › Outlook" in meta  # the quote's section, not the top heading
        assert "chars" in meta
        assert source.locator(".pqa-passage strong", has_text="Kestrel corridor").count() == 1  # Markdown rendered
        assert "**" not in source.locator(".pqa-passage").inner_text()
        source.locator("button.pqa-view").click()
        page.wait_for_selector("#doc-panel #doc-view .pqa-docview mark.pqa-quote")
        page.wait_for_timeout(500)
        mark = page.locator("#doc-view mark.pqa-quote")
        assert "Kestrel" in mark.inner_text() and "2027" in mark.inner_text()
        assert "Tariffs on grain" in page.inner_text("#doc-view")  # the whole document, not the chunk
        assert page.evaluate(
            "() => { const m = document.querySelector('#doc-view mark.pqa-quote').getBoundingClientRect();"
            " const box = document.querySelector('#doc-view .pqa-doctext').getBoundingClientRect();"
            " return m.top >= box.top - 1 && m.bottom <= box.bottom + 1 && m.top >= 0 && m.bottom <= innerHeight; }"
        ), "the highlighted quote is not in view in the document panel"
        shot(page, f"document-view-{width}-{scheme}", full=False)

        pdf_turn = ask(page, "What does the Zanzibar clause require?")
        assert "page 2" not in pdf_turn.locator(".pqa-q").inner_text()
        pdf_source = pdf_turn.locator(".pqa-source", has_text="vendor_policy.pdf").first
        assert "page 2" in pdf_source.inner_text()
        pdf_source.locator("button.pqa-view").click()
        page.wait_for_selector("#page-image img")
        page.wait_for_function("() => document.querySelector('#doc-view').innerText.includes('page 2 of 3')")
        size = page.evaluate(
            "() => { const i = document.querySelector('#page-image img'); return [i.naturalWidth, i.naturalHeight]; }"
        )
        assert size[0] >= 600 and size[1] > size[0]  # a rendered portrait page
        assert "quarterly audits" in page.locator("#doc-view mark.pqa-quote").inner_text()
        assert "Penalties" not in page.inner_text("#doc-view")  # only the cited page's text
        page.locator("#page-image").scroll_into_view_if_needed()
        shot(page, f"pdf-page-{width}-{scheme}", full=False)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_highlight_contrast_in_both_colour_schemes(browser: Any, workspace: Server, scheme: str) -> None:
    context, page = open_page(browser, workspace.url, scheme=scheme)
    try:
        ask(page, "When was the International Conference on Afghanistan held in Tashkent?")
        ask(page, "And who initiated it?")
        measured = page.evaluate(CONTRAST_JS)
        assert measured["dark"] == (scheme == "dark"), measured
        assert measured["ratio"] >= 4.5, measured
        shot(page, f"conversation-1280-{scheme}")
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_horizontal_overflow_at_390px_on_every_tab(browser: Any, workspace: Server, scheme: str) -> None:
    context, page = open_page(browser, workspace.url, width=390, scheme=scheme)
    try:
        turn = ask(page, "When does the Kestrel corridor open to freight traffic?")
        turn.locator("button.pqa-view").first.click()
        page.wait_for_selector("#doc-view mark.pqa-quote")
        for tab in TABS:
            page.get_by_role("tab", name=tab).click()
            if tab == "Search":
                page.fill("#query textarea", "Kestrel corridor freight")
                page.click("#search-button")
                page.wait_for_selector("#results .pqa-hit")
            if tab == "Corpus":
                page.wait_for_selector("#documents table")
            page.wait_for_timeout(500)
            width = page.evaluate("document.scrollingElement.scrollWidth")
            shot(page, f"{tab.lower()}-390-{scheme}")
            assert width <= 390, f"{tab} tab is {width}px wide at a 390px viewport"
        cells = page.locator("#documents td[data-label='Chunks']")
        assert cells.count() == 3 and cells.first.is_visible()  # no column hidden on a phone
        assert page.evaluate(CONTRAST_JS.replace("mark.pqa-quote", "#doc-view mark.pqa-quote"))["ratio"] >= 4.5
    finally:
        context.close()


def test_upload_with_rebuild_renames_visibly_and_leaves_no_stale_note(
    browser: Any, workspace: Server, tmp_path: Path
) -> None:
    context, page = open_page(browser, workspace.url)
    try:
        upload = tmp_path / "Quokka memo (draft) #2.md"
        upload.write_text("# Quokka memo\n\nThe Quokka protocol mandates weekly backups.\n", "utf-8")
        page.get_by_role("tab", name="Corpus").click()
        page.check("#auto-rebuild input")
        before = page.input_value("#build-report textarea")
        page.set_input_files("#upload input[type=file]", str(upload))
        page.wait_for_function(
            "(before) => { const v = document.querySelector('#build-report textarea').value;"
            " return v !== before && v.includes('index holds'); }",
            arg=before,
        )
        report = page.input_value("#build-report textarea")
        assert "added 1" in report and "4 document(s)" in report, report
        page.wait_for_function("() => document.querySelector('#stale').innerText.includes('up to date')")
        saved = "Quokka memo _draft_ _2.md"
        page.wait_for_function("() => document.querySelector('#corpus-note').innerText.includes('Indexed.')")
        note = page.inner_text("#corpus-note")
        assert f"Added {saved} (renamed from 'Quokka memo (draft) #2.md'" in note, note
        assert "Click “Rebuild index”" not in note  # no stale note after the rebuild
        assert (workspace.corpus / saved).exists() and saved in page.inner_text("#documents")
        shot(page, "corpus-after-upload-1280-light")
    finally:
        context.close()
