"""A build in a child process runs with the Settings it is handed (sent on its stdin), not with the environment, and
no secret in them shows on the child's command line. Real child process, real model, real index."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyqa import BuildPriority, BuildProcess, Settings
from policyqa.index.credentials import StoreCredentials
from policyqa.index.store import open_store
from policyqa.ingest.chunking import ChunkSettings

NOTE = "# Kestrel rule\n\nThe Kestrel rule requires two-person approval for every firewall change.\n"


def test_the_child_builds_with_the_settings_it_was_handed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kestrel.md").write_text(NOTE, encoding="utf-8")
    monkeypatch.setenv("POLICYQA_BACKEND", "openvino")  # the child inherits it, and reads it no more than we do
    settings = Settings(
        backend="torch",  # the default would be openvino
        chunking=ChunkSettings(chunk_tokens=32),
        milvus=StoreCredentials(token="ann:s3cret-token"),
    )
    build = BuildProcess(corpus, tmp_path / "index", BuildPriority(nice=0, cpus=0), settings=settings)
    report = build.run()
    assert report.added == 1
    manifest = open_store(tmp_path / "index").current_manifest()
    assert manifest is not None
    assert manifest["model"]["backend"] == "torch" and manifest["chunking"]["chunk_tokens"] == 32
    assert build._proc is not None and "s3cret-token" not in " ".join(map(str, build._proc.args))


def test_without_settings_the_child_builds_with_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kestrel.md").write_text(NOTE, encoding="utf-8")
    monkeypatch.setenv("POLICYQA_BACKEND", "torch")  # not the child's business: only entry points read it
    lines: list[str] = []
    BuildProcess(corpus, tmp_path / "index", BuildPriority(nice=0, cpus=0)).run(lines.append)
    # the build report the UI shows is the child's log: the build's own lines, no warning from Python about how the
    # child was started (running an already imported module as __main__)
    assert not [line for line in lines if "Warning" in line], lines
    manifest = open_store(tmp_path / "index").current_manifest()
    assert manifest is not None
    assert manifest["model"]["backend"] == "openvino" and manifest["chunking"]["chunk_tokens"] == 64
