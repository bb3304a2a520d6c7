from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyqa import open_index
from policyqa.errors import PolicyQAError
from policyqa.search.evaluation import EvalQuestion, dcg, evaluate, load_questions
from tests.conftest import BUNDLED_DOC, REPO
from tests.test_cli import run

QUESTIONS = REPO / "eval" / "bundled_questions.jsonl"


def test_dcg_reference() -> None:
    assert dcg([True, False, True]) == pytest.approx(1 + 1 / 2)
    assert dcg([False, False]) == 0


def test_metrics_on_the_bundled_question_set(bundled_index: Path) -> None:
    questions, skipped = load_questions(QUESTIONS)
    assert len(questions) >= 20 and skipped >= 5
    results = evaluate(open_index(bundled_index), questions, ["dense", "bm25", "hybrid"], [1, 5, 10])
    for metrics in results.values():
        assert 0 <= metrics["hit@1"] <= metrics["hit@5"] <= metrics["hit@10"] <= 1
        assert metrics["hit@1"] <= metrics["mrr@10"] <= metrics["hit@10"]
        assert 0 < metrics["ndcg@10"] <= 1
    assert results["hybrid"]["hit@5"] >= 0.9


def test_doc_id_questions_and_a_question_that_cannot_hit(bundled_index: Path) -> None:
    idx = open_index(bundled_index)
    by_doc = evaluate(idx, [EvalQuestion("Doha agreement", None, (BUNDLED_DOC,))], ["dense"], [1])
    assert by_doc["dense"]["hit@1"] == 1.0 and by_doc["dense"]["mrr@10"] == 1.0
    never = evaluate(idx, [EvalQuestion("Doha", "text that is nowhere in the corpus", ())], ["bm25"], [1, 5])
    assert never["bm25"] | {"median_ms": 0} == {"hit@1": 0, "hit@5": 0, "mrr@10": 0, "ndcg@10": 0, "median_ms": 0}


def test_bad_question_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "x", "answer": "y"}\nnot json\n', encoding="utf-8")
    with pytest.raises(PolicyQAError, match="bad.jsonl:2"):
        load_questions(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text(json.dumps({"question": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(PolicyQAError, match="no question"):
        load_questions(empty)
    with pytest.raises(PolicyQAError, match="cannot read"):
        load_questions(tmp_path / "missing.jsonl")


def test_eval_cli(tmp_path: Path, bundled_index: Path) -> None:
    table = run("eval", str(QUESTIONS), "--index", str(bundled_index), "-k", "1,5", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "| hybrid |" in table.stdout and "hit@5" in table.stdout and "ndcg@10" in table.stdout
    as_json = json.loads(
        run("eval", str(QUESTIONS), "--index", str(bundled_index), "--modes", "bm25", "--json", cwd=tmp_path).stdout
    )
    assert set(as_json["modes"]) == {"bm25"} and as_json["questions"] >= 20
    wrong = run("eval", str(QUESTIONS), "--index", str(bundled_index), "--modes", "magic", cwd=tmp_path)
    assert wrong.returncode == 2 and "unknown mode" in wrong.stderr and "Traceback" not in wrong.stderr
