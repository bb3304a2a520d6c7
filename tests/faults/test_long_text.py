"""Long inputs that once cost a recursion per 600 characters or a list rebuild per chunk (issue 13, items 2, 11)."""

from __future__ import annotations

import time
from pathlib import Path

from policyqa.ingest.documents import Document, Heading
from policyqa.ingest.sentences import MAX_SENTENCE_CHARS, sentence_spans

LINE = "Item {:05d} | Department of Finance | Budget line 7 | {} EUR\n"


def budget_lines(count: int) -> str:
    return "".join(LINE.format(n, 9638 + n % 7) for n in range(count))


def test_a_ten_megabyte_paragraph_splits_without_recursion() -> None:
    text = budget_lines(170_000)  # about 10 MB, one paragraph: no blank line, no sentence end
    assert len(text) > 10_000_000
    spans = sentence_spans(text)
    assert spans and all(0 < end - start <= MAX_SENTENCE_CHARS for start, end in spans)
    assert spans[0][0] == 0 and spans[-1][1] == len(text.rstrip())
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    visible = sum(len("".join(text[a:b].split())) for a, b in spans)
    assert visible == len("".join(text.split())), "every non-blank character is in exactly one sentence"


def test_a_long_run_of_abbreviations_stays_linear() -> None:
    text = "See e.g. " * 10_000  # 90 KB, every dot an abbreviation: one sentence
    started = time.perf_counter()
    spans = sentence_spans(text)
    assert spans and time.perf_counter() - started < 5  # the quadratic look-back took over a minute


def test_heading_lookup_does_not_rebuild_the_heading_list() -> None:
    headings = tuple(Heading(n * 20, f"Section {n}") for n in range(200_000))
    doc = Document("d.md", Path("d.md"), "t", "x" * 4_000_000, "0" * 64, 0, headings=headings)
    started = time.perf_counter()
    found = [doc.heading_at(offset) for offset in range(0, 4_000_000, 2_000)]
    assert found[1] == "Section 100" and found[-1] == "Section 199900"
    assert time.perf_counter() - started < 2.0  # 2,000 lookups; rebuilding 200k starts each time took ~10 s
