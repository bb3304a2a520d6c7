"""Issue 24 item 11: a damaged or unusable milvus-lite store says what is wrong and what to do, fast; `build --full`
repairs one whose data files were truncated; `milvus:relative.db` is refused, never made a folder store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import policyqa
from policyqa import build_index
from policyqa.errors import BuildLockedError, PolicyQAError
from policyqa.index.store import open_store

pytest.importorskip("pymilvus", reason="the Milvus store's tests need the 'milvus' extra")

DOC = "# Access\n\nThe Lima office reviews access rights every quarter.\n"


def _corpus(root: Path) -> Path:
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "access.md").write_text(DOC, encoding="utf-8")
    return corpus


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A fresh process: milvus-lite reads the data files when a process opens the store."""
    env = {**os.environ, "PYTHONPATH": str(Path(policyqa.__file__).parents[1])}  # the policyqa under test
    code = "import sys\nfrom policyqa.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


def test_build_full_repairs_a_store_whose_data_files_were_truncated(tmp_path: Path) -> None:
    corpus, location = _corpus(tmp_path), f"milvus://{tmp_path}/index.db"
    built = _cli("build", "--corpus", str(corpus), "--store", location, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    data = [p for p in (tmp_path / "index.db").rglob("*") if p.is_file() and p.suffix in (".parquet", ".idx")]
    assert data
    for path in data:
        os.truncate(path, 0)
    check = _cli("status", "--check", "--corpus", str(corpus), "--store", location, cwd=tmp_path)
    assert check.returncode != 0 and "build --full" in check.stdout + check.stderr
    repaired = _cli("build", "--full", "--corpus", str(corpus), "--store", location, cwd=tmp_path)
    assert repaired.returncode == 0, repaired.stderr
    assert "unexpected" not in repaired.stderr
    check = _cli("status", "--check", "--corpus", str(corpus), "--store", location, cwd=tmp_path)
    assert check.returncode == 0 and "index OK" in check.stdout, check.stdout + check.stderr
    found = _cli("search", "Who reviews access rights?", "--store", location, cwd=tmp_path)
    assert found.returncode == 0 and "access.md" in found.stdout, found.stderr


@pytest.mark.parametrize("shape", ["garbage file", "300-character name"])
def test_an_unusable_location_is_named_at_once_not_waited_for(tmp_path: Path, shape: str) -> None:
    corpus = _corpus(tmp_path)
    if shape == "garbage file":
        target = tmp_path / "index.db"
        target.write_bytes(os.urandom(5000))
        # a holder file of a process that is gone, as a killed build leaves it
        (tmp_path / "index.db.holder").write_text("pid 999999999 on nowhere\n", encoding="utf-8")
    else:
        target = tmp_path / ("a" * 297 + ".db")
    started = time.monotonic()
    with pytest.raises(PolicyQAError) as caught:
        build_index(corpus, f"milvus://{target}", lock_timeout=300, log=lambda _m: None)
    assert time.monotonic() - started < 30
    message = str(caught.value)
    assert not isinstance(caught.value, BuildLockedError) and "another process" not in message
    expected = "is a file, not a milvus-lite data folder" if shape == "garbage file" else "File name too long"
    assert expected in message and str(target) in message


@pytest.mark.parametrize("location", ["milvus:relative.db", "milvus:/abs/path.db"])
def test_a_milvus_location_without_slashes_is_refused(tmp_path: Path, location: str, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    corpus = _corpus(tmp_path)
    with pytest.raises(PolicyQAError, match="milvus://"):
        open_store(location).current_name()
    with pytest.raises(PolicyQAError, match="milvus://"):
        build_index(corpus, location, log=lambda _m: None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]
