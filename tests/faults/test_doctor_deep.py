"""Issue 24 item 20: edits made consistently inside index.sqlite and vectors.faiss (text changed in a document and its
chunks at the same offsets; vectors shuffled between chunks with the file's checksum updated) pass every internal
check; the doctor finds them against the source files and the model."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from policyqa import build_index
from policyqa.build.doctor import check_index
from policyqa.index.faiss_sqlite.files import CHECKSUMS, DATABASE, VECTORS, current_generation_name, file_sha256

DOCS = {
    "backups.md": "# Backups\n\nBackups are kept for seven years in the Oslo vault.\n\n"
    "Tapes are shredded after the retention period ends.\n",
    "access.md": "# Access\n\nThe Lima office reviews access rights every quarter.\n\n"
    "Contractors lose access on their last working day.\n",
    "travel.txt": "Staff travel: laptops are encrypted before any trip abroad.\n",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("deep")
    (root / "corpus").mkdir()
    for name, text in DOCS.items():
        (root / "corpus" / name).write_text(text, encoding="utf-8")
    build_index(root / "corpus", root / "index", log=lambda _m: None)
    return root


def _copy(built: Path, into: Path) -> tuple[Path, Path, Path]:
    shutil.copytree(built / "corpus", into / "corpus")
    shutil.copytree(built / "index", into / "index", ignore=shutil.ignore_patterns("lock"))
    index = into / "index"
    return into / "corpus", index, index / current_generation_name(index)


def test_an_untouched_index_passes(built: Path) -> None:
    assert check_index(built / "index", built / "corpus") == []


def test_text_edited_consistently_in_the_database_is_found(built: Path, tmp_path: Path) -> None:
    corpus, index, generation = _copy(built, tmp_path)
    db = sqlite3.connect(generation / DATABASE)
    with db:  # same length: every chunk's offsets still reproduce its text
        for table in ("documents", "chunks"):
            db.execute(f"UPDATE {table} SET text = replace(text, 'seven', 'forty') WHERE doc_id = 'backups.md'")
    db.close()
    assert check_index(index) == []  # nothing inside the index disagrees
    problems = [p.what for p in check_index(index, corpus) if p.is_error]
    assert any("backups.md" in p and "source file" in p for p in problems), problems


def test_vectors_shuffled_with_their_checksum_updated_are_found(built: Path, tmp_path: Path) -> None:
    import faiss

    corpus, index, generation = _copy(built, tmp_path)
    vectors = faiss.read_index(str(generation / VECTORS))
    ids = faiss.vector_to_array(vectors.id_map).astype(np.int64)
    rows = np.stack([vectors.reconstruct(int(i)) for i in ids])
    shuffled = faiss.IndexIDMap2(faiss.IndexFlatIP(vectors.d))
    shuffled.add_with_ids(np.roll(rows, 1, axis=0), ids)  # every chunk gets its neighbour's vector: all unit, finite
    faiss.write_index(shuffled, str(generation / VECTORS))
    db = sqlite3.connect(generation / DATABASE)
    with db:
        checksums = json.loads(db.execute("SELECT value FROM manifest WHERE key = ?", [CHECKSUMS]).fetchone()[0])
        checksums[VECTORS] = file_sha256(generation / VECTORS)
        db.execute("UPDATE manifest SET value = ? WHERE key = ?", [json.dumps(checksums), CHECKSUMS])
    db.close()
    problems = [p.what for p in check_index(index, corpus) if p.is_error]
    assert any("embedded again" in p for p in problems), problems
