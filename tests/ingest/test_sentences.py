from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from policyqa.ingest.sentences import MAX_SENTENCE_CHARS, sentence_spans


def quotes(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_splits_on_terminal_punctuation_and_blank_lines() -> None:
    text = "First point is here. Second one?  Third!\n\nA heading without stop\nNext para line."
    assert quotes(text) == ["First point is here.", "Second one?", "Third!", "A heading without stop\nNext para line."]


def test_abbreviations_and_initials_do_not_end_sentences() -> None:
    text = "The U.S. and Mr. Smith met e.g. on Jan. 5. J. R. Smith agreed. See No. 5 below."
    assert quotes(text) == ["The U.S. and Mr. Smith met e.g. on Jan. 5.", "J. R. Smith agreed.", "See No. 5 below."]


def test_hard_wrapped_lines_stay_one_sentence_and_offsets_are_exact() -> None:
    text = "  The  signing of the Peace Agreement\nbetween the United States and the Taliban in Doha.  Next."
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans][0].endswith("in Doha.")
    assert spans[0][0] == 2


def test_range_arguments_limit_the_search() -> None:
    text = "One. Two. Three."
    assert [text[s:e] for s, e in sentence_spans(text, 5, 9)] == ["Two."]


def test_long_runs_are_cut() -> None:
    text = "; ".join(f"item {n} of a long list" for n in range(200))
    spans = sentence_spans(text)
    assert len(spans) > 1 and all(e - s <= MAX_SENTENCE_CHARS for s, e in spans)


PIECES = st.sampled_from([*"ab .?!\n;UiS", "e.g.", "Mr.", "  ", "\n\n", "U.S."])


@given(st.lists(PIECES, max_size=600).map("".join))
def test_spans_are_ordered_trimmed_slices(text: str) -> None:
    previous_end = 0
    for start, end in sentence_spans(text):
        assert previous_end <= start < end <= len(text)
        piece = text[start:end]
        assert piece == piece.strip() and piece
        previous_end = end
    covered = "".join(text[s:e] for s, e in sentence_spans(text))
    assert "".join(covered.split()) == "".join(text.split())
