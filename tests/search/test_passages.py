"""Small-to-big: matched chunks shown as passages grown with their neighbours (real model, FAISS, SQLite)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from policyqa import build_index, open_index
from policyqa.index.faiss_sqlite.generation import Generation
from policyqa.ingest.chunking import ChunkSettings
from policyqa.search.passages import FADE, FIRM_SHARE, REACH, sentence_run
from policyqa.search.retrieval import MODES, passage_chars
from tests.conftest import BUNDLED_DOC, DOHA_QUESTION

SMALL = ChunkSettings(chunk_tokens=48, overlap_tokens=0, passage_chars=600)


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import BUNDLED_CORPUS

    index_dir = tmp_path_factory.mktemp("small") / "index"
    build_index(BUNDLED_CORPUS, index_dir, chunking=SMALL)
    return index_dir


@pytest.mark.parametrize("mode", MODES)
def test_passages_are_exact_distinct_slices_around_the_match(small_index: Path, mode: str) -> None:
    index = open_index(small_index)
    generation = Generation.open_current(small_index)
    try:
        assert passage_chars(generation) == 600
        text = generation.document_text(BUNDLED_DOC)
        hits = index.search(DOHA_QUESTION, k=8, mode=mode)
        assert len(hits) == 8 or (mode == "bm25" and len(hits) >= 3)  # BM25 returns only chunks with a query word
        for hit in hits:
            assert hit.text == text[hit.start : hit.end]
            assert hit.end - hit.start <= 600 * REACH
            matched = generation.chunk_records([hit.chunk_id])[hit.chunk_id]
            assert hit.start < matched.end and matched.start < hit.end  # it holds the match's best sentence
        grown = [h for h in hits if h.end - h.start > 2 * max(len(r.text) for r in generation.iter_chunks()) // 3]
        assert grown, "passages should be larger than the small chunks they were matched on"
        spans = sorted((h.start, h.end) for h in hits)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))
        assert "Doha" in hits[0].text
    finally:
        generation.close()


def test_an_index_of_chunks_shown_as_matched_is_rebuilt_with_the_reason(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, chunking=ChunkSettings(200, 40, passage_chars=0))  # the default before
    generation = Generation.open_current(index_dir)
    assert passage_chars(generation) == 0 and "passage_chars" not in generation.manifest["chunking"]
    generation.close()
    old = open_index(index_dir).search(DOHA_QUESTION, k=3)
    report = build_index(corpus, index_dir)
    reason = report.full_rebuild_reason or ""
    assert "chunk_tokens: 200 → 64" in reason and "passage_chars: None → 1100" in reason
    new = open_index(index_dir).search(DOHA_QUESTION, k=3)
    assert max(h.end - h.start for h in new) > 600 and old[0].chunk_id != new[0].chunk_id


def test_a_passage_names_the_chunks_it_holds(small_index: Path) -> None:
    """chunk_ids are exactly the chunks the passage overlaps, in document order, the match among them (a passage's
    edges are sentence ends, so two neighbouring passages may share a chunk, each holding some of its sentences)."""
    generation = Generation.open_current(small_index)
    try:
        hits = open_index(small_index).search("Afghanistan security", k=10)
        chunks = sorted(generation.iter_chunks(), key=lambda c: c.start)
        for hit in hits:
            inside = [c.id for c in chunks if hit.start < c.end and c.start < hit.end]  # overlapping: sentences
            assert list(hit.chunk_ids) == inside and hit.chunk_id in inside
        held = [i for h in hits for i in h.chunk_ids]
        assert len(set(held)) > len(hits)
    finally:
        generation.close()


def test_the_answer_reads_the_sentences_of_the_whole_passage(small_index: Path) -> None:
    from policyqa.answer.compose import candidates

    index = open_index(small_index)
    hits = index.search(DOHA_QUESTION, k=3)
    generation = Generation.open_current(small_index)
    try:
        pool, vectors = candidates(generation, hits, index.embedder.encode_queries)
        assert len(pool) == len(vectors)
        beyond = 0
        for hit in hits:
            matched = generation.chunk_records([hit.chunk_id])[hit.chunk_id]
            own = [(a, b) for h, a, b, _ in pool if h is hit]
            beyond += any(b <= matched.start or a >= matched.end for a, b in own)  # beyond the matched chunk
            assert all(a < hit.end and hit.start < b for a, b in own)
        assert beyond  # a passage that is one long sentence holds nothing beyond it
    finally:
        generation.close()


# Ten sentences of 100 characters each, back to back; passage size 1,000: firm 640, reach 1,800.
STARTS = [100 * i for i in range(10)]
ENDS = [100 * i + 100 for i in range(10)]


def test_a_passage_starts_one_sentence_before_its_best_and_stops_where_the_evidence_fades() -> None:
    evidence = np.full(10, 0.1)
    evidence[3] = 1.0
    lo, hi = sentence_run(STARTS, ENDS, evidence, 3, 1000)
    assert lo == 2  # one sentence of lead-in, then on after the best
    assert ENDS[hi] - STARTS[lo] >= 1000 * FIRM_SHARE and ENDS[hi - 1] - STARTS[lo] < 1000 * FIRM_SHARE


def test_a_passage_runs_on_to_its_reach_while_the_evidence_holds() -> None:
    evidence = np.full(10, 0.1)
    evidence[2:] = 1.0
    evidence[2 + 1] = 1.2
    lo, hi = sentence_run(STARTS, ENDS, evidence, 3, 1000)
    assert (lo, hi) == (2, 9)  # every sentence after the best keeps >= FADE of its evidence; it fits in the reach
    evidence[9] = 1.2 * FADE * 0.9  # one that fades past the firm 640 characters: the passage stops before it
    assert sentence_run(STARTS, ENDS, evidence, 3, 1000) == (2, 8)


def test_without_evidence_a_passage_grows_to_its_size_after_the_match_first() -> None:
    lo, hi = sentence_run(STARTS, ENDS, np.zeros(10), 8, 500)
    assert (lo, hi) == (5, 9)  # the sentence before, what is left after, then before until 500 characters
