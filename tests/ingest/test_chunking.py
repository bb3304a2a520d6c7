from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyqa.ingest.chunking import Chunker, ChunkSettings
from policyqa.ingest.documents import Document, Heading, read_document, scan_corpus
from tests.conftest import BUNDLED_CORPUS


def _doc(text: str, headings: tuple[Heading, ...] = (), page_starts: tuple[int, ...] = ()) -> Document:
    return Document("t.txt", Path("t.txt"), "t", text, "0" * 64, len(text), page_starts, headings)


def _full_window_tokens(embedder, text: str) -> int:
    return len(embedder.model.tokenizer(text, truncation=False)["input_ids"])


def test_every_bundled_chunk_is_an_exact_slice_within_the_model_window(embedder) -> None:
    files, _ = scan_corpus(BUNDLED_CORPUS)
    chunker = Chunker(embedder.token_counter, embedder.window_tokens)
    for file in files:
        doc = read_document(file)
        chunks = chunker.split(doc)
        assert len(chunks) > 3
        for chunk in chunks:
            assert doc.text[chunk.start : chunk.end] == chunk.text
            assert _full_window_tokens(embedder, chunk.text) <= embedder.max_seq_length
        covered = set()
        for chunk in chunks:
            covered.update(range(chunk.start, chunk.end))
        non_space = {i for i, ch in enumerate(doc.text) if not ch.isspace()}
        assert non_space <= covered, "every non-space character must be in some chunk"


def test_pathological_text_never_overflows_the_window(embedder) -> None:
    text = (
        "x" * 5000
        + " "
        + "Supercalifragilisticexpialidocious-antidisestablishmentarianism " * 80
        + "\n"
        + "漢字の文章" * 300
        + " ".join(str(n) for n in range(2000))
    )
    doc = _doc(text)
    chunker = Chunker(embedder.token_counter, embedder.window_tokens, ChunkSettings(chunk_tokens=1000))
    assert chunker.limit == embedder.window_tokens == 254
    chunks = chunker.split(doc)
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert _full_window_tokens(embedder, chunk.text) <= embedder.max_seq_length


def test_chunks_carry_heading_and_pages(embedder) -> None:
    body = "Retention of personal data is limited. " * 30
    text = "# Scope\n\n" + body + "\n\n# Retention\n\n" + body
    second = text.index("# Retention")
    doc = _doc(text, headings=(Heading(0, "Scope"), Heading(second, "Retention")), page_starts=(0, second))
    chunks = Chunker(embedder.token_counter, embedder.window_tokens, ChunkSettings(100, 20)).split(doc)
    first, last = chunks[0], chunks[-1]
    assert (first.heading, first.page) == ("Scope", 1)
    assert (last.heading, last.page) == ("Retention", 2)
    spanning = [c for c in chunks if c.start < second < c.end]
    assert all(c.page == 1 and c.page_end == 2 for c in spanning)


def test_overlap_must_be_smaller_than_size(embedder) -> None:
    with pytest.raises(ValueError, match="overlap"):
        Chunker(embedder.token_counter, embedder.window_tokens, ChunkSettings(chunk_tokens=50, overlap_tokens=50))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=3000))
def test_offsets_hold_for_arbitrary_text(embedder, text: str) -> None:
    doc = _doc(text)
    chunker = Chunker(embedder.token_counter, embedder.window_tokens, ChunkSettings(64, 16))
    previous = -1
    for chunk in chunker.split(doc):
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.strip() == chunk.text and chunk.text
        assert chunk.start > previous
        previous = chunk.start
        assert embedder.token_counter.count(chunk.text) <= 64
