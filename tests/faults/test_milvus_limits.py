"""Issue 24 items 4 and 10: ordinary documents that pass a Milvus field limit, and file names with control
characters, on a real milvus-lite store beside the folder store (which indexes them all)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from policyqa import build_index, open_index
from policyqa.build.doctor import check_index
from policyqa.index.milvus import schema
from policyqa.index.store import open_store

pytest.importorskip("pymilvus", reason="the Milvus store's tests need the 'milvus' extra")

LONG_TOKEN = "k" * 1500  # a BM25 meta key "df:<term>" holds 1,024 bytes
HUGE_HEADING = "word " * 14_000  # 70,000 characters; a VARCHAR holds 65,535 bytes
CONTROL_NAME = "memo\u0001draft.txt"  # a control character in a filter expression
HOSTILE = {
    "normal.md": "# Access\n\nThe Lima office reviews access rights every quarter.\n",
    "token.txt": f"The key is {LONG_TOKEN} and it is long.\n\nSecond paragraph about the Oslo vault.\n",
    "heading.md": f"# {HUGE_HEADING}\n\nBody text under the huge heading about Nairobi badges.\n",
    # 4,000 headings: the document's info JSON is some 200 KB
    "headings.md": "\n\n".join(f"# Heading number {n}\n\nBody {n} of the Quito rules." for n in range(4000)),
    "bigline.txt": "Intro line about the Kyoto laptops.\n\n" + "x" * 3_000_000 + "\n",  # one 3 MB chunk
}
NAMED = {"normal.md": HOSTILE["normal.md"], CONTROL_NAME: "The Reykjavik draft memo says visitors sign the register.\n"}
QUERIES = ["Lima access rights", LONG_TOKEN, "Nairobi badges", "Heading number 3999 Quito", "Kyoto laptops"]


def _both(root: Path, docs: dict[str, str]) -> tuple[Path, str, str]:
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in docs.items():
        (corpus / name).write_text(text, encoding="utf-8")
    folder, milvus = str(root / "index"), f"milvus://{root}/index.db"
    build_index(corpus, folder, log=lambda _m: None)
    report = build_index(corpus, milvus, log=lambda _m: None)
    assert report.added == len(docs) and report.skipped == 0, report.summary()
    return corpus, folder, milvus


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    return _both(tmp_path_factory.mktemp("limits"), HOSTILE)


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    return _both(tmp_path_factory.mktemp("named"), NAMED)


def test_documents_past_milvus_field_limits_are_all_indexed(stores: tuple[Path, str, str]) -> None:
    _corpus, folder, milvus = stores
    reader = open_store(milvus).open_current()
    assert {d.doc_id for d in reader.documents()} == set(HOSTILE)
    assert check_index(milvus) == []
    headings = reader.document("headings.md")
    assert headings is not None and len(headings.headings) == 4000
    big = [c for c in reader.iter_chunks("bigline.txt") if len(c.text) > schema.MAX_VARCHAR]
    assert big and all(c.text == HOSTILE["bigline.txt"][c.start : c.end] for c in big)
    assert reader.chunk_records([big[0].id])[big[0].id].text == big[0].text
    heading = {c.heading for c in reader.iter_chunks("heading.md")} - {None}
    assert heading and all(len(h.encode()) <= schema.MAX_VARCHAR and h.endswith(schema.MARKER) for h in heading)


def test_both_stores_find_the_same_passages(stores: tuple[Path, str, str]) -> None:
    _corpus, folder, milvus = stores
    a, b = open_index(folder), open_index(milvus)
    for mode in ("bm25", "dense", "hybrid"):
        for query in QUERIES:
            x, y = a.search(query, k=3, mode=mode), b.search(query, k=3, mode=mode)
            assert [(h.doc_id, h.start) for h in x] == [(h.doc_id, h.start) for h in y], (mode, query[:40])
            assert np.allclose([h.score for h in x], [h.score for h in y], atol=1e-4), (mode, query[:40])
    assert b.search(LONG_TOKEN, k=1, mode="bm25")[0].doc_id == "token.txt"
    f, m = (open_store(where).open_current() for where in (folder, milvus))
    assert np.allclose(f.idf([LONG_TOKEN, "Quito"]), m.idf([LONG_TOKEN, "Quito"]), atol=1e-6)


def test_a_control_character_in_a_file_name_filters_and_rebuilds_nothing(named: tuple[Path, str, str]) -> None:
    corpus, _folder, milvus = named
    assert check_index(milvus) == []
    idx = open_index(milvus)
    hits = idx.search("Who signs the register?", k=3, doc_ids=[CONTROL_NAME])
    assert hits and {h.doc_id for h in hits} == {CONTROL_NAME}
    reader = open_store(milvus).open_current()
    assert "Reykjavik" in (reader.document_text(CONTROL_NAME) or "")
    assert [c.doc_id for c in reader.iter_chunks(CONTROL_NAME)] and reader.page_map(CONTROL_NAME) is not None
    again = build_index(corpus, milvus, log=lambda _m: None)  # not a full rebuild: the base reads back
    assert (again.full_rebuild_reason, again.generation, again.unchanged) == (None, None, len(NAMED))


@pytest.mark.parametrize("value", ["plain", 'say "hi"', "back\\slash", "tab\there", "line\nbreak", "\u0001\u001f\x7f"])
def test_quoted_filter_values_round_trip(named: tuple[Path, str, str], value: str) -> None:
    """Every string reaches Milvus as itself: a filter on the key of a meta row finds exactly that row."""
    _corpus, _folder, milvus = named
    store = open_store(milvus)
    meta = schema.collection(store.current_name(), "meta")
    key = f"probe:{value}"
    store.client.insert(meta, [{"key": key, "value": "x", "placeholder": schema.PLACEHOLDER}])
    try:
        rows = store.client.query(meta, filter=f"key in {schema.expr_list([key])}", output_fields=["key"])
        assert [r["key"] for r in rows] == [key]
        rows = store.client.query(meta, filter=f"key == {schema.quote(key)}", output_fields=["key"])
        assert [r["key"] for r in rows] == [key]
    finally:
        store.client.delete(meta, filter=f"key == {schema.quote(key)}")
