"""`build --ray` on a real local Ray instance (2 CPUs, started once for this module) with the real bundled model:
the same index as the single-process build, one failing file skipped alone, failures of the run itself clear."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import ray

from policyqa import build_index
from policyqa.build.ray_ingest import ingest_on_ray
from policyqa.embed.embedder import Embedder
from policyqa.errors import PolicyQAError
from policyqa.index.store import open_store
from policyqa.ingest.chunking import ChunkSettings
from policyqa.ingest.documents import CorpusFile, scan_corpus
from tests.conftest import REPO

LEAVE = "# Leave\n\nStaff get 25 days of leave. Managers approve it.\n\n## Carry-over\n\nUnused days lapse in March.\n"
SECURITY = (
    "Information security policy\n\nAll laptops use full-disk encryption. Passwords are rotated every 90 days; "
    "reused passwords are refused. " * 30
)
HTML = "<html><head><title>Travel</title></head><body><h1>Travel</h1><p>Economy class for flights under six hours.</p>"


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    (corpus / "hr").mkdir(parents=True)
    (corpus / "hr" / "leave.md").write_text(LEAVE, encoding="utf-8")
    (corpus / "security.txt").write_text(SECURITY, encoding="utf-8")
    (corpus / "travel.html").write_text(HTML + "<p>Receipts within 30 days.</p></body></html>", encoding="utf-8")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a PDF")
    return corpus


def snapshot(index_dir: Path) -> dict[str, Any]:
    """Everything a build decides, read through the store seam; vectors apart."""
    reader = open_store(index_dir).open_current()
    try:
        chunks = list(reader.iter_chunks())
        ids = [c.id for c in chunks]
        docs = {d.doc_id: (d.title, d.sha256, d.size, d.chunks) for d in reader.documents()}
        stored = {doc_id: reader.document(doc_id) for doc_id in docs}
        sentences = reader.sentences(ids)
        return {
            "documents": docs,
            "texts": {k: (v.text, v.page_starts, v.headings) for k, v in stored.items()},
            "chunks": [(c.id, c.doc_id, c.start, c.end, c.page, c.heading, c.text) for c in chunks],
            "sentences": [(s.chunk_id, s.start, s.end) for s in sentences],
            "chunk_vectors": reader.chunk_vectors(ids),
            "sentence_vectors": np.array([s.vector for s in sentences]),
            "model": reader.manifest["model"],
            "skipped": reader.manifest["skipped"],
        }
    finally:
        reader.close()


def assert_same_index(local: Path, on_ray: Path) -> None:
    a, b = snapshot(local), snapshot(on_ray)
    for key in ("documents", "texts", "chunks", "sentences", "model", "skipped"):
        assert a[key] == b[key], key
    # f32: batches differ between the two builds, so padding does; the vectors agree to float32 rounding.
    assert a["chunk_vectors"].shape == b["chunk_vectors"].shape and len(a["chunk_vectors"]) >= 6
    assert np.abs(a["chunk_vectors"] - b["chunk_vectors"]).max() < 1e-5
    assert np.abs(a["sentence_vectors"] - b["sentence_vectors"]).max() < 1e-5


def report_counts(report: Any) -> tuple[Any, ...]:
    return (
        report.added,
        report.modified,
        report.deleted,
        report.unchanged,
        report.skipped,
        report.chunks_embedded,
        report.chunks_reused,
        report.chunks_total,
        report.documents_total,
        report.skipped_files,
    )


def test_a_build_on_ray_is_the_single_process_build(small_corpus: Path, tmp_path: Path) -> None:
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    messages: list[str] = []
    first = build_index(small_corpus, local, precision="f32", log=lambda _m: None)
    first_ray = build_index(small_corpus, on_ray, precision="f32", ray="local", log=messages.append)
    assert report_counts(first) == report_counts(first_ray)
    assert first_ray.added == 3 and [s.path for s in first_ray.skipped_files] == ["broken.pdf"]
    assert any(m.startswith("warning: skipped broken.pdf: corrupt or unreadable PDF") for m in messages)
    assert_same_index(local, on_ray)

    # An edit and a deletion: the Ray build re-embeds only the changed chunks too, reusing the old vectors.
    (small_corpus / "security.txt").write_text(SECURITY + "\n\nVisitors are escorted at all times.", encoding="utf-8")
    (small_corpus / "travel.html").unlink()
    second = build_index(small_corpus, local, log=lambda _m: None)
    second_ray = build_index(small_corpus, on_ray, ray="local", log=lambda _m: None)
    assert report_counts(second) == report_counts(second_ray)
    assert (second_ray.modified, second_ray.deleted) == (1, 1) and 0 < second_ray.chunks_embedded < second.chunks_total
    assert second_ray.chunks_reused > 0
    assert_same_index(local, on_ray)


def test_a_file_failing_on_a_worker_is_skipped_alone_and_a_failed_run_raises(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "leave.md").write_text(LEAVE, encoding="utf-8")
    (corpus / "security.txt").write_text(SECURITY, encoding="utf-8")
    files, _ = scan_corpus(corpus)
    # A file whose bytes are None makes the reader itself raise on the worker (a TypeError, not a read error).
    odd = CorpusFile("odd.txt", corpus / "odd.txt", None, "0" * 64)  # type: ignore[arg-type]
    embedder = Embedder(precision="f32")
    result, skipped = ingest_on_ray(
        [files[0], odd, files[1]], embedder, ChunkSettings(), "late", None, "local", say=print
    )
    assert [d.prepared.doc.id for d in result.documents] == ["leave.md", "security.txt"]
    assert [s.path for s in skipped] == ["odd.txt"]
    assert skipped[0].reason.startswith("failed on a Ray worker: TypeError")
    assert result.chunks_embedded == sum(len(d.prepared.chunks) for d in result.documents)

    # A worker whose embedder is not the driver's (another model version, say) fails the whole run, plainly.
    embedder.__dict__["identity"] = {**embedder.identity, "dimension": 999}
    with pytest.raises(PolicyQAError, match=r"Ray worker's embedder differs.*dimension.*999, 384"):
        ingest_on_ray(files, embedder, ChunkSettings(), "late", None, "local")


def test_without_ray_installed_the_cli_names_the_extra(small_corpus: Path, tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['ray'] = None\n"  # what an environment without the extra sees: import fails
        "from policyqa.cli import main\n"
        f"sys.exit(main(['build', '--ray', '--corpus', {str(small_corpus)!r}, '--index', {str(tmp_path / 'i')!r}]))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "building on Ray needs the 'ray' extra: pip install -e '.[ray]'" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "i").exists()


def test_the_cli_builds_on_an_existing_ray_cluster_by_its_address(small_corpus: Path, tmp_path: Path) -> None:
    address = ray.get_runtime_context().gcs_address  # this module's instance, joined as a cluster by a new process
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    args = ["build", "--corpus", str(small_corpus), "--index", str(tmp_path / "index"), "--json", "--ray", address]
    done = subprocess.run(
        [sys.executable, "-m", "policyqa.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert '"added": 3' in done.stdout and "skipped broken.pdf" in done.stderr
    assert "ray: reading and chunking 4 file(s)" in done.stderr
    assert ray.is_initialized()  # the CLI left the cluster it joined running

    unreachable = subprocess.run(
        [sys.executable, "-m", "policyqa.cli", *args[:-1], "127.0.0.1:1", "--full"],  # full: else nothing to embed
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unreachable.returncode == 2 and "cannot reach Ray at '127.0.0.1:1'" in unreachable.stderr
