"""Corpus folders that cannot be read or are nested absurdly deep, overlapping corpus and index folders, and the
build report's counts (issue 13, items 5, 8, 9 (overlap) and 11)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from policyqa import build_index, corpus_document_ids
from policyqa.cli import main as cli_main
from policyqa.errors import PolicyQAError
from policyqa.ingest.documents import MAX_DEPTH
from policyqa.search.evaluation import load_questions
from tests.conftest import REPO
from tests.faults.helpers import assert_sound


def quiet(message: str) -> None:
    pass


def small_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "top.md").write_text("# Top\n\nThe Oslo rule keeps visitor logs for a year.\n")
    (corpus / "sub" / "a.txt").write_text("The Lima standard labels every network cable.\n")
    return corpus


BUILD_WITHOUT_DAC_OVERRIDE = """
import json, sys
from policyqa import build_index
report = build_index(sys.argv[1], sys.argv[2], log=lambda m: None)
print(json.dumps(report.as_dict()))
"""


def build_as_unprivileged(corpus: Path, index: Path) -> dict:
    """A build in a child that lacks CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so that `chmod 000` binds it even
    when the tests run as root (as they do in CI containers)."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-c", BUILD_WITHOUT_DAC_OVERRIDE, str(corpus), str(index)]
    if os.geteuid() == 0:
        capsh = shutil.which("capsh")
        if capsh is None:
            pytest.skip("running as root without capsh: chmod 000 cannot be made to bind")
        command = [capsh, "--drop=cap_dac_override,cap_dac_read_search", "--", "-c", " ".join(map(_quote, command))]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"


def test_an_unreadable_folder_keeps_its_documents(tmp_path: Path) -> None:
    corpus, index = small_corpus(tmp_path), tmp_path / "index"
    build_index(corpus, index, log=quiet)
    (corpus / "sub").chmod(0)
    try:
        report = build_as_unprivileged(corpus, index)
    finally:
        (corpus / "sub").chmod(0o755)
    assert report["deleted"] == 0 and report["deleted_files"] == [], report
    skipped = {s["path"]: s["reason"] for s in report["skipped_files"]}
    assert "sub" in skipped and "cannot be read" in skipped["sub"], skipped
    assert report["documents_total"] == 2
    assert_sound(index, corpus)


def deep_tree(corpus: Path, levels: int) -> str:
    """`levels` nested folders "d" with a document at the bottom; made with relative steps (no long paths)."""
    fd = os.open(corpus, os.O_RDONLY)
    try:
        for _ in range(levels):
            os.mkdir("d", dir_fd=fd)
            child = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = child
        with os.fdopen(os.open("bottom.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as out:
            out.write("The bottom rule is deep down.\n")
    finally:
        os.close(fd)
    return "/".join(["d"] * levels) + "/bottom.txt"


def remove_deep_tree(top: Path) -> None:
    """Remove a tree of nested "d" folders one level at a time (shutil.rmtree, and pytest's clean-up of old temp
    folders, recurse once per level and fail at 1,000)."""
    base, level = top.name, 0
    while top.exists():
        child = top / "d"
        if not child.is_dir():
            shutil.rmtree(top)
            break
        flat = top.parent / f"{base}.{level % 2}"  # two names in turn: each level moves up beside its parent
        os.rename(child, flat)
        shutil.rmtree(top)
        top, level = flat, level + 1


@pytest.fixture
def deep_corpus(tmp_path: Path) -> Iterator[Path]:
    corpus = small_corpus(tmp_path)
    deep_tree(corpus, 1_000)
    yield corpus
    remove_deep_tree(corpus / "d")


def test_a_thousand_folders_deep_is_skipped_with_a_reason(
    deep_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    corpus, index = deep_corpus, tmp_path / "index"
    shallow = deep_tree(corpus / "sub", 10)  # within the limit: indexed
    report = build_index(corpus, index, log=quiet)
    skipped = {s.path: s.reason for s in report.skipped_files}
    too_deep = "/".join(["d"] * (MAX_DEPTH + 1))
    assert too_deep in skipped and "deeper than" in skipped[too_deep], skipped
    assert report.documents_total == 3 and f"sub/{shallow}" in report.added_files
    assert cli_main(["status", "--corpus", str(corpus), "--index", str(index)]) == 0
    out, err = capsys.readouterr()
    assert "deeper than" in out and "unexpected" not in err
    assert cli_main(["status", "--check", "--corpus", str(corpus), "--index", str(index)]) == 0


def test_the_ui_corpus_view_survives_a_thousand_folders_deep(deep_corpus: Path, tmp_path: Path) -> None:
    pytest.importorskip("gradio")
    from policyqa_app.handlers import Handlers
    from policyqa_app.state import AppState

    corpus, index = deep_corpus, tmp_path / "index"
    build_index(corpus, index, log=quiet)
    assert corpus_document_ids(corpus) == ["sub/a.txt", "top.md"]
    table, stale, _ = Handlers(AppState(index, corpus)).corpus_view()
    assert "top.md" in table and "deeper than" in stale and "Unexpected" not in table + stale


@pytest.mark.parametrize("layout", ["index inside corpus", "corpus inside index"])
def test_overlapping_corpus_and_index_folders_are_refused(tmp_path: Path, layout: str) -> None:
    data = small_corpus(tmp_path)
    corpus, index = (
        (data, data / "index") if layout == "index inside corpus" else (tmp_path / "ix" / "c", tmp_path / "ix")
    )
    if layout == "corpus inside index":
        shutil.copytree(data, corpus)
    with pytest.raises(PolicyQAError, match="overlap"):
        build_index(corpus, index, log=quiet)
    assert not (index / "CURRENT").exists()


def test_eval_refuses_doc_ids_that_are_not_a_list(tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "Who?", "doc_ids": "notalist"}) + "\n")
    with pytest.raises(PolicyQAError, match="doc_ids.*list"):
        load_questions(questions)


def test_repeated_chunks_of_a_new_file_are_not_counted_as_reused(tmp_path: Path) -> None:
    corpus, index = small_corpus(tmp_path), tmp_path / "index"
    build_index(corpus, index, log=quiet)
    paragraph = "Every contractor signs the Geneva data agreement before access is granted to any system. " * 12
    (corpus / "repeats.txt").write_text("\n\n".join([paragraph.strip()] * 4) + "\n")
    report = build_index(corpus, index, log=quiet)
    assert report.added == 1 and report.chunks_reused == 0, report.summary()
    assert 1 <= report.chunks_embedded < report.chunks_total
