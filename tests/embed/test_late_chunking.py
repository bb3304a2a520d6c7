"""Late chunking: sentence vectors pooled from their chunk's token states in the chunk's own forward pass."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from policyqa import build_index, open_index
from policyqa.embed.embedder import Embedder
from policyqa.embed.late_chunking import home_chunks, pool_spans
from policyqa.index.faiss_sqlite.files import DATABASE
from policyqa.index.faiss_sqlite.generation import Generation
from policyqa.ingest.sentences import passage_sentences
from tests.conftest import BUNDLED_CORPUS, BUNDLED_DOC


def test_pool_spans_averages_the_tokens_a_span_overlaps() -> None:
    states = np.array([[9.0, 9.0], [1.0, 0.0], [3.0, 0.0], [0.0, 2.0], [9.0, -9.0]], np.float32)
    offsets = np.array([[0, 0], [0, 4], [5, 9], [10, 14], [0, 0]])  # [CLS] w1 w2 w3 [SEP]/padding
    pooled = pool_spans(states, offsets, [(0, 9), (6, 12), (15, 20)])
    assert np.allclose(pooled[0], [1.0, 0.0])  # (1+3)/2 → unit; special tokens never count
    assert np.allclose(pooled[1], np.array([3.0, 2.0]) / np.hypot(3, 2))  # any overlap counts: w2 and w3
    assert np.isnan(pooled[2]).all()  # no token: flagged, not a zero vector
    assert pool_spans(states, offsets, []).shape == (0, 2)


def test_a_sentence_lives_in_the_chunk_that_holds_most_of_it() -> None:
    chunks = [(0, 100), (80, 200)]
    sentences = [[(0, 50), (60, 110)], [(60, 110), (150, 250)]]  # (60, 110): 40 chars in chunk 0, 30 in chunk 1
    assert home_chunks(chunks, sentences) == {(0, 50): 0, (60, 110): 0, (150, 250): 1}
    assert home_chunks([(0, 100), (50, 150)], [[(50, 100)], [(50, 100)]]) == {(50, 100): 0}  # tie: earlier chunk


def test_the_build_stores_the_pooled_vectors_of_each_sentences_home_chunk(bundled_index: Path) -> None:
    generation = Generation.open_current(bundled_index)
    assert generation.manifest["sentences"] == {"vectors": "late"}
    chunks = list(generation.iter_chunks())
    rows = {c.id: [(s.start, s.end, s.vector) for s in generation.sentences([c.id])] for c in chunks}
    homes = home_chunks([(c.start, c.end) for c in chunks], [[(a, b) for a, b, _ in rows[c.id]] for c in chunks])
    embedder = Embedder.for_index(generation.manifest)
    spans = [[(a - c.start, b - c.start) for (a, b), i in homes.items() if i == n] for n, c in enumerate(chunks)]
    vectors, pooled = embedder.encode_late([c.text for c in chunks], spans)
    expected = {}
    for chunk, chunk_spans, vectors_of_chunk in zip(chunks, spans, pooled, strict=True):
        for (a, b), vector in zip(chunk_spans, vectors_of_chunk, strict=True):
            expected[a + chunk.start, b + chunk.start] = vector
    assert np.allclose(vectors, np.stack([generation.vectors.reconstruct(c.id) for c in chunks]), atol=1e-3)
    for chunk in chunks:
        for a, b, vector in rows[chunk.id]:  # every row of a sentence, also in a chunk that is not its home
            assert float(vector @ expected[a, b]) > 0.999
    # Pooled in context, not the sentence alone: close to its own embedding, not identical (64-token chunks give
    # little context, so most are very close; sentences cut by a chunk boundary differ most).
    text = generation.document_text(BUNDLED_DOC) or ""
    alone = embedder.encode([text[a:b] for a, b in homes])
    cosines = np.sum(alone * np.stack([expected[span] for span in homes]), axis=1)
    assert 0.5 < float(np.median(cosines)) < 0.9995 and float(cosines.min()) < 0.99


@pytest.mark.parametrize("mode", ["late", "separate"])
def test_both_kinds_answer_and_a_change_of_kind_rebuilds_with_the_reason(
    mode: str, corpus: Path, tmp_path: Path
) -> None:
    other = "separate" if mode == "late" else "late"
    index = tmp_path / "index"
    build_index(corpus, index, sentence_vectors=other, log=lambda _m: None)
    report = build_index(corpus, index, sentence_vectors=mode, log=lambda _m: None)
    assert report.full_rebuild_reason == f"sentences settings changed (vectors: {other} → {mode})"
    answer = open_index(index).ask("Who organised the online conference?")
    # answered, or below the scorer's calibrated limit shown as the closest evidence (issue 23): quoted either way
    assert answer.state in ("answered", "unsure") and "Institute for Strategic and Interregional Studies" in answer.text
    if mode == "separate":  # each sentence embedded on its own
        generation = Generation.open_current(index)
        sample = generation.sentences([1])[:3]
        text = generation.document_text(BUNDLED_DOC) or ""
        alone = Embedder.for_index(generation.manifest).encode([text[s.start : s.end] for s in sample])
        assert float(np.sum(alone * np.array([s.vector for s in sample]), axis=1).min()) > 0.999


def test_an_index_built_before_the_setting_was_recorded_rebuilds(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build_index(corpus, index, log=lambda _m: None)
    with sqlite3.connect(Generation.open_current(index).path / DATABASE) as db:
        db.execute("DELETE FROM manifest WHERE key = 'sentences'")  # indexes of the first sentence-vector release
    report = build_index(corpus, index, log=lambda _m: None)
    assert report.full_rebuild_reason == "sentences settings changed (vectors: separate → late)"


def test_an_edit_re_pools_only_the_sentences_of_changed_chunks(corpus: Path, tmp_path: Path) -> None:
    paragraphs = [
        f"Section {n}. Staff in team {n} get {20 + n} days of leave each year. Requests go to the manager of team "
        f"{n}, who answers within {n + 2} working days. Unused days of team {n} lapse at the end of March, and "
        f"carried-over days need written approval from the head of department {n}."
        for n in range(1, 9)
    ]
    path = corpus / "leave.md"
    path.write_text("# Leave\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    index = tmp_path / "index"
    build_index(corpus, index, log=lambda _m: None)
    before = Generation.open_current(index)
    old_chunks = {c.text: (c.start, c.end) for c in before.iter_chunks("leave.md")}
    old = {(s.start, s.end): s.vector for s in before.sentences(c.id for c in before.iter_chunks("leave.md"))}
    before.close()
    assert len(old_chunks) >= 3
    path.write_text(path.read_text(encoding="utf-8") + "\nSection 9. Interns get 10 days.\n", encoding="utf-8")
    report = build_index(corpus, index, log=lambda _m: None)
    assert report.modified == 1 and 1 <= report.chunks_embedded < len(old_chunks)
    after = Generation.open_current(index)
    chunks = list(after.iter_chunks("leave.md"))
    rows = {c.id: [(s.start, s.end, s.vector) for s in after.sentences([c.id])] for c in chunks}
    text = after.document_text("leave.md") or ""
    homes = home_chunks([(c.start, c.end) for c in chunks], [[(a, b) for a, b, _ in rows[c.id]] for c in chunks])
    kept = [span for span, i in homes.items() if chunks[i].text in old_chunks and span in old]
    stored = {(a, b): v for c in chunks for a, b, v in rows[c.id]}
    assert kept and all(np.array_equal(stored[span], old[span]) for span in kept)  # carried over, not re-pooled
    for chunk in chunks:
        assert [(a, b) for a, b, _ in rows[chunk.id]] == passage_sentences(text, chunk.start, chunk.end)
    interns = open_index(index).ask("How many days of leave do interns get?")
    assert interns.state in ("answered", "unsure") and "Interns get 10 days" in interns.citations[0].quote


def test_torch_and_openvino_pool_the_same_vectors() -> None:
    text = (BUNDLED_CORPUS / BUNDLED_DOC).read_text(encoding="utf-8")
    texts = [text[:900], text[900:1300], "Doha"]
    spans = [[(0, 120), (121, 400)], [(10, 200)], [(0, 4)]]
    torch_vectors, torch_pooled = Embedder(backend="torch").encode_late(texts, spans)
    ov_vectors, ov_pooled = Embedder(backend="openvino", precision="f32").encode_late(texts, spans)
    assert np.abs(torch_vectors - ov_vectors).max() < 1e-4
    for a, b in zip(torch_pooled, ov_pooled, strict=True):
        assert a.shape == b.shape and np.abs(a - b).max() < 1e-4
