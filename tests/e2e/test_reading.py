"""Reading answers and results in real Chromium (issue 25, item 5): a refusal's nearest material collapsed and in
rank order, search hits placed by section and page with the query's words marked and a link into the document, and a
follow-up kept in "Your questions" as the question it stood for."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e import test_workspace
from tests.e2e.conftest import ARTIFACTS, Server
from tests.e2e.test_workspace import ask, open_page

PHONE = 390
browser, workspace = test_workspace.browser, test_workspace.workspace  # its fixtures: a server with pages, sections


def shot(page: Any, name: str) -> None:
    page.wait_for_timeout(700)  # Gradio fades updated outputs in
    page.screenshot(path=str(ARTIFACTS / f"reading-{name}.png"), full_page=True)


def top_of(page: Any, selector: str) -> float:
    return page.evaluate(f"document.querySelector('{selector}').getBoundingClientRect().top + window.scrollY")


def test_nearest_material_is_collapsed_in_rank_order_and_labelled_once(browser: Any, workspace: Server) -> None:
    context, page = open_page(browser, workspace.url, width=PHONE)
    try:
        turn = ask(page, "What is the recipe for a chocolate cake?")
        assert "does not answer" in turn.locator(".pqa-a").inner_text()
        details = turn.locator("details.pqa-sources")
        assert details.get_attribute("open") is None  # collapsed
        assert turn.inner_text().count("Nearest material") == 1
        assert top_of(page, "#question") < 1200, "the question box is pushed down the phone's page"
        shot(page, f"refused-collapsed-{PHONE}")
        details.locator("summary").click()
        ranks = turn.locator("li.pqa-near .pqa-marker").all_inner_texts()
        assert ranks == [f"#{i}" for i in range(1, len(ranks) + 1)] and len(ranks) >= 2, ranks
        assert turn.inner_text().count("Nearest material") == 1  # the list has no second heading
        snippet_heights = turn.locator("li.pqa-near .pqa-snippet").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().height)"
        )
        assert max(snippet_heights) < 120, snippet_heights  # a few lines each, not whole passages
        shot(page, f"refused-open-{PHONE}")
        turn.locator("li.pqa-near button.pqa-view").first.click()
        page.wait_for_selector("#doc-panel #doc-view mark.pqa-quote")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE
    finally:
        context.close()


@pytest.mark.parametrize(("width", "scheme"), [(1280, "light"), (1280, "dark"), (PHONE, "light"), (PHONE, "dark")])
def test_search_hits_show_place_marked_terms_and_link(browser: Any, workspace: Server, width: int, scheme: str) -> None:
    context, page = open_page(browser, workspace.url, width=width, scheme=scheme)
    try:
        page.get_by_role("tab", name="Search").click()
        page.fill("#query textarea", "Zanzibar clause audits")
        page.click("#search-button")
        page.wait_for_selector("#results .pqa-hit")
        hits = page.locator("#results .pqa-hit")
        docs = hits.locator(".pqa-file code").all_inner_texts()
        assert hits.locator(".pqa-title").count() == len(set(docs)) < len(docs), docs  # each title once
        pdf = hits.filter(has_text="vendor_policy.pdf").first
        assert "pages 1–3" in pdf.locator(".pqa-meta").inner_text()  # the small PDF is one passage
        marked = {t.lower() for t in pdf.locator(".pqa-passage mark.pqa-term").all_inner_texts()}
        assert {"zanzibar", "clause", "audits"} <= marked, marked
        assert "Zanzibar" in pdf.locator(".pqa-matches").inner_text()
        shot(page, f"search-{width}-{scheme}")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width
        pdf.locator("button.pqa-view").click()
        page.wait_for_selector("#search-doc-panel #search-doc-view mark.pqa-quote")
        page.wait_for_function("() => document.querySelector('#search-doc-view').innerText.includes('page 2 of 3')")
        quote = page.locator("#search-doc-view mark.pqa-quote").inner_text()  # a 3-page passage: from its 1st match
        assert quote.split()[0].lower() in marked and "Zanzibar" in quote and "Penalties" not in quote, quote
        page.wait_for_selector("#search-page-image img")
        shot(page, f"search-document-{width}-{scheme}")
    finally:
        context.close()


def test_a_follow_up_is_saved_as_the_question_it_stood_for(browser: Any, workspace: Server) -> None:
    context, page = open_page(browser, workspace.url)
    try:
        ask(page, "When was the International Conference on Afghanistan held in Tashkent?")
        ask(page, "And who initiated it?")
        page.wait_for_function("document.querySelectorAll('#history button.pqa-past').length >= 2")
        saved = page.locator("#history button.pqa-past").first.inner_text()
        assert saved.startswith("And who initiated it? (") and "Tashkent" in saved, saved
        page.click("#new-conversation")
        page.wait_for_function("document.querySelectorAll('#chat .pqa-turn').length === 0")
        page.locator("#history button.pqa-past").first.click()  # asked again alone, it still means something
        page.wait_for_function("document.querySelectorAll('#chat .pqa-turn').length === 1")
        assert "Mirziyoyev" in page.locator("#chat .pqa-turn .pqa-a").inner_text()
    finally:
        context.close()
