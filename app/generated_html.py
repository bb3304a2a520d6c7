"""HTML for generated answers: where the text comes from, the check of each sentence, and text while it streams."""

from __future__ import annotations

import time

from policyqa import Answer

from .formatting import answer_html, esc

STREAM_SLOT = '<div class="pqa-answer pqa-streaming" id="pqa-streaming"></div>'
_ANSWER_OPEN = "<div class='pqa-a'>"
_TURN_OPEN = "<div class='pqa-turn pqa-last'"
_SECONDS_BETWEEN_UPDATES = 0.05


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


class StreamFrame:
    """The conversation while a generated answer streams, as a string that only grows: Gradio sends a string that
    starts with the one it sent before as just the appended part, so each update carries the new text, not the
    whole conversation again (600 pieces sent 3 MB for a 16 kB page; issue 24, item 9).

    `chat`: the conversation HTML with the streaming turn's answer as streaming_html(""). The turn's sources are
    moved before its answer in the markup (CSS puts them back below it) so that the answer text comes last; the
    browser closes the tags left open. A layout not recognised is sent whole each time, as before."""

    def __init__(self, chat: str):
        self.whole = chat
        self.head = self.tail = ""
        self.last_sent = 0.0
        head, slot, tail = chat.rpartition(STREAM_SLOT)
        answer_at = head.rfind(_ANSWER_OPEN)
        turn_at = head.rfind(_TURN_OPEN)
        closing = "</div></div>"  # after the sources: the turn, the conversation
        if not slot or answer_at < 0 or turn_at < 0 or not tail.startswith("</div>") or not tail.endswith(closing):
            return
        sources = tail[len("</div>") : -len("</div></div>")]
        opened = head[:turn_at] + "<div class='pqa-turn pqa-last pqa-generating'" + head[turn_at + len(_TURN_OPEN) :]
        answer_at += len("<div class='pqa-turn pqa-last pqa-generating'") - len(_TURN_OPEN)
        self.head = opened[:answer_at] + sources + opened[answer_at:] + STREAM_SLOT.removesuffix("</div>")
        self.tail = slot  # recognised

    def html(self, text: str) -> str:
        self.last_sent = time.monotonic()
        if not self.tail:
            head, slot, tail = self.whole.rpartition(STREAM_SLOT)
            return head + STREAM_SLOT.removesuffix("</div>") + esc(text) + "</div>" + tail
        return self.head + esc(text)  # html.escape works character by character: the escaped text grows too

    def due(self) -> bool:
        """Whether another update is worth sending now (at most 20 a second)."""
        return time.monotonic() - self.last_sent >= _SECONDS_BETWEEN_UPDATES
