"""POST /api/v1/compare and the export routes of a real server with a login, through httpx."""

from __future__ import annotations

import csv
import hashlib
import io

import httpx
import pytest

from policyqa.answer.compare import MAX_QUESTIONS
from policyqa.answer.verify import verify_export
from tests.conftest import BUNDLED_DOC, DOHA_QUESTION
from tests.e2e.conftest import Server, login_api_fixtures

AUTH = ("compare-user", "c0mpare-pw")
UNSAID = "How long is CCTV footage kept?"


api_server, api = login_api_fixtures("rest_compare", AUTH)


def test_compare_returns_one_typed_row_per_question_and_document(api: httpx.Client, api_server: Server) -> None:
    response = api.post("/compare", json={"questions": [DOHA_QUESTION, UNSAID]})
    assert response.status_code == 200, response.text
    body = response.json()
    rows = body["rows"]
    assert [(r["question"], r["doc_id"]) for r in rows] == [(DOHA_QUESTION, BUNDLED_DOC), (UNSAID, BUNDLED_DOC)]
    sha = hashlib.sha256((api_server.corpus / BUNDLED_DOC).read_bytes()).hexdigest()
    assert all(r["sha256"] == sha for r in rows)
    assert rows[0]["state"] == "answered" and rows[0]["answer"] == "Doha" and "Doha" in rows[0]["quote"]
    assert rows[1]["state"] in ("unsure", "refused")
    assert set(body["context"]) == {"index_version", "model", "date"}
    assert all(v.ok for v in verify_export(body, api_server.corpus))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"questions": []}, "questions"),
        ({"questions": ["x"] * (MAX_QUESTIONS + 1)}, "questions"),
        ({"questions": ["   "]}, "empty"),
        ({"questions": ["x"], "doc_ids": ["missing.txt"]}, "no such document"),
        ({"questions": ["x"], "path": "nothing/*"}, "matches the path"),
        ({"questions": ["x"], "k": "3"}, "k"),
        ({"questions": ["x"], "colour": "red"}, "colour"),
        ({"questions": ["a\x00b"]}, "NUL"),
    ],
)
def test_bad_compare_requests_are_400_with_a_message(api: httpx.Client, payload: dict, message: str) -> None:
    response = api.post("/compare", json=payload)
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]


def test_compare_needs_the_login(api_server: Server) -> None:
    response = httpx.post(f"{api_server.url}/api/v1/compare", json={"questions": ["x"]})
    assert response.status_code == 401 and "user and password required" in response.json()["message"]


def test_exports_of_a_comparison_and_an_answer(api: httpx.Client, api_server: Server) -> None:
    request = {"questions": [DOHA_QUESTION, UNSAID]}
    as_csv = api.post("/compare/export", params={"format": "csv"}, json=request)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    lines = as_csv.text.splitlines()
    assert len(lines) == 3 and lines[0].startswith("question,doc_id,title,state,quote")
    assert [r["state"] for r in csv.DictReader(io.StringIO(as_csv.text))][0] == "answered"
    markdown = api.post("/compare/export", json=request)  # Markdown by default
    assert markdown.headers["content-type"].startswith("text/markdown") and "## References" in markdown.text
    as_json = api.post("/compare/export", params={"format": "json"}, json=request)
    assert all(v.ok for v in verify_export(as_json.text, api_server.corpus))
    answer = api.post("/ask/export", params={"format": "markdown"}, json={"question": DOHA_QUESTION})
    assert answer.status_code == 200 and "**Doha**" in answer.text and f"file `{BUNDLED_DOC}`" in answer.text
    answer_json = api.post("/ask/export", params={"format": "json"}, json={"question": DOHA_QUESTION})
    assert all(v.ok for v in verify_export(answer_json.text, api_server.corpus))
    wrong = api.post("/ask/export", params={"format": "pdf"}, json={"question": DOHA_QUESTION})
    assert wrong.status_code == 400 and "format" in wrong.json()["message"]
