"""HTML for answers, sources, search results and status. Every piece of document text goes through `esc`."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

from policyqa import REFUSAL_TEXT, UNSURE_TEXT, Answer, Citation

from .chat import ChatTurn

PARTIAL = "Partly answered"
SCORE_LEGEND = (
    "P: the probability that the quote answers the question (a model checked on held-out questions); an answer "
    "needs {threshold:.2f}, below it the closest evidence is shown as unsure or the question is refused."
)
_MARKER = re.compile(r"\[(\d+)\]")


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def when(timestamp: float | None) -> str:
    if not timestamp:
        return "—"
    return datetime.fromtimestamp(float(timestamp), tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def size(n: int | None) -> str:
    if n is None:
        return "—"
    return f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / (1024 * 1024):.1f} MB"


def message_box(message: str, kind: str = "error") -> str:
    return f'<div class="pqa-msg pqa-{esc(kind)}">{esc(message)}</div>'


def header_html(documents: int, chunks: int, model: str | None, built_at: float | None) -> str:
    return (
        '<div class="pqa-header">'
        f"<b>{documents}</b> document(s), <b>{chunks}</b> chunk(s) indexed · model <code>{esc(model or '?')}</code>"
        f" · index built {esc(when(built_at))}</div>"
    )


def answer_state(answer: Answer) -> str:
    """ "answered", "partial", "unsure" or "refused"."""
    return "refused" if answer.abstained else str(getattr(answer, "state", None) or "answered")


def _reason_html(answer: Answer) -> str:
    reason = getattr(answer, "reason", "")
    return f"<p class='pqa-reason' data-state='{esc(answer_state(answer))}'>{esc(reason)}</p>" if reason else ""


def answer_html(answer: Answer, turn: int = 0) -> str:
    """The answer text, escaped, with each citation marker turned into a link to its source in this turn; the
    state's reason."""
    state = answer_state(answer)
    if state == "refused":
        reason = answer.reason  # the heading says that the corpus does not answer; the reason says why
        note = f"<p class='pqa-reason' data-state='refused'>{esc(reason)}</p>" if reason else ""
        extra_note = f"<p class='pqa-note'>{esc(answer.note)}</p>" if answer.note and answer.note != reason else ""
        heading = f"<p><b>{esc(REFUSAL_TEXT)}</b></p>"
        return f'<div class="pqa-answer pqa-refusal" data-state="refused">{heading}{note}{extra_note}</div>'
    parts = _generated_parts(answer, turn) if _is_generated(answer) else _quoted_parts(answer, turn)
    note = f"<p class='pqa-note'>{esc(answer.note)}</p>" if answer.note else ""
    body = f"<p>{' '.join(parts)}</p>{_reason_html(answer)}{note}"
    if state == "partial":
        return f'<div class="pqa-answer pqa-partial" data-state="partial"><p><b>{PARTIAL}.</b></p>{body}</div>'
    if state == "unsure":
        return f'<div class="pqa-answer pqa-unsure" data-state="unsure"><p><b>{esc(UNSURE_TEXT)}</b></p>{body}</div>'
    return f'<div class="pqa-answer" data-state="{esc(state)}">{body}</div>'


def _cite_link(turn: int, n: int) -> str:
    return f'<a class="pqa-cite" href="#cite-{turn}-{n}" data-cite="{turn}-{n}">[{n}]</a>'


def _quoted_parts(answer: Answer, turn: int) -> list[str]:
    """Each quote, then its link. The links come only from the composer's citations, never from the text: a
    document's own "[2]" stays plain text."""
    return [f"{_quote_with_span(c)} {_cite_link(turn, c.marker)}" for c in answer.citations]


def _quote_with_span(c: Citation) -> str:
    """The quote for reading, its answering words (answer_start/answer_end) in bold."""
    md = is_markdown(c.doc_id)
    a = (c.answer_start if c.answer_start is not None else c.start) - c.start
    b = (c.answer_end if c.answer_end is not None else c.start) - c.start
    if not 0 <= a < b <= len(c.quote) or (a, b) == (0, len(c.quote)):
        return display_text(" ".join(c.quote.split()), md)
    before, span, after = (" ".join(t.split()) for t in (c.quote[:a], c.quote[a:b], c.quote[b:]))
    gap = (" " if c.quote[a - 1 : a].isspace() else "", " " if c.quote[b : b + 1].isspace() else "")
    return (
        f"{display_text(before, md)}{gap[0]}<strong class='pqa-span'>{display_text(span, md)}</strong>"
        f"{gap[1]}{display_text(after, md)}"
    )


def _is_generated(answer: Answer) -> bool:
    generated = getattr(answer, "generated", None)
    return generated is not None and generated.source == "generated"


def _generated_parts(answer: Answer, turn: int) -> list[str]:
    """A language model's text cites with [n]; only the citations' own numbers become links (checked sentence by
    sentence against their quotes before this)."""
    known = {c.marker for c in answer.citations}
    parts, last = [], 0
    text = answer.text
    for match in _MARKER.finditer(text):
        n = int(match.group(1))
        if n not in known:
            continue
        parts.append(display_text(text[last : match.start()]) + _cite_link(turn, n))
        last = match.end()
    parts.append(display_text(text[last:]))
    return ["".join(parts)]


def legend_html(threshold: float) -> str:
    return f"<p class='pqa-note pqa-legend'>{esc(SCORE_LEGEND.format(threshold=threshold))}</p>"


_SPACES = re.compile(r"[ \t\xa0]+")
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_SOFT_BREAK = re.compile(r"(?<!\n)\n(?!\n)")
_MD_KEEP_BREAK = re.compile(r"\n(?=\s*(?:#{1,6}\s|[-*+]\s|\d+[.)]\s|>|\|))")
_MD_INLINE = [
    (re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE), r'<strong class="pqa-h">\1</strong>'),
    (re.compile(r"^[ \t]*[-*+][ \t]+", re.MULTILINE), "• "),
    (re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"__(?=\S)(.+?)(?<=\S)__"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"<em>\1</em>"),
    (re.compile(r"`([^`\n]+)`"), r"<code>\1</code>"),
    # links show their text only: no URL is followed
    (re.compile(r"\[([^\]\n]+)\]\((?:[^()\s]|\([^()\s]*\))+\)"), r"\1"),
]


def display_text(text: str, markdown: bool = False) -> str:
    """Escaped text for reading: hard line breaks inside a paragraph joined, runs of spaces folded, and (for
    Markdown) headings, lists, emphasis and code rendered from the escaped text, so no markup gets through. (A
    Markdown file's front matter is not in its stored text: the reader keeps it as the document's fields.)"""
    text = _PARAGRAPH.sub("\n\n", text)
    if markdown:
        text = _MD_KEEP_BREAK.sub("\x00", text)  # line breaks Markdown keeps (before a heading, list item, table row)
    text = _SOFT_BREAK.sub(" ", text).replace("\x00", "\n")
    html_text = esc(_SPACES.sub(" ", text))
    if markdown:
        for pattern, replacement in _MD_INLINE:
            html_text = pattern.sub(replacement, html_text)
    return html_text


def highlighted_text(text: str, start: int, end: int, markdown: bool = False, offset: int = 0) -> str:
    """`text` for reading with exactly text[start:end] in <mark>; `offset` is where `text` starts in its document
    (the mark carries the document offsets)."""
    mark = f'<mark class="pqa-quote" data-start="{start + offset}" data-end="{end + offset}">'
    return (
        display_text(text[:start], markdown)
        + mark
        + display_text(text[start:end], markdown)
        + "</mark>"
        + display_text(text[end:], markdown)
    )


def highlighted_passage(c: Citation, markdown: bool = False) -> str:
    """The passage with the quoted span in <mark>, both escaped."""
    passage, a, b = c.passage, c.start - c.passage_start, c.end - c.passage_start
    if not (0 <= a <= b <= len(passage) and passage[a:b] == c.quote):
        a = passage.find(c.quote)
        b = a + len(c.quote)
    if a < 0 or not c.quote:
        return f"{display_text(passage, markdown)}<p><mark>{esc(c.quote)}</mark></p>"
    return highlighted_text(passage, a, b, markdown, c.passage_start)


def is_markdown(doc_id: str) -> bool:
    return doc_id.lower().endswith(".md")


def crumb_html(path: list[str]) -> str:
    if not path:
        return ""
    return '<div class="pqa-crumb">' + " › ".join(f"<span>{esc(p)}</span>" for p in path) + "</div>"


def chat_html(turns: list[ChatTurn]) -> str:
    """The conversation: each turn's question, the query searched when it was expanded, answer and sources."""
    if not turns:
        return (
            "<div class='pqa-chat pqa-empty'><p class='pqa-note'>Ask a question about the documents. Follow-up "
            "questions (“and who chaired it?”) use the previous question's subject.</p></div>"
        )
    items = []
    for i, turn in enumerate(turns):
        last = i == len(turns) - 1
        asked, expanded = turn.asked, ""
        if asked.expanded:
            plain = asked.answered_from == asked.question
            note = " — the question as asked found stronger evidence" if plain else ""
            expanded = f"<div class='pqa-expanded'>Searched for: <q>{esc(asked.query)}</q>{note}</div>"
        sources = turn.sources_html
        label = turn.sources_label or "Sources"
        opened = " open" if last and turn.sources_open else ""
        details = f"<details class='pqa-sources'{opened}><summary>{esc(label)}</summary>{sources}</details>"
        details = details if sources else ""
        items.append(
            f"<div class='pqa-turn{' pqa-last' if last else ''}' data-turn='{i}'>"
            f"<div class='pqa-q'>{esc(turn.question)}</div>{expanded}"
            f"<div class='pqa-a'>{turn.answer_html}</div>{details}</div>"
        )
    return "<div class='pqa-chat'>" + "".join(items) + "</div>"


def history_html(history: list[dict[str, Any]]) -> str:
    """Questions asked in this browser, newest first; each one a button that asks it again."""
    if not history:
        return "<div class='pqa-note'>No questions asked yet in this browser.</div>"
    rows = "".join(
        f"<li><button type='button' class='pqa-past' data-question='{esc(item['question'])}'>"
        f"{esc(item['question'])}</button> <span class='pqa-note'>— {esc(item['outcome'])}</span></li>"
        for item in reversed(history)
    )
    return f"<ol class='pqa-history'>{rows}</ol>"


def document_html(
    doc_id: str,
    title: str,
    text: str,
    start: int,
    end: int,
    offset: int = 0,
    where: str = "",
    path: tuple[str, ...] = (),
) -> str:
    """A document (or one PDF page: `offset` is where `text` starts) with document[start:end] highlighted."""
    a, b = start - offset, end - offset
    body = (
        highlighted_text(text, a, b, is_markdown(doc_id), offset)
        if 0 <= a <= b <= len(text)
        else display_text(text, is_markdown(doc_id))
    )
    return (
        f"<div class='pqa-docview' data-doc='{esc(doc_id)}'>"
        f"<div class='pqa-meta'><b class='pqa-title'>{esc(title)}</b>{crumb_html(list(path))}"
        f"<div class='pqa-where'><code>{esc(doc_id)}</code>{' · ' + esc(where) if where else ''}"
        f" · chars {start}–{end}</div></div>"
        f"<div class='pqa-doctext'>{body}</div></div>"
    )
