"""Generation folders over many builds (issue 24 items 19 and 22): numbers past six digits, and the files of deleted
generations closed as soon as nothing uses them (not when the cycle collector happens to run)."""

from __future__ import annotations

import gc
import os
from pathlib import Path

from policyqa import build_index, open_index
from policyqa.build.doctor import check_index
from policyqa.index.faiss_sqlite.files import CURRENT, current_generation_name

DOC = "# Backups\n\nBackups are kept for {n} days in the Oslo vault.\n"


def _corpus(root: Path) -> Path:
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "backups.md").write_text(DOC.format(n=0), encoding="utf-8")
    (corpus / "access.md").write_text("# Access\n\nThe Lima office reviews access rights every quarter.\n")
    return corpus


def test_generation_numbers_go_past_six_digits(tmp_path: Path) -> None:
    corpus, index = _corpus(tmp_path), tmp_path / "index"
    build_index(corpus, index, log=lambda _m: None)
    live = current_generation_name(index)
    (index / live).rename(index / "gen-999999")
    (index / CURRENT).write_text("gen-999999\n", encoding="utf-8")
    names = []
    for n in range(1, 4):
        (corpus / "backups.md").write_text(DOC.format(n=n), encoding="utf-8")
        names.append(build_index(corpus, index, log=lambda _m: None).generation)
    assert names == ["gen-1000000", "gen-1000001", "gen-1000002"]
    kept = sorted(p.name for p in index.iterdir() if p.name.startswith("gen-"))
    assert kept == ["gen-1000001", "gen-1000002"]  # the newest two by number, not by name
    assert check_index(index, corpus) == []
    assert "3 days" in open_index(index).search("How long are backups kept?", k=1)[0].text


def _open_deleted_files(folder: Path) -> list[str]:
    """This process's file descriptors and memory maps on files under `folder` that were deleted."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)) and target.endswith("(deleted)"):
            found.append(target)
    with open("/proc/self/maps", encoding="utf-8") as maps:  # memory-mapped BM25 arrays hold disk space too
        found += [line.split(None, 5)[-1].strip() for line in maps if str(folder) in line and "(deleted)" in line]
    return found


def test_deleted_generations_are_closed_without_the_cycle_collector(tmp_path: Path) -> None:
    corpus, index = _corpus(tmp_path), tmp_path / "index"
    build_index(corpus, index, log=lambda _m: None)
    idx = open_index(index)
    gc.collect()
    gc.disable()  # what a server idle between requests sees: collections happen only now and then
    try:
        for n in range(1, 7):
            (corpus / "backups.md").write_text(DOC.format(n=n), encoding="utf-8")
            build_index(corpus, index, log=lambda _m: None)
            assert idx.refresh()
            for mode in ("hybrid", "bm25", "dense"):  # fills the generation's caches, as searches do
                assert idx.search("How long are backups kept in the Oslo vault?", k=2, mode=mode)
            idx.ask("How long are backups kept?")
        assert _open_deleted_files(index) == []
    finally:
        gc.enable()
