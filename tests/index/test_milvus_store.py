"""What only the Milvus store has: locations, versions behind an alias, document parts, the build lease, the
doctor's checks on collections, and a build killed with SIGKILL. Real milvus-lite files in temporary folders."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from policyqa import build_index, open_index
from policyqa.build.doctor import check_index
from policyqa.errors import BuildLockedError, PolicyQAError
from policyqa.index.credentials import StoreCredentials
from policyqa.index.milvus import schema
from policyqa.index.milvus.client import parse_location
from policyqa.index.milvus.lease import build_lease
from policyqa.index.milvus.store import MilvusStore
from policyqa.index.store import open_store
from tests.build.test_sync import _big_corpus
from tests.conftest import BUNDLED_CORPUS, BUNDLED_DOC, DOHA_QUESTION, REPO

pytest.importorskip("pymilvus", reason="the Milvus store's tests need the 'milvus' extra")


def lite(folder: Path, name: str = "index.db") -> str:
    return f"milvus://{folder}/{name}"


def test_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    where = parse_location(f"milvus://{tmp_path}/a.db?prefix=team_a")
    assert (where.lite_path, where.prefix) == (tmp_path / "a.db", "team_a")
    monkeypatch.chdir(tmp_path)
    assert parse_location("milvus://rel.db").lite_path == tmp_path / "rel.db"
    server = parse_location("https://milvus.example:19530")
    assert (server.uri, server.prefix, server.is_lite) == ("https://milvus.example:19530", "policyqa", False)
    with pytest.raises(PolicyQAError, match="ending in .db"):
        parse_location("milvus:///data/index")
    with pytest.raises(PolicyQAError, match="not a valid Milvus name"):
        parse_location("http://host:19530?prefix=bad-name")
    assert StoreCredentials().client_arguments() == {}  # where they come from: tests/test_settings.py
    assert StoreCredentials(user="ann", password="secret").client_arguments() == {"user": "ann", "password": "secret"}
    assert StoreCredentials("ann:secret", "ann", "secret").client_arguments() == {"token": "ann:secret"}


def test_missing_extra_names_it(tmp_path: Path) -> None:
    script = (
        "import sys; sys.modules['pymilvus'] = None\n"
        "from policyqa.index.store import open_store\n"
        "try:\n    open_store(sys.argv[1]).current_name()\nexcept Exception as exc:\n    print(exc)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    out = subprocess.run([sys.executable, "-c", script, lite(tmp_path)], capture_output=True, text=True, env=env)
    assert "policyqa[milvus]" in out.stdout


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, bundled_index: Path) -> tuple[str, str]:
    location = lite(tmp_path_factory.mktemp("parity"))
    build_index(BUNDLED_CORPUS, location)
    return str(bundled_index), location


def test_same_results_as_the_folder_store(both: tuple[str, str]) -> None:
    folder, milvus = (open_index(where) for where in both)
    for mode in ("dense", "bm25", "hybrid"):
        for query in (DOHA_QUESTION, "economic development of Afghanistan", "terrorism drug trafficking"):
            a, b = folder.search(query, k=5, mode=mode), milvus.search(query, k=5, mode=mode)
            assert [h.start for h in a] == [h.start for h in b], (mode, query)
            assert np.allclose([h.score for h in a], [h.score for h in b], atol=1e-4), (mode, query)
    f, m = (open_store(where).open_current() for where in both)
    words = ["Doha", "Afghanistan", "the", "zanzibar", "signed agreement"]
    assert np.allclose(f.idf(words), m.idf(words), atol=1e-6)
    assert [x[1] for x in m.idf(words)] == [True, True, True, False, True]
    assert folder.ask(DOHA_QUESTION).text == milvus.ask(DOHA_QUESTION).text


def test_long_document_is_stored_in_parts(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    paragraphs = [f"Paragraph {n}: the Ürümqi office reviews access rights of contractor {n}." for n in range(700)]
    text = "\n\n".join(paragraphs)
    assert len(text) > 3 * schema.PART_CHARS
    (corpus / "long.txt").write_text(text, encoding="utf-8")
    location = lite(tmp_path)
    build_index(corpus, location)
    reader = open_store(location).open_current()
    assert reader.document_text("long.txt") == text
    edge = schema.PART_CHARS
    assert reader.document_slice("long.txt", edge - 50, 2 * edge + 50) == text[edge - 50 : 2 * edge + 50]
    assert all(text[c.start : c.end] == c.text for c in reader.iter_chunks("long.txt"))
    assert check_index(location) == []


def test_publish_keeps_two_versions_and_a_held_reader_survives_one_publish(corpus: Path, tmp_path: Path) -> None:
    location = lite(tmp_path)
    build_index(corpus, location)
    store = MilvusStore(location)
    held = store.open_current()
    first = held.name
    for n in range(2):
        (corpus / f"extra{n}.md").write_text(f"# Extra {n}\n\nThe Kyoto rule number {n} applies.", encoding="utf-8")
        build_index(corpus, location)
        if n == 0:  # the previous version is kept: a reader that opened it still searches
            assert held.sparse_top("Afghanistan", 3) and held.document_text(BUNDLED_DOC)
    kept = schema.versions(store.client.list_collections(), "policyqa")
    assert len(kept) == 2 and first not in kept and store.current_name() in kept
    assert {d.doc_id for d in store.open_current().documents()} == {BUNDLED_DOC, "extra0.md", "extra1.md"}


def test_two_indexes_share_one_file_by_prefix(corpus: Path, tmp_path: Path) -> None:
    build_index(corpus, lite(tmp_path) + "?prefix=one")
    (corpus / BUNDLED_DOC).unlink()
    (corpus / "other.md").write_text("# Other\n\nThe Lima policy covers printers.", encoding="utf-8")
    build_index(corpus, lite(tmp_path) + "?prefix=two")
    assert [d.doc_id for d in open_index(lite(tmp_path) + "?prefix=one").documents()] == [BUNDLED_DOC]
    assert [d.doc_id for d in open_index(lite(tmp_path) + "?prefix=two").documents()] == ["other.md"]


def test_doctor_finds_damage_and_builds_repair_it(corpus: Path, tmp_path: Path) -> None:
    location = lite(tmp_path)
    build_index(corpus, location)
    assert check_index(location, corpus) == []
    store = MilvusStore(location)
    version = store.current_name()
    chunks = schema.collection(version, "chunks")
    row = store.client.get(chunks, ids=[2], output_fields=["*"])[0]
    row = {k: v for k, v in row.items() if k != "sparse"}
    store.client.upsert(chunks, [{**row, "start": row["start"] + 5, "end": row["end"] + 5}])
    store.client.delete(schema.collection(version, "sentences"), filter="chunk_id == 3")
    for kind in ("chunks", "sentences"):
        store.client.flush(schema.collection(version, kind))
    problems = [p.what for p in check_index(location) if p.is_error]
    assert any("do not reproduce their text" in p for p in problems), problems
    assert any("sentence vectors do not cover" in p and "1 missing (e.g. 3)" in p for p in problems), problems
    report = build_index(corpus, location)  # a damaged base is not copied forward
    assert "existing index unusable" in (report.full_rebuild_reason or "")
    assert check_index(location) == []


def test_a_live_lease_makes_a_second_build_wait_then_fail_naming_the_holder(corpus: Path, tmp_path: Path) -> None:
    location = lite(tmp_path)
    store = MilvusStore(location)
    messages: list[str] = []
    with build_lease(store.client, "policyqa", location, timeout=0):
        with pytest.raises(BuildLockedError, match=f"another build of .* is running \\({socket.gethostname()}:"):
            build_index(corpus, location, lock_timeout=0.6, log=messages.append)
        assert any("waiting" in m for m in messages)
    assert build_index(corpus, location).added == 1


def test_a_lease_of_a_dead_build_is_taken_over(corpus: Path, tmp_path: Path) -> None:
    location = lite(tmp_path)
    store = MilvusStore(location)
    name = schema.lease_collection("policyqa")
    schema.create_lease_collection(store.client, name)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    row = {"key": "build", "owner": f"{socket.gethostname()}:{dead.pid}", "token": "x", "expires": time.time() + 600}
    store.client.insert(name, [{**row, "placeholder": schema.PLACEHOLDER}])
    store.client.flush(name)
    messages: list[str] = []
    assert build_index(corpus, location, lock_timeout=0, log=messages.append).added == 1
    assert any(f"taking over the stale build lease of {row['owner']}" in m for m in messages)


BUILD = "import sys\nfrom policyqa import build_index\nbuild_index(sys.argv[1], sys.argv[2], progress=True)\n"


def _start_build(corpus: Path, location: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.Popen(
        [sys.executable, "-c", BUILD, str(corpus), location], stderr=subprocess.PIPE, text=True, env=env
    )


@pytest.mark.slow
def test_another_process_waits_for_a_running_build_or_fails_naming_it(corpus: Path, tmp_path: Path) -> None:
    location = lite(tmp_path)
    _big_corpus(corpus / "bulk", documents=10)
    child = _start_build(corpus, location)
    deadline, seen = time.monotonic() + 120, ""
    while "Batches" not in seen and time.monotonic() < deadline:
        seen += child.stderr.read(1)
    with pytest.raises(BuildLockedError, match=f"open in another process \\(pid {child.pid} "):
        build_index(corpus, location, lock_timeout=0.5)
    messages: list[str] = []
    waited = build_index(corpus, location, lock_timeout=300, log=messages.append)  # until the child is done
    assert child.wait() == 0 and any("waiting" in m for m in messages)
    assert (waited.unchanged, waited.generation) == (11, None)


@pytest.mark.slow
def test_killed_build_leaves_the_alias_on_the_old_version(corpus: Path, tmp_path: Path) -> None:
    location = lite(tmp_path)
    first = _start_build(corpus, location)
    assert first.wait() == 0, first.stderr.read()
    _big_corpus(corpus / "bulk", documents=12)
    child = _start_build(corpus, location)
    # milvus-lite makes a collection's folder first and counts the collection as existing once its schema.json is
    # written (milvus_lite/db.py list_collections): wait for that, or the kill may leave no unused version to note.
    half_written = tmp_path / "index.db" / "collections" / "policyqa_g000002_chunks" / "schema.json"
    deadline = time.monotonic() + 180
    while not half_written.exists() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.01)  # kill it as soon as it writes the new version
    assert child.poll() is None, "the build finished before it could be killed"
    child.send_signal(signal.SIGKILL)
    child.wait()
    store = MilvusStore(location)
    assert store.current_name() == "policyqa_g000001"
    idx = open_index(location)
    assert {d.doc_id for d in idx.documents()} == {BUNDLED_DOC}
    assert idx.search(DOHA_QUESTION, k=1)[0].doc_id == BUNDLED_DOC
    notes = check_index(location)
    assert notes and all(not p.is_error for p in notes) and "unused version" in notes[0].what
    messages: list[str] = []
    after = build_index(corpus, location, log=messages.append)
    assert (after.added, after.unchanged) == (12, 1) and any("stale build lease" in m for m in messages)
    assert check_index(location) == [] and len(open_index(location).documents()) == 13
    shutil.rmtree(tmp_path / "corpus" / "bulk")
