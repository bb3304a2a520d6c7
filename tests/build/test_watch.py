"""The corpus watcher on real folders: real file-system events, real builds in a child process, the real model."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from policyqa import open_index
from policyqa.build.background_build import BuildPriority, BuildProcess
from policyqa.build.watch import CorpusWatcher, WatchSettings
from policyqa.index.store import open_store
from tests.conftest import BUNDLED_DOC
from tests.filemakers import make_pdf

QUICK = WatchSettings(quiet=0.5, longest_wait=5.0, catch_up=False)
WITHIN = 30.0  # the bound: a dropped file answers, a deleted one stops answering, within 30 s
NOTE = "# Kestrel rule\n\nThe Kestrel rule requires two-person approval for every firewall change.\n"


def indexed(index_dir: Path) -> set[str]:
    reader = open_store(index_dir).open_current()
    try:
        return {d.doc_id for d in reader.documents()}
    finally:
        reader.close()


def wait_for(condition: Callable[[], bool], timeout: float = WITHIN) -> float:
    """Seconds until `condition` held; fails the test after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not within {timeout:.0f} s")
        time.sleep(0.2)
    return time.monotonic() - started


@pytest.fixture
def index_dir(tmp_path: Path, bundled_index: Path) -> Path:
    """A private copy of the bundled index, built from the same files as the `corpus` fixture."""
    path = tmp_path / "index"
    shutil.copytree(bundled_index, path, ignore=shutil.ignore_patterns("lock"))
    return path


@pytest.fixture
def watched(corpus: Path, index_dir: Path) -> Iterator[tuple[CorpusWatcher, list[str]]]:
    lines: list[str] = []
    watcher = CorpusWatcher(corpus, index_dir, QUICK, log=lines.append).start()
    try:
        yield watcher, lines
    finally:
        watcher.stop()


def test_a_dropped_file_is_indexed_and_a_deleted_one_leaves_the_index(
    watched: tuple[CorpusWatcher, list[str]], corpus: Path, index_dir: Path
) -> None:
    watcher, _ = watched
    (corpus / "kestrel.md").write_text(NOTE, encoding="utf-8")
    wait_for(lambda: "kestrel.md" in indexed(index_dir))
    index = open_index(index_dir)
    assert index.search("two-person approval for firewall changes", k=1)[0].doc_id == "kestrel.md"
    assert watcher.wait_idle(WITHIN)  # the child has published; its report follows
    status = watcher.status()
    assert status.last_error is None and status.last_build_at is not None and "added 1" in (status.last_summary or "")

    (corpus / "kestrel.md").unlink()
    wait_for(lambda: "kestrel.md" not in indexed(index_dir))
    index.refresh()
    assert {h.doc_id for h in index.search("two-person approval for firewall changes", k=3)} == {BUNDLED_DOC}


def test_a_corrupt_pdf_is_reported_and_the_other_files_are_indexed(
    watched: tuple[CorpusWatcher, list[str]], corpus: Path, index_dir: Path
) -> None:
    watcher, lines = watched
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\ntruncated")
    (corpus / "kestrel.md").write_text(NOTE, encoding="utf-8")
    wait_for(lambda: "kestrel.md" in indexed(index_dir))
    wait_for(lambda: watcher.status().builds >= 1 and watcher.status().state == "idle")
    status = watcher.status()
    assert [s.split(":")[0] for s in status.last_skipped] == ["broken.pdf"], status
    assert "could not be read: broken.pdf" in status.message()
    assert "broken.pdf" not in indexed(index_dir) and any("broken.pdf" in line for line in lines)

    make_pdf(corpus / "broken.pdf", ["The Osprey clause bans shared administrator passwords."])  # repaired
    wait_for(lambda: "broken.pdf" in indexed(index_dir))
    wait_for(lambda: not watcher.status().last_skipped)


def test_a_failed_build_is_reported_and_the_next_change_recovers(
    watched: tuple[CorpusWatcher, list[str]], corpus: Path, index_dir: Path
) -> None:
    watcher, _ = watched
    before = indexed(index_dir)
    (corpus / BUNDLED_DOC).rename(corpus.parent / BUNDLED_DOC)  # no readable document left: the build refuses
    wait_for(lambda: watcher.status().last_error is not None)
    status = watcher.status()
    assert "no readable documents" in (status.last_error or "") and "build failed" in status.message()
    assert indexed(index_dir) == before  # the published index is kept, and still answers
    assert open_index(index_dir).search("peace agreement", k=1)[0].doc_id == BUNDLED_DOC

    (corpus / "kestrel.md").write_text(NOTE, encoding="utf-8")
    wait_for(lambda: indexed(index_dir) == {"kestrel.md"})
    wait_for(lambda: watcher.status().last_error is None)


def test_a_change_during_a_build_brings_exactly_one_more_build(
    watched: tuple[CorpusWatcher, list[str]], corpus: Path, index_dir: Path
) -> None:
    watcher, lines = watched
    (corpus / "long.txt").write_text("Long policy.\n\n" + "Records are kept for audit purposes. " * 4000)
    wait_for(lambda: watcher.status().state == "building")
    (corpus / "kestrel.md").write_text(NOTE, encoding="utf-8")
    (corpus / "osprey.md").write_text("# Osprey\n\nThe Osprey clause bans shared passwords.\n", encoding="utf-8")
    wait_for(lambda: watcher.status().pending)  # seen while the first build runs
    wait_for(lambda: {"long.txt", "kestrel.md", "osprey.md"} <= indexed(index_dir), timeout=120)
    assert watcher.wait_idle(60)
    status = watcher.status()
    assert status.builds == 2, lines  # the first build may already have read the new files: the second is then empty
    assert status.last_error is None and lines.count("indexing the changes…") == 2


def test_stop_ends_a_running_build_and_keeps_the_published_index(corpus: Path, index_dir: Path) -> None:
    published = open_store(index_dir).current_name()
    watcher = CorpusWatcher(corpus, index_dir, QUICK).start()
    (corpus / "long.txt").write_text("Long policy.\n\n" + "Records are kept for audit purposes. " * 8000)
    try:
        wait_for(lambda: watcher.status().state == "building")
        time.sleep(1.0)  # the child is loading or embedding
    finally:
        started = time.monotonic()
        watcher.stop()
    assert time.monotonic() - started < 10
    assert watcher.status().state == "stopped"
    assert open_store(index_dir).current_name() == published and indexed(index_dir) == {BUNDLED_DOC}


def test_the_build_process_runs_at_low_priority_on_fewer_cores(corpus: Path, index_dir: Path) -> None:
    """What the child process shows of itself in /proc while it builds: its niceness and its cores."""
    (corpus / "long.txt").write_text("Long policy.\n\n" + "Records are kept for audit purposes. " * 2000)
    build = BuildProcess(corpus, index_dir, BuildPriority(nice=7, cpus=1))
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(build.run)
        seen: dict[str, str] = {}
        while not running.done():
            proc = build._proc
            if proc is not None and proc.poll() is None:
                with contextlib.suppress(OSError):  # it may end between the two looks
                    seen = _proc_view(proc.pid)
            time.sleep(0.05)
        report = running.result()
    assert report.added == 1 and "long.txt" in indexed(index_dir)
    cores = len(os.sched_getaffinity(0))
    assert seen == {"nice": str(os.nice(0) + 7), "cpus": str(1 if cores > 1 else cores)}, seen


def _proc_view(pid: int) -> dict[str, str]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return {"nice": fields[16], "cpus": str(len(os.sched_getaffinity(pid)))}


def test_a_build_whose_server_is_killed_outright_stops_itself(corpus: Path, index_dir: Path) -> None:
    published = open_store(index_dir).current_name()
    (corpus / "long.txt").write_text("Long policy.\n\n" + "Records are kept for audit purposes. " * 8000)
    server = (  # a stand-in for a server: it starts a build, says the build's pid, and is then killed with SIGKILL
        "import sys, threading, time\n"
        "from policyqa.build.background_build import BuildProcess\n"
        "build = BuildProcess(sys.argv[1], sys.argv[2])\n"
        "threading.Thread(target=build.run, daemon=True).start()\n"
        "while build._proc is None: time.sleep(0.05)\n"
        "print(build._proc.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", server, str(corpus), str(index_dir)], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    time.sleep(1.0)
    assert _running(child)
    parent.kill()
    parent.wait(timeout=10)
    wait_for(lambda: not _running(child), timeout=10)
    assert open_store(index_dir).current_name() == published


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
