"""HTML for answers, sources, search results and status. Every piece of document text goes through `esc`."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from policyqa.answer_types import Answer, Citation
from policyqa.retrieval import Hit

REFUSAL = "The corpus does not answer this question"


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


def _where(doc_id: str, page: int | None, heading: str | None) -> str:
    bits = [f"<code>{esc(doc_id)}</code>"]
    if page is not None:
        bits.append(f"page {esc(page)}")
    if heading:
        bits.append(f"§ {esc(heading)}")
    return " · ".join(bits)


def answer_html(answer: Answer) -> str:
    """The answer as its quotes, each escaped and followed by a link to its source. The links come only from the
    composer's citations, never from the text: a document's own "[2]" stays plain text."""
    if answer.abstained:
        reason = answer.message.removeprefix(REFUSAL).lstrip(". ")  # the heading already says it
        note = f"<p class='pqa-note'>{esc(reason)}</p>" if reason else ""
        return f'<div class="pqa-answer pqa-refusal"><p><b>{REFUSAL}.</b></p>{note}</div>'
    parts = [
        f'{esc(" ".join(c.quote.split()))} <a class="pqa-cite" href="#cite-{c.marker}" data-cite="{c.marker}">'
        f"[{c.marker}]</a>"
        for c in answer.citations
    ]
    note = f"<p class='pqa-note'>{esc(answer.message)}</p>" if answer.message else ""
    return f'<div class="pqa-answer"><p>{" ".join(parts)}</p>{note}</div>'


def highlighted_passage(c: Citation) -> str:
    """The passage with the quoted span in <mark>, both escaped."""
    passage, a, b = c.passage, c.start - c.passage_start, c.end - c.passage_start
    if not (0 <= a <= b <= len(passage) and passage[a:b] == c.quote):
        a = passage.find(c.quote)
        b = a + len(c.quote)
    if a < 0 or not c.quote:
        return f"{esc(passage)}<p><mark>{esc(c.quote)}</mark></p>"
    return f"{esc(passage[:a])}<mark>{esc(passage[a:b])}</mark>{esc(passage[b:])}"


def sources_html(answer: Answer) -> str:
    if answer.abstained:
        if not answer.passages:
            return message_box("Nothing in the index is close to this question.", "info")
        return hits_html(answer.passages, "Nearest material (does not answer the question)")
    items = []
    for c in answer.citations:
        items.append(
            f'<div class="pqa-source" id="cite-{c.marker}">'
            f'<div class="pqa-meta"><span class="pqa-marker">[{c.marker}]</span> <b>{esc(c.title)}</b> · '
            f"{_where(c.doc_id, c.page, c.heading)} · score {c.score:.3f}</div>"
            f'<div class="pqa-passage">{highlighted_passage(c)}</div></div>'
        )
    return "<h4>Sources</h4>" + "".join(items) if items else ""


def hits_html(hits: list[Hit], title: str = "") -> str:
    if not hits:
        return message_box("No passages found.", "info")
    items = [
        f'<div class="pqa-hit"><div class="pqa-meta"><span class="pqa-marker">#{h.rank or i}</span> '
        f"<b>{esc(h.title)}</b> · {_where(h.doc_id, h.page, h.heading)} · score {h.score:.3f}</div>"
        f'<div class="pqa-passage">{esc(h.text)}</div></div>'
        for i, h in enumerate(hits, 1)
    ]
    head = f"<h4>{esc(title)}</h4>" if title else ""
    return head + "".join(items)


def history_html(history: list[dict[str, Any]]) -> str:
    if not history:
        return "<div class='pqa-note'>No questions asked yet in this session.</div>"
    rows = "".join(
        f"<li>{esc(item['question'])} <span class='pqa-note'>— {esc(item['outcome'])}</span></li>"
        for item in reversed(history)
    )
    return f"<ol class='pqa-history'>{rows}</ol>"


def stale_html(status: dict[str, Any]) -> str:
    if not status.get("indexed"):
        return message_box("No index yet — click “Rebuild index”.", "warning")
    stale = status.get("stale", {})
    skipped = "".join(f"<li><code>{esc(s['path'])}</code>: {esc(s['reason'])}</li>" for s in stale.get("skipped", []))
    skipped = f"<p>Skipped files:</p><ul>{skipped}</ul>" if skipped else ""
    if not stale.get("is_stale"):
        return message_box("The index is up to date with the corpus folder.", "ok") + skipped
    changes = [
        f"{label}: {', '.join(stale.get(key) or [])}"
        for key, label in (("added", "new"), ("modified", "changed"), ("deleted", "removed"))
        if stale.get(key)
    ]
    if stale.get("full_rebuild_reason"):
        changes.insert(0, f"full rebuild needed: {stale['full_rebuild_reason']}")
    text = "The index is out of date with the corpus folder — click “Rebuild index”. " + "; ".join(changes)
    return message_box(text, "warning") + skipped


CSS = """
.pqa-header { padding: 6px 2px; font-size: 0.95em; }
.pqa-msg { padding: 10px 12px; border-radius: 6px; margin: 6px 0; white-space: pre-wrap; }
.pqa-error { background: #fdecea; color: #8a1c13; border: 1px solid #f5c2bd; }
.pqa-warning { background: #fff6e0; color: #7a5200; border: 1px solid #f0d9a0; }
.pqa-ok { background: #e9f7ef; color: #1d5e36; border: 1px solid #b8e2c8; }
.pqa-info { background: #eef3fb; color: #23446e; border: 1px solid #c7d6ee; }
.pqa-answer { font-size: 1.05em; line-height: 1.55; }
.pqa-refusal { border-left: 4px solid #d08c00; padding-left: 10px; }
.pqa-cite { font-weight: 600; text-decoration: none; padding: 0 2px; }
.pqa-note { color: #666; font-size: 0.9em; }
.pqa-source, .pqa-hit { border: 1px solid #ddd; border-radius: 6px; padding: 8px 10px; margin: 8px 0; }
.pqa-source.pqa-active { border-color: #2f6fde; box-shadow: 0 0 0 2px #2f6fde55; }
.pqa-meta { font-size: 0.9em; margin-bottom: 4px; }
.pqa-marker { font-weight: 700; color: #2f6fde; }
.pqa-passage { white-space: pre-wrap; font-size: 0.92em; line-height: 1.45; }
.pqa-passage mark { background: #ffe58a; padding: 0 1px; }
"""

# Clicking a marker brings its source into view and outlines it (event delegation survives re-renders).
CITE_JS = """
element.addEventListener('click', (event) => {
  const link = event.target.closest('a.pqa-cite');
  if (!link) return;
  event.preventDefault();
  const target = document.getElementById('cite-' + link.dataset.cite);
  if (!target) return;
  document.querySelectorAll('.pqa-source.pqa-active').forEach((el) => el.classList.remove('pqa-active'));
  target.classList.add('pqa-active');
  target.scrollIntoView({behavior: 'smooth', block: 'center'});
});
"""
