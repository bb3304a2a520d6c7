from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from policyqa.embed.embedder import backend_of
from policyqa.index.store import open_store
from tests.conftest import BUNDLED_DOC, DOHA_QUESTION, REPO


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(
        [sys.executable, "-m", "policyqa.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_build_search_status_round_trip(corpus: Path, tmp_path: Path) -> None:
    built = run("build", "--json", cwd=tmp_path)  # defaults: ./corpus and ./index
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    assert report["added"] == 1 and report["chunks_embedded"] == report["chunks_total"] > 0

    found = run("search", DOHA_QUESTION, "-k", "2", "--json", cwd=tmp_path)
    hits = json.loads(found.stdout)
    assert len(hits) == 2 and "Doha" in hits[0]["text"] and hits[0]["doc_id"] == BUNDLED_DOC
    assert {"text", "score", "doc_id", "title", "start", "end", "page", "heading"} <= set(hits[0])

    text = run("search", DOHA_QUESTION, "-k", "1", cwd=tmp_path)
    assert "[1]" in text.stdout and "Doha" in text.stdout

    status = run("status", cwd=tmp_path)
    assert "up to date" in status.stdout and BUNDLED_DOC in status.stdout
    (corpus / "new.md").write_text("# New\n\nA new retention rule.", encoding="utf-8")
    stale = run("status", cwd=tmp_path)
    assert "STALE" in stale.stdout and "added: new.md" in stale.stdout


def test_errors_are_messages_not_tracebacks(tmp_path: Path) -> None:
    missing = run("search", "Doha", cwd=tmp_path)
    assert missing.returncode == 2 and "policyqa build" in missing.stderr and "Traceback" not in missing.stderr
    (tmp_path / "corpus").mkdir()
    empty = run("build", cwd=tmp_path)
    assert empty.returncode == 2 and "no readable documents" in empty.stderr and "Traceback" not in empty.stderr


def test_blank_and_huge_queries(tmp_path: Path, bundled_index: Path) -> None:
    blank = run("search", "   ", "--index", str(bundled_index), cwd=tmp_path)
    assert blank.returncode == 2 and "empty" in blank.stderr and "Traceback" not in blank.stderr
    huge = run("search", "peace " * 17_000, "-k", "1", "--index", str(bundled_index), cwd=tmp_path)
    assert huge.returncode == 0 and "warning:" in huge.stderr and "[1]" in huge.stdout


def test_ask_prints_answer_with_citations_and_json(tmp_path: Path, bundled_index: Path) -> None:
    text = run("ask", DOHA_QUESTION, "--index", str(bundled_index), cwd=tmp_path)
    assert text.returncode == 0 and "Doha" in text.stdout and "[1]" in text.stdout
    assert f"{BUNDLED_DOC}, chars" in text.stdout
    as_json = json.loads(run("ask", DOHA_QUESTION, "--json", "--index", str(bundled_index), cwd=tmp_path).stdout)
    assert as_json["abstained"] is False and as_json["state"] == "answered" and as_json["reason"].startswith("P 0.")
    first = as_json["citations"][0]
    assert {"marker", "doc_id", "title", "page", "start", "end", "quote", "answer_start", "answer_end"} <= set(first)
    assert first["start"] <= first["answer_start"] < first["answer_end"] <= first["end"]
    assert text.stdout.startswith("answered: P 0.") and "that it answers)" in text.stdout
    assert "answer: Doha" in text.stdout
    refused = run("ask", "Which team won the 2018 FIFA World Cup?", "--index", str(bundled_index), cwd=tmp_path)
    assert "does not answer" in refused.stdout and "Nearest material" in refused.stdout
    assert refused.stdout.startswith("refused: ") and "(P 0." in refused.stdout


def test_the_environment_and_the_flags_reach_a_real_build(tmp_path: Path) -> None:
    """`main` builds one Settings from both, the flag winning; the build records what it ran with."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kestrel.md").write_text("# Kestrel\n\nFirewall changes need two approvals.\n", encoding="utf-8")
    store = tmp_path / "elsewhere"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "POLICYQA_STORE": str(store), "POLICYQA_BACKEND": "openvino"}

    def build(*flags: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "policyqa.cli", "build", "--corpus", str(corpus), "--json", *flags],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    build("--backend", "torch")  # the flag beats $POLICYQA_BACKEND
    assert backend_of(open_store(store).current_manifest()) == "torch"
    assert not (tmp_path / "index").exists()  # $POLICYQA_STORE named the index
    report = build()  # no flag: $POLICYQA_BACKEND reaches the build, which re-embeds in the other backend
    assert "backend: torch → openvino" in (report["full_rebuild_reason"] or "")
    assert backend_of(open_store(store).current_manifest()) == "openvino"
    bad = subprocess.run(
        [sys.executable, "-m", "policyqa.cli", "search", "x"],
        cwd=tmp_path, env={**env, "POLICYQA_PRECISION": "fp8"}, capture_output=True, text=True, timeout=120,
    )
    assert bad.returncode == 2 and "$POLICYQA_PRECISION: unknown precision 'fp8'" in bad.stderr
    assert "Traceback" not in bad.stderr
