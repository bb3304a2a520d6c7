"""HTML for passages: an answer's sources, a refusal's nearest material and the search results. Each names its place
by section path and page, links to the document view, and shows a document's long title only once per list."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from policyqa import Answer, Citation, Hit, any_close_match, close_match, content_words, page_name

from .formatting import display_text, esc, highlighted_passage, is_markdown, legend_html, message_box

# (doc_id, offset) -> (the document's title, the section headings enclosing offset); None for an unknown document
Place = Callable[[str, int], tuple[str, list[str]] | None]
SNIPPET_CHARS = 220  # a nearest-material passage shows its start; "View in document" shows the rest
_TAG = re.compile(r"(<[^>]*>)")


def view_button(doc_id: str, start: int, end: int) -> str:
    """The link the document view listens for (app/static/*.js send its data to Handlers.view_document)."""
    return (
        f'<button class="pqa-view" type="button" data-doc="{esc(doc_id)}" data-start="{start}" '
        f'data-end="{end}">View in document</button>'
    )


def query_terms(query: str) -> list[str]:
    """The words of a query worth finding in a passage: its content words, without stop words."""
    return [w for w in content_words(query or "") if len(w) > 2]


def mark_terms(html_text: str, terms: Iterable[str]) -> str:
    """`html_text` (escaped, may hold tags) with each whole-word occurrence of a term (or its plural) in
    <mark class="pqa-term">; tags and character references are left alone."""
    words = sorted({t.lower() for t in terms if t}, key=len, reverse=True)
    if not words:
        return html_text
    pattern = re.compile(
        r"(?<![\w&#])(" + "|".join(re.escape(w) for w in words) + r")(?:e?s)?(?!\w)", re.IGNORECASE
    )
    parts = _TAG.split(html_text)
    for i in range(0, len(parts), 2):  # even parts are text, odd parts are tags
        parts[i] = pattern.sub(lambda m: f'<mark class="pqa-term">{m.group(0)}</mark>', parts[i])
    return "".join(parts)


def _term_pattern(term: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(term) + r"(?:e?s)?(?!\w)", re.IGNORECASE)


def matched_terms(text: str, terms: Iterable[str]) -> list[str]:
    return [t for t in terms if _term_pattern(t).search(text)]


def hit_pages(h: Hit) -> str | None:
    """ "page 3", or "pages 3–4" for a passage that runs onto the next page ("page iii (PDF pages 5–6)")."""
    if h.page is not None and h.page_end is not None and h.page_end != h.page:
        pages = f"{h.page}–{h.page_end}"
        return f"page {h.page_label} (PDF pages {pages})" if h.page_label else f"pages {pages}"
    return page_name(h.page, h.page_label)


def view_span(h: Hit, terms: list[str]) -> tuple[int, int]:
    """What "View in document" shows: the passage, or, for one that spans pages, the passage from its first matched
    word (the document view shows one page of a PDF: the one holding the match, marked to its end)."""
    if h.page_end is None or h.page_end == h.page:
        return h.start, h.end
    found = [m for m in (_term_pattern(t).search(h.text) for t in terms) if m]
    if not found:
        return h.start, h.end
    first = min(found, key=lambda m: m.start())
    return h.start + first.start(), h.end


def _where(page: str | None, span: tuple[int, int] | None, score: str) -> str:
    bits = [esc(page)] if page else []
    if span is not None:
        bits.append(f"chars {span[0]}–{span[1]}")
    bits.append(score)
    return f'<span class="pqa-where">{" · ".join(bits)}</span>'


def _document_line(doc_id: str, title: str | None, shown: set[str]) -> str:
    """The title and file the first time a document appears in a list; the file alone after that."""
    if doc_id in shown:
        return f'<div class="pqa-file"><code>{esc(doc_id)}</code></div>'
    shown.add(doc_id)
    named = f'<b class="pqa-title">{esc(title)}</b> ' if title and title != doc_id else ""
    return f'<div class="pqa-file">{named}<code>{esc(doc_id)}</code></div>'


def _path_html(path: list[str]) -> str:
    return f'<span class="pqa-crumb">{" › ".join(esc(p) for p in path)}</span> ' if path else ""


def _placed(place: Place | None, doc_id: str, offset: int, title: str, heading: str | None) -> tuple[str, list[str]]:
    found = place(doc_id, offset) if place else None
    return found if found else (title, [heading] if heading else [])


# --- an answer's sources ---------------------------------------------------------------------------------------------
def source_html(c: Citation, turn: int, title: str, path: list[str], shown: set[str] | None = None) -> str:
    where = _where(page_name(c.page, c.page_label), (c.start, c.end), f"P {c.score:.2f}")
    return (
        f'<div class="pqa-source" id="cite-{turn}-{c.marker}">'
        f'<div class="pqa-meta"><span class="pqa-marker">[{c.marker}]</span> {_path_html(path)}{where}'
        f"{_document_line(c.doc_id, title, shown if shown is not None else set())}</div>"
        f'<div class="pqa-passage">{highlighted_passage(c, is_markdown(c.doc_id))}</div>'
        f"{view_button(c.doc_id, c.start, c.end)}</div>"
    )


def sources_html(answer: Answer, turn: int = 0, place: Place | None = None, threshold: float | None = None) -> str:
    """The cited passages (or, on a refusal, the nearest material), each with its P, and the score legend."""
    legend = legend_html(threshold) if threshold is not None else ""
    if answer.abstained or answer.state == "refused":
        if not answer.passages:
            return message_box("Nothing in the index is close to this question.", "info")
        return nearest_html(answer.passages, query_terms(answer.question), place) + legend
    shown: set[str] = set()
    items = []
    for c in answer.citations:
        title, path = _placed(place, c.doc_id, c.start, c.title, c.heading)
        items.append(source_html(c, turn, title, path, shown))
    return "".join(items) + legend


def sources_label(answer: Answer) -> tuple[str, bool]:
    """(the summary line of a turn's sources, whether they start open): an answer's sources open, the closest
    evidence of an unsure answer and a refusal's nearest material collapsed (they are not the answer)."""
    if answer.abstained or answer.state == "refused":
        n = len(answer.passages)
        return f"Nearest material — does not answer the question ({n} passage{'s' * (n != 1)})", False
    n = len(answer.citations)
    if answer.state == "unsure":
        return f"The closest evidence in its context ({n})", False
    return f"Sources ({n})", True


# --- passages: nearest material and search results ------------------------------------------------------------------
def _snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0]
    return cut + " …"


def nearest_html(hits: list[Hit], terms: list[str], place: Place | None = None) -> str:
    """A refusal's nearest material: in rank order, one compact line each (place, P, the start of the passage with
    the question's words marked, the link); the whole passage is one click away in the document view."""
    ordered = sorted(hits, key=lambda h: (h.rank or 10**9, -h.score))
    items = []
    for i, h in enumerate(ordered, 1):
        _, path = _placed(place, h.doc_id, h.start, h.title, h.heading)
        where = _where(hit_pages(h), None, f"P {h.score:.2f}")
        text = mark_terms(display_text(_snippet(h.text)), terms)
        items.append(
            f'<li class="pqa-near" data-rank="{i}"><div class="pqa-meta"><span class="pqa-marker">#{i}</span> '
            f'{_path_html(path)}{where} <code class="pqa-file">{esc(h.doc_id)}</code></div>'
            f'<div class="pqa-snippet">{text}</div>{view_button(h.doc_id, h.start, h.end)}</li>'
        )
    return f'<ol class="pqa-nearest">{"".join(items)}</ol>'


def hits_html(hits: list[Hit], query: str = "", place: Place | None = None) -> str:
    """Search results in rank order: each passage's section path and page, its P (a close match), the query's words
    marked in it and listed, and "View in document"; a document's title only on its first passage."""
    if not hits:
        return message_box("No passages found.", "info")
    terms = query_terms(query)
    head = f"{len(hits)} passage{'s' * (len(hits) != 1)}"
    if not any_close_match(h.score for h in hits):
        head += f" — none is a close match (every P below {close_match():.2f})"
    shown: set[str] = set()
    items = []
    for i, h in enumerate(hits, 1):
        title, path = _placed(place, h.doc_id, h.start, h.title, h.heading)
        where = _where(hit_pages(h), (h.start, h.end), f"P {h.score:.2f}")
        found = matched_terms(h.text, terms)
        marks = ", ".join(f'<mark class="pqa-term">{esc(t)}</mark>' for t in found)
        matches = f'<div class="pqa-matches">Matches: {marks}</div>' if found else ""
        if terms and not found:
            matches = '<div class="pqa-matches">No word of the query in this passage (found by meaning)</div>'
        items.append(
            f'<div class="pqa-hit" data-rank="{h.rank or i}"><div class="pqa-meta">'
            f'<span class="pqa-marker">#{h.rank or i}</span> {_path_html(path)}{where}'
            f"{_document_line(h.doc_id, title, shown)}</div>{matches}"
            f'<div class="pqa-passage">{mark_terms(display_text(h.text, is_markdown(h.doc_id)), terms)}</div>'
            f"{view_button(h.doc_id, *view_span(h, terms))}</div>"
        )
    return f'<p class="pqa-note pqa-count">{esc(head)}</p>' + "".join(items)
