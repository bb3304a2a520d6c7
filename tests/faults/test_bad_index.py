"""Damaged index files and an index of another format version: a clear IndexFormatError, then `build` recovers."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from policyqa import build_index, open_index
from policyqa.cli import main as cli_main
from policyqa.errors import IndexFormatError
from policyqa.index.faiss_sqlite.files import CURRENT, DATABASE, VECTORS
from tests.faults.helpers import assert_sound

DOCS = {
    "leave.md": "# Leave\n\nStaff may carry over five days of annual leave into the next year.\n",
    "keys.txt": "Office keys are returned to the Tallinn front desk on the last working day.\n",
}
QUESTION = "How many days of annual leave can be carried over?"


def quiet(message: str) -> None:
    pass


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tiny")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in DOCS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    build_index(corpus, root / "index", log=quiet)
    return corpus, root / "index"


def generation(index: Path) -> Path:
    return index / (index / CURRENT).read_text().strip()


def truncate(name: str, keep: float) -> Callable[[Path], None]:
    def tamper(index: Path) -> None:
        path = generation(index) / name
        path.write_bytes(path.read_bytes()[: int(path.stat().st_size * keep)])

    return tamper


def set_manifest(key: str, raw_value: str) -> Callable[[Path], None]:
    def tamper(index: Path) -> None:
        with sqlite3.connect(generation(index) / DATABASE) as db:
            db.execute("UPDATE manifest SET value = ? WHERE key = ?", [raw_value, key])

    return tamper


def smash_chunks_table(index: Path) -> None:
    """Overwrite the chunks table's root page with garbage: the file still opens, reading chunks fails."""
    path = generation(index) / DATABASE
    with sqlite3.connect(path) as db:
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'chunks'").fetchone()[0]
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(path.read_bytes())
    data[(root - 1) * page_size : root * page_size] = b"\xa5" * page_size
    path.write_bytes(bytes(data))


def write_current(content: bytes) -> Callable[[Path], None]:
    def tamper(index: Path) -> None:
        (index / CURRENT).write_bytes(content)

    return tamper


def garbage_bm25_ids(index: Path) -> None:
    (generation(index) / "bm25" / "chunk_ids.npy").write_bytes(b"\x93NUMPY garbage, not an array")


def drop_bm25(index: Path) -> None:
    shutil.rmtree(generation(index) / "bm25")


TAMPERS: dict[str, Callable[[Path], None]] = {
    "vectors.faiss truncated to half": truncate(VECTORS, 0.5),
    "vectors.faiss empty": truncate(VECTORS, 0),
    "index.sqlite truncated to half": truncate(DATABASE, 0.5),
    "index.sqlite empty": truncate(DATABASE, 0),
    "index.sqlite chunks page overwritten": smash_chunks_table,
    "bm25 chunk_ids.npy garbage": garbage_bm25_ids,
    "bm25 folder deleted": drop_bm25,
    "format_version 1 (older policyqa)": set_manifest("format_version", "1"),
    "format_version 99 (newer policyqa)": set_manifest("format_version", "99"),
    "manifest value not JSON": set_manifest("model", "{not json"),
    "CURRENT garbage text": write_current(b"hello world\n"),
    "CURRENT binary": write_current(b"\xff\xfe\x00\x9c gen-\x00\x01"),
    "CURRENT names a missing generation": write_current(b"gen-000999\n"),
    "CURRENT points outside the index": write_current(b"../../../etc\n"),
}


@pytest.mark.parametrize("name", TAMPERS)
def test_damaged_index_gives_clear_error_then_build_recovers(
    name: str, tiny: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, pristine = tiny
    index = tmp_path / "index"
    shutil.copytree(pristine, index)
    TAMPERS[name](index)

    with pytest.raises(IndexFormatError, match="policyqa build") as raised:
        open_index(index).search(QUESTION, k=1)
    if "format_version" in name:
        assert "format version" in str(raised.value)
    capsys.readouterr()
    assert cli_main(["search", QUESTION, "--index", str(index)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "policyqa build" in err and "unexpected" not in err

    messages: list[str] = []
    report = build_index(corpus, index, log=messages.append)  # no --full: build notices and rebuilds fully
    assert report.full_rebuild_reason and "unusable" in report.full_rebuild_reason, report.full_rebuild_reason
    assert any(m.startswith("full rebuild:") for m in messages)
    assert (report.added, report.documents_total) == (len(DOCS), len(DOCS))
    assert_sound(index, corpus)
    assert open_index(index).search(QUESTION, k=1)[0].doc_id == "leave.md"


def test_format_version_edit_in_a_copy_leaves_the_original_readable(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    _, pristine = tiny
    index = tmp_path / "index"
    shutil.copytree(pristine, index)
    set_manifest("format_version", json.dumps(1))(index)
    with pytest.raises(IndexFormatError, match=r"format version 1, this policyqa reads \d+"):
        open_index(index)
    assert open_index(pristine).search(QUESTION, k=1)[0].doc_id == "leave.md"
