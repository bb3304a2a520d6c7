"""The index doctor (`policyqa status --check`) on a real built index that tests then damage in known ways."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import pytest

from policyqa.build.doctor import Problem, check_index
from policyqa.cli import main as cli_main
from policyqa.index.faiss_sqlite.files import CURRENT, DATABASE, VECTORS

Tamper = Callable[[Path], None]


@pytest.fixture
def index(bundled_index: Path, tmp_path: Path) -> Path:
    """A private copy of the session's bundled index (built from the same files as the `corpus` fixture)."""
    path = tmp_path / "index"
    shutil.copytree(bundled_index, path)
    return path


def live(index: Path) -> Path:
    return index / (index / CURRENT).read_text().strip()


def sql(index: Path, statement: str, *args: object) -> None:
    with sqlite3.connect(live(index) / DATABASE) as db:
        db.execute(statement, args)


def remove_one_vector(index: Path) -> None:
    """Rewrite vectors.faiss without one chunk's vector: a valid file that disagrees with SQLite."""
    path = live(index) / VECTORS
    vectors = faiss.read_index(str(path))
    victim = int(faiss.vector_to_array(vectors.id_map)[3])
    assert vectors.remove_ids(np.array([victim], dtype=np.int64)) == 1
    faiss.write_index(vectors, str(path))


def shift_chunk_offsets(index: Path) -> None:
    sql(index, 'UPDATE chunks SET start = start + 5, "end" = "end" + 5 WHERE id = (SELECT MIN(id) FROM chunks)')


def truncate_vectors(index: Path) -> None:
    path = live(index) / VECTORS
    path.write_bytes(path.read_bytes()[:1000])


def garbage_current(index: Path) -> None:
    (index / CURRENT).write_text("this is not a generation\n", encoding="utf-8")


def other_model(index: Path) -> None:
    with sqlite3.connect(live(index) / DATABASE) as db:
        model = json.loads(db.execute("SELECT value FROM manifest WHERE key = 'model'").fetchone()[0])
        model["name"] = "some-other-model"
        db.execute("UPDATE manifest SET value = ? WHERE key = 'model'", [json.dumps(model)])


def reverse_bm25_rows(index: Path) -> None:
    path = live(index) / "bm25" / "chunk_ids.npy"
    np.save(path, np.load(path, allow_pickle=False)[::-1].copy(), allow_pickle=False)


def orphan_chunk(index: Path) -> None:
    sql(index, "UPDATE chunks SET doc_id = 'ghost.txt' WHERE id = (SELECT MAX(id) FROM chunks)")


def corrupt_sqlite_page(index: Path) -> None:
    path = live(index) / DATABASE
    with sqlite3.connect(path) as db:
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'chunks'").fetchone()[0]
        size = db.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(path.read_bytes())
    data[(root - 1) * size + 8 : root * size] = b"\x5a" * (size - 8)
    path.write_bytes(bytes(data))


def drop_sentence_vectors(index: Path) -> None:
    sql(index, "DELETE FROM sentences WHERE chunk_id = (SELECT MIN(id) FROM chunks)")


def damage_sentence_vector(index: Path) -> None:
    nan = np.full(384, np.nan, dtype="<f4").tobytes()
    sql(index, "UPDATE sentences SET vector = ? WHERE rowid = (SELECT MIN(rowid) FROM sentences)", nan)


def delete_current(index: Path) -> None:
    (index / CURRENT).unlink()


TAMPERS: dict[str, tuple[Tamper, str]] = {  # name -> (damage, words the doctor's report must contain)
    "FAISS vector deleted": (remove_one_vector, "vector(s) but SQLite has"),
    "chunk offsets changed": (shift_chunk_offsets, "offsets do not reproduce their text"),
    "vectors.faiss truncated": (truncate_vectors, "cannot be opened"),
    "garbage CURRENT": (garbage_current, "names 'this is not a generation'"),
    "manifest names another model": (other_model, 'built with model "some-other-model"'),
    "BM25 rows out of order": (reverse_bm25_rows, "chunk_ids.npy"),
    "chunk of no document": (orphan_chunk, "belong to no document"),
    "SQLite page corrupt": (corrupt_sqlite_page, "corrupt"),
    "CURRENT missing": (delete_current, "no index"),
    "sentence vectors missing": (drop_sentence_vectors, "have no sentence vectors"),
    "sentence vector not finite": (damage_sentence_vector, "sentence vector(s) damaged"),
}


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


def status_check(index: Path, corpus: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = cli_main(["status", "--check", "--index", str(index), "--corpus", str(corpus), *extra])
    return code, capsys.readouterr().out


def test_intact_index_is_ok(bundled_store: str, corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = bundled_store  # either store; not modified
    assert check_index(index, corpus) == []
    assert status_check(index, corpus, capsys) == (0, "index OK\n")
    code, out = status_check(index, corpus, capsys, "--json")
    assert code == 0 and json.loads(out) == {"ok": True, "problems": []}


@pytest.mark.parametrize("name", TAMPERS)
def test_doctor_reports_damage_and_full_build_repairs_it(
    name: str, index: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper, expected = TAMPERS[name]
    tamper(index)

    found = errors(check_index(index, corpus))
    assert found, f"the doctor missed: {name}"
    assert any(expected in p.what for p in found), [p.what for p in found]
    assert all("policyqa build" in p.how_to_fix for p in found)
    code, out = status_check(index, corpus, capsys)
    assert code == 1 and out.startswith(f"index has {len(found)} problem(s):")
    assert expected in out and "to fix: run `policyqa build" in out
    code, out = status_check(index, corpus, capsys, "--json")
    assert code == 1 and json.loads(out)["ok"] is False

    capsys.readouterr()
    assert cli_main(["build", "--full", "--corpus", str(corpus), "--index", str(index)]) == 0
    assert check_index(index, corpus) == []
    assert status_check(index, corpus, capsys) == (0, "index OK\n")


@pytest.mark.parametrize("name", ["FAISS vector deleted", "chunk offsets changed", "BM25 rows out of order"])
def test_plain_build_also_repairs_damage_it_would_otherwise_copy_forward(
    name: str, index: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    TAMPERS[name][0](index)
    assert cli_main(["build", "--corpus", str(corpus), "--index", str(index)]) == 0
    assert "full rebuild: existing index unusable" in capsys.readouterr().err
    assert check_index(index, corpus) == []


def test_leftovers_and_staleness_are_notes_not_failures(
    index: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (index / "gen-000007.tmp").mkdir()
    (index / f"{CURRENT}.tmp").write_text("gen-000007\n", encoding="utf-8")
    (corpus / "new.md").write_text("# New\n\nA new retention rule.\n", encoding="utf-8")
    problems = check_index(index, corpus)
    assert errors(problems) == [] and len(problems) == 2
    assert "gen-000007.tmp" in problems[0].what and "CURRENT.tmp" in problems[0].what
    assert "stale" in problems[1].what and "1 added" in problems[1].what
    code, out = status_check(index, corpus, capsys)
    assert code == 0 and out.startswith("index OK\n") and "note: an interrupted build left" in out
    assert check_index(index) == problems[:1], "no corpus: no staleness note"

    capsys.readouterr()
    assert cli_main(["build", "--corpus", str(corpus), "--index", str(index)]) == 0
    assert check_index(index, corpus) == []


def test_model_mismatch_is_judged_against_the_configured_model(bundled_store: str, tmp_path: Path) -> None:
    from policyqa.embed.embedder import bundled_model_dir

    index = bundled_store  # either store; not modified
    other = tmp_path / "other-model"
    shutil.copytree(bundled_model_dir(), other)
    found = errors(check_index(index, model=other))
    assert len(found) == 1 and "built with model" in found[0].what and str(other) in found[0].what
    assert check_index(index) == []
