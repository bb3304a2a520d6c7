"""Damage the doctor must see and a build must repair, pointers that must not brick the index, and messages that
must say what happened (issue 13, items 4, 7 and 10)."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import policyqa.index.faiss_sqlite.writer
from policyqa import build_index, open_index
from policyqa.build.doctor import check_index
from policyqa.cli import main as cli_main
from policyqa.errors import PolicyQAError
from policyqa.index.faiss_sqlite.files import CHECKSUMS, CURRENT, DATABASE, VECTORS
from policyqa.index.faiss_sqlite.sparse import BM25_DIR, ROW_IDS
from tests.conftest import REPO
from tests.faults.helpers import assert_sound, build_small_index, errors, private_copy

DOCS = {
    "leave.md": "# Leave\n\nStaff may carry over five days of annual leave into the next year.\n",
    "keys.txt": "Office keys are returned to the Tallinn front desk on the last working day.\n",
    "travel.md": "# Travel\n\nLaptops are encrypted before any trip abroad; the Kyoto form lists them.\n",
}
QUESTION = "How many days of annual leave can be carried over?"


def quiet(message: str) -> None:
    pass


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_index(tmp_path_factory.mktemp("integrity"), DOCS)


@pytest.fixture
def pair(built: Path, tmp_path: Path) -> tuple[Path, Path]:
    return private_copy(built, tmp_path)


def live(index: Path) -> Path:
    return index / (index / CURRENT).read_text().strip()


def overwrite(path: Path, offset_fraction: float, data: bytes) -> None:
    raw = bytearray(path.read_bytes())
    at = int(len(raw) * offset_fraction)
    raw[at : at + len(data)] = data
    path.write_bytes(bytes(raw))


def cli(*args: str) -> tuple[int, str, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(list(args))
    return code, out.getvalue(), err.getvalue()


# --- item 4: checksums and vector invariants ----------------------------------------------------------------


def test_overwritten_vector_bytes_are_found_and_a_build_rebuilds(pair: tuple[Path, Path]) -> None:
    corpus, index = pair
    overwrite(live(index) / VECTORS, 0.6, b"\x7f" * 192)  # floats of 3.4e38: they would rank first everywhere
    found = errors(check_index(index))
    assert any(VECTORS in p and "sha256" in p for p in found), found
    code, out, _ = cli("status", "--check", "--index", str(index), "--corpus", str(corpus))
    assert code == 1 and "index OK" not in out and VECTORS in out
    report = build_index(corpus, index, log=quiet)
    assert report.full_rebuild_reason and VECTORS in report.full_rebuild_reason
    assert_sound(index, corpus)
    assert open_index(index).search(QUESTION, k=1)[0].doc_id == "leave.md"


def test_vectors_that_are_not_unit_vectors_are_found_without_checksums(pair: tuple[Path, Path]) -> None:
    corpus, index = pair
    with sqlite3.connect(live(index) / DATABASE) as db:  # as an index written before checksums were recorded
        db.execute("DELETE FROM manifest WHERE key = ?", [CHECKSUMS])
    overwrite(live(index) / VECTORS, 0.6, b"\x7f" * 192)
    found = errors(check_index(index))
    assert any("not finite unit vectors" in p for p in found), found
    report = build_index(corpus, index, log=quiet)
    assert report.full_rebuild_reason and "unit vectors" in report.full_rebuild_reason
    assert_sound(index, corpus)


def test_flipped_bytes_in_a_bm25_array_are_found(pair: tuple[Path, Path]) -> None:
    corpus, index = pair
    arrays = sorted(p for p in (live(index) / BM25_DIR).glob("*.npy") if p.name != ROW_IDS)
    target = max(arrays, key=lambda p: p.stat().st_size)
    raw = bytearray(target.read_bytes())
    raw[-3] ^= 0x55  # inside the data, past the header: numpy still loads it
    target.write_bytes(bytes(raw))
    found = errors(check_index(index))
    assert any(target.name in p and "sha256" in p for p in found), found
    assert build_index(corpus, index, log=quiet).full_rebuild_reason
    assert_sound(index, corpus)


# --- item 10: clear messages for damaged BM25 files ---------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated to nothing", "flipped header byte"])
def test_a_damaged_bm25_file_is_a_clear_error(pair: tuple[Path, Path], damage: str) -> None:
    corpus, index = pair
    target = live(index) / BM25_DIR / ROW_IDS
    raw = bytearray(target.read_bytes())
    if damage == "truncated to nothing":  # numpy: EOFError "No data left in file"
        raw = bytearray()
    else:
        raw[10] ^= 0xFF  # numpy parses the damaged header with tokenize: TokenError
    target.write_bytes(bytes(raw))
    code, _, err = cli("search", QUESTION, "--index", str(index))
    assert code == 2 and "unexpected" not in err and "BM25" in err and "build --full" in err, err
    code, out, err = cli("status", "--check", "--index", str(index))
    assert code == 1 and "unexpected" not in out + err
    assert build_index(corpus, index, log=quiet).full_rebuild_reason
    assert_sound(index, corpus)


# --- item 7: CURRENT ------------------------------------------------------------------------------------------


def test_a_long_current_name_does_not_brick_the_index(pair: tuple[Path, Path]) -> None:
    corpus, index = pair
    (index / CURRENT).write_text("gen-" + "9" * 300 + "\n")
    code, out, err = cli("status", "--check", "--index", str(index))
    assert code == 1 and "unexpected" not in out + err and CURRENT in out
    code, _, err = cli("search", QUESTION, "--index", str(index))
    assert code == 2 and "unexpected" not in err and "build --full" in err
    code, out, err = cli("build", "--full", "--corpus", str(corpus), "--index", str(index))
    assert code == 0 and "unexpected" not in err, err
    assert_sound(index, corpus)
    (index / CURRENT).write_text("gen-" + "x" * 300)
    assert build_index(corpus, index, log=quiet).full_rebuild_reason  # a plain build starts over too
    assert_sound(index, corpus)


def test_current_as_a_folder_is_named_and_leaves_no_generation(pair: tuple[Path, Path]) -> None:
    corpus, index = pair
    (index / CURRENT).unlink()
    (index / CURRENT).mkdir()
    before = sorted(p.name for p in index.glob("gen-*"))
    for _ in range(2):
        code, _, err = cli("build", "--corpus", str(corpus), "--index", str(index))
        assert code == 2 and "is a folder" in err and "Free disk space" not in err, err
    assert sorted(p.name for p in index.glob("gen-*")) == before


def test_a_build_with_nothing_to_do_removes_leftovers(pair: tuple[Path, Path]) -> None:
    corpus, index = pair
    (index / "gen-000777.tmp").mkdir()
    (index / f"{CURRENT}.tmp").write_text("gen-000777\n")
    assert any("interrupted build" in p.what for p in check_index(index))
    assert build_index(corpus, index, log=quiet).generation is None
    assert not (index / "gen-000777.tmp").exists() and not (index / f"{CURRENT}.tmp").exists()
    assert not any("interrupted build" in p.what for p in check_index(index))


def test_a_short_write_on_a_full_disk_says_the_disk_is_full(
    pair: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, index = pair
    (corpus / "new.txt").write_text("A new rule about printers.\n")

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError("20815 requested and 8160 written")  # what numpy's tofile raises: no errno

    monkeypatch.setattr(policyqa.index.faiss_sqlite.writer, "write_bm25", full_disk)
    with pytest.raises(PolicyQAError, match="disk is full") as raised:
        build_index(corpus, index, log=quiet)
    assert os.strerror(errno.ENOSPC) in str(raised.value).replace("no space", "No space")


# --- item 10: a closed stdout pipe ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["status"], ["status", "--json"], ["search", QUESTION]])
def test_output_into_a_closed_pipe_is_not_an_error(pair: tuple[Path, Path], command: list[str]) -> None:
    corpus, index = pair
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -1` once head has exited
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "HF_HUB_OFFLINE": "1"}
    args = [*command, "--index", str(index)] + (["--corpus", str(corpus)] if command[0] == "status" else [])
    done = subprocess.run(
        [sys.executable, "-m", "policyqa.cli", *args], stdout=write_end, stderr=subprocess.PIPE, env=env, timeout=300
    )
    os.close(write_end)
    assert done.returncode == 0 and done.stderr == b"", done.stderr.decode(errors="replace")
