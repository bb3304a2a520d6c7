"""Shared pieces of the fault tests: a small two-state corpus, child-process drivers, index snapshots."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from policyqa.build.doctor import Problem, check_index
from policyqa.index.faiss_sqlite.generation import Generation
from tests.build.test_sync import assert_consistent
from tests.conftest import BUNDLED_CORPUS, BUNDLED_DOC, REPO

DRIVER = Path(__file__).with_name("driver.py")

# The "old" corpus: the bundled report plus two small policies. The "new" one deletes one policy, edits the other
# and adds three documents, so an index that mixed the two states would show it in its document set.
RETIRED = ("retired.md", "# Retired rule\n\nThe Lisbon memo required fax copies of every consent form.\n")
EDITED_V1 = ("edited.md", "# Backups\n\nBackups are kept for seven years in the Oslo vault.\n")
EDITED_V2 = ("edited.md", "# Backups\n\nBackups are kept for ninety days in the Reykjavik vault and then shredded.\n")
ADDED = {
    "policies/alpha.md": "# Vendor audits\n\nThe Zanzibar clause requires quarterly audits of vendor encryption keys.",
    "policies/beta.txt": "Staff travel: the Kyoto protocol for laptops says disks are encrypted before any trip.\n",
    "policies/gamma.html": "<html><body><h1>Visitors</h1><p>Visitors to the Nairobi office sign the badge register."
    "</p><p>Badges are returned at the front desk.</p></body></html>",
}
NEW_FACTS = {  # query -> document that must answer it once the new state is indexed
    "Which clause requires quarterly audits of vendor encryption keys?": "policies/alpha.md",
    "How long are backups kept in the Reykjavik vault?": "edited.md",
}
QUERIES = [*NEW_FACTS, "Where was the peace agreement signed?", "How long are backups kept?"]


def build_small_index(root: Path, docs: dict[str, str]) -> Path:
    """`docs` (name → text) written to root/corpus and indexed into root/index, once per test module."""
    from policyqa import build_index

    (root / "corpus").mkdir()
    for name, text in docs.items():
        (root / "corpus" / name).write_text(text, encoding="utf-8")
    build_index(root / "corpus", root / "index", log=lambda _m: None)
    return root


def private_copy(built: Path, into: Path) -> tuple[Path, Path]:
    """A test's own (corpus, index) copied from a module's built pair, which it may then damage or change."""
    shutil.copytree(built / "corpus", into / "corpus")
    shutil.copytree(built / "index", into / "index", ignore=shutil.ignore_patterns("lock"))
    return into / "corpus", into / "index"


def write_old_corpus(path: Path) -> Path:
    shutil.copytree(BUNDLED_CORPUS, path)
    for name, text in (RETIRED, EDITED_V1):
        (path / name).write_text(text, encoding="utf-8")
    return path


def apply_new_state(corpus: Path) -> None:
    (corpus / RETIRED[0]).unlink()
    (corpus / EDITED_V2[0]).write_text(EDITED_V2[1], encoding="utf-8")
    for name, text in ADDED.items():
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        (corpus / name).write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class Snapshot:
    """What an index holds, independent of chunk ids and generation names."""

    documents: dict[str, str]  # doc_id -> sha256
    chunk_texts: Counter[str]

    @classmethod
    def of(cls, index_dir: Path) -> Snapshot:
        generation = Generation.open_current(index_dir)
        try:
            return cls(
                {d.doc_id: d.sha256 for d in generation.documents()},
                Counter(c.text for c in generation.iter_chunks()),
            )
        finally:
            generation.close()


@dataclass(frozen=True)
class Scenario:
    old_index: Path  # built from the old corpus; copy it, never change it
    old: Snapshot
    new: Snapshot
    new_chunks: int
    replay: Path  # texts.json + vectors.npy for the driver's --replay


def make_scenario(root: Path) -> Scenario:
    """Build the old index and, from a copy, the new one; cache every vector the children will need."""
    from policyqa import build_index, open_index

    quiet = _quiet
    corpus = write_old_corpus(root / "corpus")
    old_index = root / "old-index"
    build_index(corpus, old_index, log=quiet)
    new_index = root / "new-index"
    shutil.copytree(old_index, new_index)
    apply_new_state(corpus)
    report = build_index(corpus, new_index, log=quiet)
    idx = open_index(new_index)
    texts = [c.text for c in idx.chunks()]
    vectors = [idx.generation.vectors.reconstruct(c.id) for c in idx.chunks()]
    texts += QUERIES
    vectors += list(idx.encode_texts(QUERIES))
    replay = root / "replay"
    replay.mkdir()
    (replay / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
    np.save(replay / "vectors.npy", np.asarray(vectors, dtype=np.float32), allow_pickle=False)
    return Scenario(old_index, Snapshot.of(old_index), Snapshot.of(new_index), report.chunks_total, replay)


def _quiet(message: str) -> None:
    pass


def fresh_copy(scenario: Scenario, root: Path, new_state: bool = True) -> tuple[Path, Path]:
    """A private (corpus, index) pair: the old index, and the corpus already changed to the new state."""
    root.mkdir(parents=True, exist_ok=True)
    corpus = write_old_corpus(root / "corpus")
    if new_state:
        apply_new_state(corpus)
    index = root / "index"
    shutil.copytree(scenario.old_index, index)
    return corpus, index


class Child:
    """A driver subprocess whose stdout and stderr lines are collected by background threads."""

    def __init__(self, *args: str):
        env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + str(REPO), "HF_HUB_OFFLINE": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, str(DRIVER), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
            cwd=REPO,
        )
        self.lines: queue.Queue[tuple[str, str]] = queue.Queue()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        for stream, name in ((self.proc.stdout, "out"), (self.proc.stderr, "err")):
            threading.Thread(target=self._pump, args=(stream, name), daemon=True).start()

    def _pump(self, stream: object, name: str) -> None:
        for line in stream:  # type: ignore[attr-defined]
            (self.stdout if name == "out" else self.stderr).append(line)
            self.lines.put((name, line))
        self.lines.put((name, ""))

    def wait_for(self, text: str, timeout: float = 120.0) -> str:
        """The first line (stdout or stderr) containing `text`; fails if the child ends or time runs out first."""
        deadline = time.monotonic() + timeout
        closed = 0
        while time.monotonic() < deadline:
            try:
                _, line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if text in line:
                return line
            closed += line == ""
            if closed == 2:
                break
        self.kill()
        raise AssertionError(f"child never printed {text!r}; stderr:\n{''.join(self.stderr)[-3000:]}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()  # SIGKILL: no cleanup, no finally blocks, no atexit
        self.proc.wait(timeout=30)

    def finish(self, timeout: float = 120.0) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        time.sleep(0.05)  # let the pump threads drain the pipes
        return code

    @property
    def err(self) -> str:
        return "".join(self.stderr)

    @property
    def out(self) -> str:
        return "".join(self.stdout)


def errors(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems if p.is_error]


def assert_sound(index_dir: Path, corpus_dir: Path | None = None) -> set[int]:
    """The doctor finds no error and FAISS and SQLite hold the same chunk ids (tests.build.test_sync's check)."""
    assert errors(check_index(index_dir, corpus_dir)) == []
    return assert_consistent(index_dir)


def assert_new_state_searchable(index_dir: Path, scenario: Scenario) -> None:
    from policyqa import open_index

    assert Snapshot.of(index_dir) == scenario.new
    idx = open_index(index_dir)
    assert len(idx) == scenario.new_chunks
    for query, doc_id in NEW_FACTS.items():
        assert idx.search(query, k=1)[0].doc_id == doc_id, query
    assert idx.search("Where was the peace agreement signed?", k=1)[0].doc_id == BUNDLED_DOC
