"""HTML for generated answers: where the text comes from, the check of each sentence, and text while it streams."""

from __future__ import annotations

from policyqa.answer.types import Answer

from .formatting import answer_html, esc

CSS = """
.pqa-origin { display: inline-block; font-size: 0.8em; padding: 1px 8px; border-radius: 10px; margin-bottom: 4px;
  border: 1px solid currentColor; opacity: 0.85; }
.pqa-checks { font-size: 0.88em; margin: 6px 0 0 0; padding-left: 1.2em; }
.pqa-checks .pqa-dropped { text-decoration: line-through; opacity: 0.75; }
.pqa-streaming { white-space: pre-wrap; opacity: 0.8; }
"""


def origin_badge(answer: Answer) -> str:
    generated = answer.generated
    if generated is not None and generated.source == "generated":
        return f'<span class="pqa-origin" data-origin="generated">generated from quotes · {esc(generated.model)}</span>'
    return '<span class="pqa-origin" data-origin="quoted">quoted</span>'


def generated_answer_html(answer: Answer, turn: int = 0) -> str:
    """The answer with its origin; for a generated one also each sentence's check (dropped ones struck through)."""
    if answer.abstained:
        return answer_html(answer, turn)
    generated = answer.generated
    parts = [origin_badge(answer), answer_html(answer, turn)]
    if generated is not None and generated.fallback:
        parts.append(f"<p class='pqa-note' data-fallback>{esc(generated.fallback)}.</p>")
    if generated is not None and generated.sentences:
        items = []
        for check in generated.sentences:
            markers = "".join(f"[{n}]" for n in check.markers) or "(no citation)"
            if check.supported:
                items.append(f"<li>✓ {esc(check.text)} {esc(markers)} — supported by its quotes</li>")
            else:
                why = esc("; ".join(check.problems))
                dropped = f"<span class='pqa-dropped'>{esc(check.text)} {esc(markers)}</span>"
                items.append(f"<li>✗ {dropped} — dropped: {why}</li>")
        parts.append(
            f"<details class='pqa-check'><summary>Sentence check</summary>"
            f"<ul class='pqa-checks'>{''.join(items)}</ul></details>"
        )
    return "".join(parts)


def streaming_html(text: str) -> str:
    return (
        '<span class="pqa-origin" data-origin="generating">generating from quotes…</span>'
        f'<div class="pqa-answer pqa-streaming" id="pqa-streaming">{esc(text)}</div>'
    )
