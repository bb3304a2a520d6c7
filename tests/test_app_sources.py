"""The UI's passage lists: nearest material compact and in rank order, search hits placed by section and page with
the query's words marked, a document's title once per list."""

from __future__ import annotations

import pytest

pytest.importorskip("gradio")

from policyqa_app.sources_html import hits_html, mark_terms, nearest_html, query_terms, sources_label  # noqa: E402

from policyqa.answer.types import Answer  # noqa: E402
from policyqa.search.retrieval import Hit  # noqa: E402

TITLE = "A very long title of a policy document that a reader does not need to read again on every single hit"


def hit(rank: int, text: str, doc_id: str = "p.md", start: int = 0, page: int | None = None, score: float = 0.5) -> Hit:
    return Hit(text, score, doc_id, TITLE, start, start + len(text), page, "Leaf", rank, rank=rank)


def test_a_passage_over_two_pages_names_both_and_links_to_its_first_match() -> None:
    text = "Audits\nThe clause requires audits."
    spread = Hit(text, 0.5, "v.pdf", "V", 100, 100 + len(text), 2, None, 1, page_end=3, rank=1, page_label="ii")
    html = hits_html([spread], "clause audits")
    assert "page ii (PDF pages 2–3)" in html and 'data-start="100"' in html  # "Audits" is the first match
    html = hits_html([spread], "clause")
    assert f'data-start="{100 + text.index("clause")}" data-end="{100 + len(text)}"' in html


def place(doc_id: str, offset: int) -> tuple[str, list[str]]:
    return TITLE, ["Part II", f"Section {offset}"]


def test_nearest_material_is_in_rank_order_compact_and_labelled_once() -> None:
    long_text = "word " * 400
    hits = [hit(2, "second passage"), hit(1, long_text), hit(5, "fifth"), hit(3, "third")]
    html = nearest_html(hits, ["passage"], place)
    assert [html.index(f"#{n}<") for n in (1, 2, 3, 4)] == sorted(html.index(f"#{n}<") for n in (1, 2, 3, 4))
    assert html.index("word word") < html.index("second") < html.index("third") < html.index("fifth")
    assert len(html) < 2500 and "…" in html  # the 2,000-character passage is cut to its start
    assert "Nearest material" not in html and TITLE not in html  # the summary line is the only label
    assert html.count("View in document") == 4 and "Part II › Section 0" in html
    answer = Answer("q", "", True, [], hits, 0.1, state="refused")
    assert sources_label(answer) == ("Nearest material — does not answer the question (4 passages)", False)


def test_search_hits_show_place_link_and_marked_terms_and_the_title_once() -> None:
    hits = [hit(1, "The Peace Agreement was signed in Doha.", page=3)]
    hits.append(hit(2, "Peaceful talks on agreements.", start=90))
    html = hits_html(hits, "Where was the peace agreement signed?", place)
    assert html.count(TITLE) == 1 and html.count("<code>p.md</code>") == 2
    assert "page 3" in html and "Part II › Section 90" in html and html.count("View in document") == 2
    assert '<mark class="pqa-term">Peace</mark> <mark class="pqa-term">Agreement</mark>' in html
    assert '<mark class="pqa-term">agreements</mark>' in html and "Peaceful" in html  # a plural, not another word
    assert 'data-start="90"' in html and "Matches: " in html


def test_marking_terms_leaves_tags_and_entities_alone() -> None:
    marked = mark_terms('<strong class="pqa-h">class &amp; amp</strong> strong', ["class", "amp", "strong"])
    assert marked.startswith('<strong class="pqa-h">') and "&amp; " in marked
    assert marked.count('<mark class="pqa-term">') == 3
    assert query_terms("and who organised it?") == ["organised"]
    assert mark_terms("audits; &#x27;x27&#x27;", ["audits", "x27"]).count("<mark") == 2  # before ';', not in '&#x27;'
