"""`policyqa compare`, `ask --format` and `verify` as a user runs them: real files, real model, real index."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from policyqa.answer.verify import verify_quote
from tests.answer.three_policies import FACTS, POLICIES, QUESTION, SILENT, write_policies
from tests.conftest import BUNDLED_DOC, DOHA_QUESTION
from tests.test_cli import run

OTHER = "Who handles complaints about the cameras?"


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with corpus/ (the three policies) and index/ built by `policyqa build`."""
    root = tmp_path_factory.mktemp("cli_three")
    write_policies(root / "corpus")
    built = run("build", cwd=root)
    assert built.returncode == 0, built.stderr
    return root


def test_held_out_compare_rows_are_verbatim_with_the_files_sha256(three: Path) -> None:
    """Issue 25 'Done when': two policies state a fact differently, one is silent on it."""
    done = run("compare", QUESTION, OTHER, "--format", "json", cwd=three)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["rows"]
    assert [(r["question"], r["doc_id"]) for r in rows] == [(q, d) for q in (QUESTION, OTHER) for d in sorted(POLICIES)]
    for row in rows:
        assert {"question", "doc_id", "title", "state", "quote", "answer", "page", "start", "end", "evidence",
                "sha256"} <= set(row)
        path = three / "corpus" / row["doc_id"]
        assert row["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        if row["start"] is not None:
            assert path.read_text(encoding="utf-8")[row["start"] : row["end"]] == row["quote"]  # plain text: verbatim
            assert verify_quote(path, row["doc_id"], row["sha256"], row["start"], row["end"], row["quote"]).ok
    on_question = {r["doc_id"]: r for r in rows if r["question"] == QUESTION}
    for doc_id, fact in FACTS.items():
        assert fact in on_question[doc_id]["quote"]
    assert on_question[SILENT]["state"] in ("unsure", "refused")  # does not answer for the silent document


def test_compare_csv_has_a_header_and_one_line_per_row(three: Path) -> None:
    done = run("compare", QUESTION, OTHER, "--format", "csv", cwd=three)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 + 2 * len(POLICIES)
    assert lines[0].startswith("question,doc_id,title,state,quote,answer,page")
    records = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["doc_id"] for r in records] == sorted(POLICIES) * 2
    assert all(len(r["sha256"]) == 64 for r in records)


def test_compare_table_markdown_and_filters(three: Path) -> None:
    table = run("compare", QUESTION, "--doc", SILENT, "--doc", "northfield_cctv_policy.txt", cwd=three)
    assert table.returncode == 0, table.stderr
    assert table.stdout.startswith(QUESTION) and SILENT in table.stdout and "31 days" in table.stdout
    assert "riverside" not in table.stdout
    markdown = run("compare", QUESTION, "--path", "river*", "--format", "markdown", cwd=three)
    assert markdown.returncode == 0 and "> " in markdown.stdout and "## References" in markdown.stdout
    assert "90 days" in markdown.stdout and "northfield" not in markdown.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("compare", QUESTION, "--doc", "missing.txt"), "no such document"),
        (("compare", "   "), "empty"),
        (("compare", QUESTION, "--path", "nothing*"), "matches the path"),
        (("compare", QUESTION, "-k", "0"), "k must be"),
        (("verify", "missing.json"), "cannot read the export"),
    ],
)
def test_compare_errors_are_messages(three: Path, args: tuple[str, ...], message: str) -> None:
    done = run(*args, cwd=three)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_ask_exports_and_verify(tmp_path: Path, bundled_index: Path, corpus: Path) -> None:
    markdown = run("ask", DOHA_QUESTION, "--format", "markdown", "--index", str(bundled_index), cwd=tmp_path)
    assert markdown.returncode == 0, markdown.stderr
    assert "> " in markdown.stdout and "**Doha**" in markdown.stdout and f"file `{BUNDLED_DOC}`" in markdown.stdout
    exported = run("ask", DOHA_QUESTION, "--format", "json", "--index", str(bundled_index), cwd=tmp_path)
    data = json.loads(exported.stdout)
    assert data["state"] == "answered" and data["references"] and data["context"]["model"]
    legacy = json.loads(run("ask", DOHA_QUESTION, "--json", "--index", str(bundled_index), cwd=tmp_path).stdout)
    assert legacy["citations"] == data["citations"]
    (tmp_path / "answer.json").write_text(exported.stdout, encoding="utf-8")
    checked = run("verify", "answer.json", "--corpus", str(corpus), cwd=tmp_path)
    assert checked.returncode == 0 and "1 of 1 citation(s) verified" in checked.stdout
    (corpus / BUNDLED_DOC).write_text((corpus / BUNDLED_DOC).read_text(encoding="utf-8") + "\nEdited.\n")
    changed = run("verify", "answer.json", "--corpus", str(corpus), cwd=tmp_path)
    assert changed.returncode == 1 and "FAILED" in changed.stdout and "sha256" in changed.stdout
