"""Evidence in real Chromium (issue 25, items 1-2): the Compare tab's grid and its CSV and Markdown downloads, and the
Ask tab's export of the conversation; the grid at 1280 and 390 px in light and dark."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DOHA_QUESTION
from tests.e2e import test_workspace
from tests.e2e.conftest import ARTIFACTS, Server
from tests.e2e.test_workspace import ask, open_page

browser, workspace = test_workspace.browser, test_workspace.workspace  # its fixtures: three documents, one a PDF
QUESTIONS = ["What does the Zanzibar clause require?", "When does the Kestrel corridor open to freight traffic?"]
CONTRAST_JS = """
(selector) => {
  const rgb = (s) => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => { const [r, g, b] = c.map((v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  return [...document.querySelectorAll(selector)].map((e) => {
    let box = e, bg = 'rgba(0, 0, 0, 0)';
    while (box && (bg.startsWith('rgba(0, 0, 0, 0)') || bg === 'transparent')) {
      bg = getComputedStyle(box).backgroundColor; box = box.parentElement; }
    const [a, b] = [lum(rgb(getComputedStyle(e).color)), lum(rgb(bg))];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
}
"""
PDF, BULLETIN = "vendor_policy.pdf", "border_trade_bulletin_with_a_rather_long_file_name_2027.md"


def shot(page: Any, name: str) -> None:
    page.wait_for_timeout(700)  # Gradio fades updated outputs in
    page.screenshot(path=str(ARTIFACTS / f"evidence-{name}.png"), full_page=True)


def compare(page: Any, questions: list[str]) -> Any:
    page.get_by_role("tab", name="Compare").click()
    page.fill("#compare-questions textarea", "\n".join(questions))
    page.click("#compare-button")
    page.wait_for_selector("#compare-grid table.pqa-cmp")
    return page.locator("#compare-grid table.pqa-cmp")


def cell(grid: Any, row: int, doc_id: str) -> Any:
    return grid.locator("tbody tr").nth(row).locator(f"td[data-label='{doc_id}']")


def download(page: Any, selector: str) -> str:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_text("utf-8")


@pytest.mark.parametrize(("width", "scheme"), [(1280, "light"), (1280, "dark"), (390, "light"), (390, "dark")])
def test_compare_fills_the_grid_and_downloads_it(browser: Any, workspace: Server, width: int, scheme: str) -> None:
    context, page = open_page(browser, workspace.url, width=width, scheme=scheme)
    try:
        grid = compare(page, QUESTIONS)
        assert grid.locator("tbody tr").count() == 2 and grid.locator("tbody td").count() == 2 * 3
        assert grid.locator("tbody th").all_inner_texts() == QUESTIONS  # questions as rows
        zanzibar = cell(grid, 0, PDF)
        assert zanzibar.get_attribute("data-state") == "answered", zanzibar.inner_text()
        assert "quarterly audits" in zanzibar.locator(".pqa-cell-quote").inner_text()
        assert zanzibar.locator("strong.pqa-span").count() == 1  # the answer words in bold
        kestrel = cell(grid, 1, BULLETIN)
        assert kestrel.get_attribute("data-state") == "answered" and "2027" in kestrel.inner_text()
        silent = cell(grid, 0, BULLETIN)  # the bulletin says nothing of the Zanzibar clause
        assert silent.get_attribute("data-state") != "answered" and "Not answered" in silent.inner_text()
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width  # the grid scrolls in its own box
        secondary = "#compare-grid :is(.pqa-unanswered, .pqa-note, .pqa-where, .pqa-col-title)"
        ratios = page.evaluate(CONTRAST_JS, secondary)
        assert min(ratios) >= 4.5, ratios  # secondary text stays readable on the grey cells
        shot(page, f"compare-{width}-{scheme}")

        zanzibar.locator("button.pqa-view").click()
        page.wait_for_selector("#compare-doc-panel #compare-doc-view mark.pqa-quote")
        assert "quarterly audits" in page.locator("#compare-doc-view mark.pqa-quote").inner_text()

        table = list(csv.reader(io.StringIO(download(page, "#compare-csv"))))
        assert table[0][:4] == ["question", "doc_id", "title", "state"] and len(table) == 1 + 2 * 3
        row = next(r for r in table[1:] if r[0] == QUESTIONS[0] and r[1] == PDF)
        assert row[3] == "answered" and "quarterly audits" in row[4]
        markdown = download(page, "#compare-markdown")
        assert markdown.startswith("# Comparison") and "## References" in markdown and "sha256" in markdown
        assert f"`{PDF}`" in markdown.splitlines()[2]  # the grid's header row names the documents
    finally:
        context.close()


def test_compare_only_the_chosen_documents(browser: Any, workspace: Server) -> None:
    context, page = open_page(browser, workspace.url)
    try:
        page.get_by_role("tab", name="Compare").click()
        page.click("#compare-docs input")
        page.get_by_role("option", name=PDF).click()
        page.keyboard.press("Escape")
        grid = compare(page, QUESTIONS[:1])
        assert grid.locator("thead th code").all_inner_texts() == [PDF]
    finally:
        context.close()


def test_export_downloads_the_conversation(browser: Any, workspace: Server) -> None:
    context, page = open_page(browser, workspace.url)
    try:
        assert not page.locator("#export-md").is_visible()  # nothing to export yet
        ask(page, DOHA_QUESTION)
        page.wait_for_selector("#export-md", state="visible")
        markdown = download(page, "#export-md")
        assert markdown.startswith(f"# {DOHA_QUESTION}") and "> " in markdown and "**Doha**" in markdown
        assert "## References" in markdown and "sha256 `" in markdown
        second = "When was the online conference held?"
        ask(page, second)
        for _ in range(20):  # the export is refreshed just after the answer shows
            conversation = json.loads(download(page, "#export-json"))
            if "answers" in conversation:
                break
            page.wait_for_timeout(500)
        assert [a["question"] for a in conversation["answers"]] == [DOHA_QUESTION, second]
        lines = download(page, "#export-csv").splitlines()
        assert lines[0].startswith("question,state,reason") and len(lines) >= 3
        page.click("#new-conversation")
        page.wait_for_selector("#export-md", state="hidden")
    finally:
        context.close()
