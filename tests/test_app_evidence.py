"""The Compare tab's grid and the export files, from the handlers against a real index."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

pytest.importorskip("gradio")

from policyqa_app.evidence import EvidenceHandlers, questions_from  # noqa: E402
from policyqa_app.handlers import Handlers  # noqa: E402
from policyqa_app.state import AppState  # noqa: E402

from tests.conftest import BUNDLED_DOC, DOHA_QUESTION  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # gr.Warning outside a running app


def text_of(button: object) -> str:
    """The file a download button offers (Gradio keeps it as a FileData dict)."""
    return Path(button.value["path"]).read_text("utf-8")  # type: ignore[attr-defined]


@pytest.fixture
def state(corpus: Path, bundled_index: Path, tmp_path: Path) -> AppState:
    index = tmp_path / "index"
    shutil.copytree(bundled_index, index, ignore=shutil.ignore_patterns("lock"))
    return AppState(index, corpus)


def test_questions_one_a_line_without_bullets() -> None:
    assert questions_from("- Who?\n\n 2. When?\n* Where?  \n") == ["Who?", "When?", "Where?"]
    assert questions_from(None) == []


def test_compare_grid_and_its_downloads(state: AppState) -> None:
    grid, as_csv, as_md = EvidenceHandlers(state).compare(f"{DOHA_QUESTION}\nWhat is the recipe for a cake?", [])
    assert grid.count("<tr>") == 3 and f"data-label='{BUNDLED_DOC}'" in grid  # a header row and two questions
    assert "<strong class='pqa-span'>Doha</strong>" in grid and "Not answered in this document" in grid
    table = list(csv.reader(io.StringIO(text_of(as_csv))))
    assert table[0][:2] == ["question", "doc_id"] and len(table) == 3
    assert text_of(as_md).startswith("# Comparison")
    error, hidden, _ = EvidenceHandlers(state).compare("  \n", [])
    assert "pqa-error" in error and "one a line" in error and hidden.visible is False


def test_export_of_the_conversation(state: AppState) -> None:
    evidence = EvidenceHandlers(state)
    assert all(b.visible is False for b in evidence.export_conversation([]))
    _, turns, _, _ = Handlers(state).ask(DOHA_QUESTION)
    md, as_csv, as_json = evidence.export_conversation(turns)
    text = text_of(md)
    assert "**Doha**" in text and "## References" in text and BUNDLED_DOC in text
    assert text_of(as_csv).startswith("question,") and as_json.value["path"].endswith(".json")
