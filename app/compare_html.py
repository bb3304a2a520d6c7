"""HTML for the Compare tab: questions as rows, documents as columns, each cell the quote with its answer words in
bold and a link into the document; a cell whose document does not answer says so (on a phone: one card per cell)."""

from __future__ import annotations

from policyqa import CompareRow, page_name

from .formatting import display_text, esc, is_markdown, message_box
from .sources_html import view_button

NOT_ANSWERED = "Not answered in this document"
SIDEWAYS = "<span class='pqa-sideways'> — the grid scrolls sideways; the questions stay in view</span>"


def quote_html(row: CompareRow) -> str:
    """The quote for reading, its answer words (answer_start/answer_end, document offsets) in bold."""
    md = is_markdown(row.doc_id)
    a, b, start = row.answer_start, row.answer_end, row.start or 0
    if a is None or b is None or not 0 <= a - start < b - start <= len(row.quote):
        return display_text(" ".join(row.quote.split()), md)
    before, words, after = row.quote[: a - start], row.quote[a - start : b - start], row.quote[b - start :]
    gap = (" " if before[-1:].isspace() else "", " " if after[:1].isspace() else "")
    return (
        f"{display_text(' '.join(before.split()), md)}{gap[0]}<strong class='pqa-span'>"
        f"{display_text(' '.join(words.split()), md)}</strong>{gap[1]}{display_text(' '.join(after.split()), md)}"
    )


def _where(row: CompareRow) -> str:
    bits = [b for b in (page_name(row.page, row.page_label), f"P {row.evidence:.2f}") if b]
    return f"<div class='pqa-where'>{esc(' · '.join(bits))}</div>"


def cell_html(row: CompareRow) -> str:
    """An answered cell: the quote, where it is, the link. Otherwise what the document lacks, and for an unsure
    answer its closest evidence, collapsed (it is not an answer)."""
    if row.answers and row.start is not None and row.end is not None:
        partial = "<div class='pqa-note'>Partly answered</div>" if row.state == "partial" else ""
        return (
            f"{partial}<div class='pqa-cell-quote'>{quote_html(row)}</div>{_where(row)}"
            f"{view_button(row.doc_id, row.start, row.end)}"
        )
    closest = ""
    if row.quote and row.start is not None and row.end is not None:
        closest = (
            f"<details class='pqa-closest'><summary>Closest evidence (unsure)</summary>"
            f"<div class='pqa-cell-quote'>{quote_html(row)}</div>{_where(row)}"
            f"{view_button(row.doc_id, row.start, row.end)}</details>"
        )
    reason = f"<div class='pqa-note'>{esc(row.reason)}</div>" if row.reason else ""
    return f"<div class='pqa-unanswered'>{NOT_ANSWERED}</div>{reason}{closest}"


def grid_html(rows: list[CompareRow]) -> str:
    if not rows:
        return message_box("Nothing to compare yet: write one or more questions and click “Compare”.", "info")
    questions = list(dict.fromkeys(r.question for r in rows))
    documents = {r.doc_id: r.title for r in rows}
    cells = {(r.question, r.doc_id): r for r in rows}
    head = "".join(
        f"<th scope='col' title='{esc(title)}'><code>{esc(doc_id)}</code>"
        f"<div class='pqa-col-title'>{esc(title if title != doc_id else '')}</div></th>"
        for doc_id, title in documents.items()
    )
    body = []
    for q in questions:
        tds = []
        for doc_id in documents:
            row = cells.get((q, doc_id))
            state = row.state if row else "refused"
            inner = cell_html(row) if row else f"<div class='pqa-unanswered'>{NOT_ANSWERED}</div>"
            tds.append(f"<td data-label='{esc(doc_id)}' data-state='{esc(state)}'>{inner}</td>")
        body.append(f"<tr><th scope='row' class='pqa-cmp-q'>{esc(q)}</th>{''.join(tds)}</tr>")
    answered = sum(r.answers for r in rows)
    summary = (
        f"<p class='pqa-note pqa-count'>{len(questions)} question(s) × {len(documents)} document(s): "
        f"{answered} of {len(rows)} cells answered{SIDEWAYS if len(documents) > 3 else ''}</p>"
    )
    return (
        f"{summary}<div class='pqa-cmp-wrap'><table class='pqa-cmp'><thead><tr><th scope='col'>Question</th>{head}"
        f"</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )
