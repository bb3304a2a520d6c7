"""Text cleaning: ligatures folded, control characters dropped, spaces normalised, offsets moved with the text."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from policyqa.ingest.clean import LIGATURES, clean_text, is_clean
from policyqa.ingest.documents import CorpusFile, read_document


def test_ligatures_controls_and_spaces() -> None:
    text, moved = clean_text("Arti\ufb01cial in\x00telligence\u00a0 is\u200b e\ufb00ective \r\nnext\x0cpage")
    assert text == "Artificial intelligence is effective\nnext\npage"
    assert moved(len("Arti\ufb01cial ")) == len("Artificial ")  # after the ligature: one character later
    assert moved(0) == 0 and is_clean(text)


def test_offsets_of_words_follow_the_text() -> None:
    raw = "\ufb01rst\x01  \ufb02ow\t\tof  \ufb03ce\u00ad work"
    text, moved = clean_text(raw)
    assert text == "first flow of ffice work"
    for word in ("\ufb02ow", "of", "\ufb03ce"):
        start = raw.index(word)
        assert text[moved(start) :].startswith(word.translate(str.maketrans(LIGATURES)))


@given(st.text(alphabet=st.sampled_from(list("ab .\n\t\x00\x07\u00a0\u200b\r") + list(LIGATURES)), max_size=60))
def test_cleaning_is_idempotent_and_monotone(raw: str) -> None:
    text, moved = clean_text(raw)
    assert is_clean(text) and clean_text(text)[0] == text
    positions = [moved(i) for i in range(len(raw) + 1)]
    assert positions == sorted(positions) and positions[-1] == len(text)


def test_documents_store_the_cleaned_text_with_headings_in_place(tmp_path: Path) -> None:
    raw = "# E\ufb00ective  oversight\n\nThe \ufb01rst\u00a0rule\u200b applies.\n\n## Sco\ufb00e\n\nMore text.\n"
    path = tmp_path / "a.md"
    path.write_text(raw, encoding="utf-8")
    doc = read_document(CorpusFile("a.md", path, path.read_bytes(), "0" * 64))
    assert "\ufb01" not in doc.text and "\u200b" not in doc.text and "The first rule applies." in doc.text
    assert [h.title for h in doc.headings] == ["Effective oversight", "Scoffe"]
    for heading in doc.headings:
        assert doc.text[heading.start :].lstrip("# ").startswith(heading.title)
