from __future__ import annotations

import os
from pathlib import Path

import pytest

from policyqa import build_index, open_index
from policyqa.errors import QueryError
from tests.conftest import BUNDLED_DOC, DOHA_QUESTION, STORES, store_location
from tests.test_cli import run

RETENTION = "# Retention\n\nThe peace agreement clause: personal data is kept for twelve months."


@pytest.fixture(scope="module", params=STORES)
def filtered_index(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("filters")
    corpus = root / "corpus"
    (corpus / "policies" / "hr").mkdir(parents=True)
    (corpus / "policies" / "retention.md").write_text(RETENTION, encoding="utf-8")
    (corpus / "policies" / "hr" / "leave.txt").write_text(
        "Peace of mind: staff get 25 days of leave.", encoding="utf-8"
    )
    (corpus / BUNDLED_DOC).write_text(Path("corpus", BUNDLED_DOC).read_text(encoding="utf-8"), encoding="utf-8")
    location = store_location(request.param, root)
    build_index(corpus, location)
    return location


def doc_ids(hits) -> set[str]:
    return {h.doc_id for h in hits}


def test_path_glob(filtered_index: Path) -> None:
    idx = open_index(filtered_index)
    assert doc_ids(idx.search(DOHA_QUESTION, k=20, path="policies/*")) == {
        "policies/retention.md",
        "policies/hr/leave.txt",
    }
    assert doc_ids(idx.search(DOHA_QUESTION, k=20, path="*.md")) == {"policies/retention.md"}
    assert idx.search(DOHA_QUESTION, path="nothing/*") == []


def test_where_on_document_fields(filtered_index: Path) -> None:
    idx = open_index(filtered_index)
    assert doc_ids(idx.search("peace", k=20, where={"type": "txt"})) == {"policies/hr/leave.txt", BUNDLED_DOC}
    assert doc_ids(idx.search("peace", k=20, where={"folder": "policies/hr"})) == {"policies/hr/leave.txt"}
    assert doc_ids(idx.search("peace", k=20, where={"title": "Retention"})) == {"policies/retention.md"}
    both = idx.search("peace", k=20, where={"type": "txt"}, doc_ids=[BUNDLED_DOC], mode="bm25")
    assert doc_ids(both) == {BUNDLED_DOC}
    with pytest.raises(QueryError, match="cannot filter on colour"):
        idx.search("peace", where={"colour": "red"})


def test_ask_respects_filters(filtered_index: Path) -> None:
    answer = open_index(filtered_index).ask("How long is personal data kept?", path="policies/*")
    assert answer.citations and {c.doc_id for c in answer.citations} <= {
        "policies/retention.md",
        "policies/hr/leave.txt",
    }


def test_cli_filters(filtered_index: str, tmp_path: Path) -> None:
    if filtered_index.startswith("milvus://"):  # milvus-lite: one process per file, and this one has it open
        out = run("search", "peace", "--store", filtered_index, cwd=tmp_path)
        assert out.returncode != 0 and f"open in another process (pid {os.getpid()}" in out.stderr
        assert "Traceback" not in out.stderr
        return
    out = run("search", "peace", "--index", str(filtered_index), "--where", "type=md", "--mode", "bm25", cwd=tmp_path)
    assert out.returncode == 0 and "policies/retention.md" in out.stdout and BUNDLED_DOC not in out.stdout
    bad = run("search", "peace", "--index", str(filtered_index), "--where", "oops", cwd=tmp_path)
    assert bad.returncode == 2 and "FIELD=VALUE" in bad.stderr
