"""The REST API (/api/v1) of a real `python -m policyqa_app` server with POLICYQA_AUTH, through httpx."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from policyqa_app.login_throttle import MAX_FAILURES

from tests.conftest import BUNDLED_DOC, DOHA_QUESTION
from tests.e2e.conftest import Server, bundled_copy, error_of, login_api_fixtures, running_app

AUTH = ("api-user", "s3cret-pw")
NEW_DOC = "rest_api_note.txt"
NEW_TEXT = "Heliotrope Accord\n\nThe Heliotrope Accord on river water sharing was signed in Termez in 2019.\n"


api_server, api = login_api_fixtures("rest", AUTH)


def test_every_route_needs_the_ui_credentials(tmp_path: Path, bundled_index: Path) -> None:
    """On a server of its own: wrong passwords count towards the login lockout (app/login_throttle.py), which
    would refuse this module's other calls from the same address."""
    corpus, index = bundled_copy(tmp_path, bundled_index)
    calls = [("GET", "/status"), ("GET", "/documents"), ("POST", "/search"), ("POST", "/ask"), ("POST", "/build")]
    calls += [("POST", "/documents"), ("DELETE", f"/documents/{BUNDLED_DOC}")]
    env = {"POLICYQA_AUTH": ":".join(AUTH)}
    with running_app(corpus, index, tmp_path / "server.log", env) as server:
        base = f"{server.url}api/v1"
        codes = []
        for auth in (None, ("api-user", "wrong"), ("someone", AUTH[1])):
            for method, path in calls:
                response = httpx.request(method, base + path, auth=auth, json={"query": "x", "question": "x"})
                if auth is None or response.status_code != 429:
                    expected = "user and password required" if auth is None else "wrong user or password"
                    assert expected in error_of(response, 401)
                    assert response.headers["www-authenticate"] == "Basic"
                else:  # locked out: the API's error shape, saying when to try again (issue 24, item 23)
                    assert "try again in" in error_of(response, 429) and int(response.headers["retry-after"]) > 0
                codes.append(response.status_code)
        wrong = codes[len(calls) :]  # every call with a wrong user or password: refused, then locked out
        assert wrong == [401] * MAX_FAILURES + [429] * (len(wrong) - MAX_FAILURES), codes
    assert (corpus / BUNDLED_DOC).is_file()  # the unauthorised delete did nothing


def test_openapi_docs_describe_the_routes(api_server: Server) -> None:
    assert httpx.get(f"{api_server.url}/api/v1/docs").status_code == 401  # behind the login (issue 24, item 17)
    assert httpx.get(f"{api_server.url}/api/v1/docs", auth=AUTH).status_code == 200
    spec = httpx.get(f"{api_server.url}/api/v1/openapi.json", auth=AUTH).json()
    assert {"/search", "/ask", "/documents", "/documents/{doc_id}", "/build", "/status"} <= set(spec["paths"])
    assert "AskResponse" in spec["components"]["schemas"]


def test_search_returns_typed_hits_and_filters_by_document(api: httpx.Client) -> None:
    response = api.post("/search", json={"query": DOHA_QUESTION, "k": 3, "doc_ids": [BUNDLED_DOC]})
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]
    assert len(hits) == 3 and "Doha" in hits[0]["text"] and [h["rank"] for h in hits] == [1, 2, 3]
    assert set(hits[0]) == {"rank", "score", "doc_id", "title", "page", "page_label", "heading", "start", "end", "text"}
    assert {h["doc_id"] for h in hits} == {BUNDLED_DOC}
    assert len(api.post("/search", json={"query": "Afghanistan security", "k": 2, "mode": "bm25"}).json()["hits"]) == 2


def test_ask_returns_the_structured_answer_with_verbatim_citations(api: httpx.Client, api_server: Server) -> None:
    from policyqa import open_index

    body = api.post("/ask", json={"question": DOHA_QUESTION}).json()
    assert body["state"] == "answered" and "Doha" in body["text"] and body["citations"]
    text = open_index(api_server.index).document_text(BUNDLED_DOC)
    for c in body["citations"]:
        assert text[c["start"] : c["end"]] == c["quote"]
        assert c["doc_id"] == BUNDLED_DOC and c["title"] and 0 < c["score"] <= 1 and f"[{c['marker']}]" in body["text"]
    refused = api.post("/ask", json={"question": "What is the recipe for a chocolate cake?"}).json()
    assert refused["state"] == "refused" and not refused["citations"] and refused["reason"] and refused["nearest"]


@pytest.mark.parametrize(
    ("route", "body", "words"),
    [
        ("/search", {"query": ""}, "query"),
        ("/search", {"query": "   "}, "empty"),
        ("/search", {"query": "x", "k": 0}, "k"),
        ("/search", {"query": "x", "k": "many"}, "k"),
        ("/search", {"query": "x", "mode": "psychic"}, "mode"),
        ("/search", {"query": "x", "colour": "red"}, "colour"),
        ("/search", {"query": "x", "doc_ids": ["missing.txt"]}, "no such document"),
        ("/ask", {"question": 42}, "question"),
        ("/ask", {}, "question"),
        ("/ask", {"question": "x", "generate": True}, "no language model is configured"),
    ],
)
def test_bad_input_is_a_400_with_a_message(api: httpx.Client, route: str, body: dict, words: str) -> None:
    assert words in error_of(api.post(route, json=body), 400)


def test_malformed_json_is_a_400(api: httpx.Client) -> None:
    response = api.post("/search", content=b"{not json", headers={"content-type": "application/json"})
    error_of(response, 400)


def test_upload_build_search_delete_cycle(api: httpx.Client, api_server: Server) -> None:
    response = api.post("/documents", files={"files": (NEW_DOC, NEW_TEXT.encode(), "text/plain")})
    assert response.status_code == 201, response.text
    assert response.json()["added"] == [NEW_DOC] and (api_server.corpus / NEW_DOC).read_text() == NEW_TEXT
    listed = {d["doc_id"]: d for d in api.get("/documents").json()["documents"]}
    assert listed[NEW_DOC]["indexed"] is False and listed[BUNDLED_DOC]["indexed"] is True
    assert api.get("/status").json()["stale"]["added"] == [NEW_DOC]

    report = api.post("/build").json()
    assert report["report"]["added"] == 1 and "added 1" in report["summary"]
    hits = api.post("/search", json={"query": "Heliotrope Accord Termez", "doc_ids": [NEW_DOC]}).json()["hits"]
    assert hits and hits[0]["doc_id"] == NEW_DOC

    assert api.delete(f"/documents/{NEW_DOC}").json()["deleted"] == NEW_DOC
    assert "not a file" in error_of(api.delete(f"/documents/{NEW_DOC}"), 404)
    assert api.post("/build").json()["report"]["deleted"] == 1
    assert NEW_DOC not in {d["doc_id"] for d in api.get("/documents").json()["documents"]}


@pytest.mark.parametrize("name", ["../x.txt", "/etc/evil.txt", "..\\..\\x.txt", "a/../../x.txt", "run.exe", ""])
def test_upload_names_that_escape_or_are_refused(api: httpx.Client, api_server: Server, name: str) -> None:
    before = sorted(p.name for p in api_server.corpus.parent.rglob("*"))
    response = api.post("/documents", files={"files": (name, b"text", "text/plain")})
    assert response.status_code in (400, 422) and response.json()["status"] == response.status_code, response.text
    assert sorted(p.name for p in api_server.corpus.parent.rglob("*")) == before
    assert not Path("/etc/evil.txt").exists()


def test_a_windows_path_is_cut_to_its_file_name_inside_the_corpus(api: httpx.Client, api_server: Server) -> None:
    # The multipart parser (python-multipart) keeps only the part after the last backslash of a "C:\\..." name.
    response = api.post("/documents", files={"files": ("C:\\evil.txt", b"text", "text/plain")})
    try:
        assert response.status_code in (201, 400), response.text
        if response.status_code == 201:
            assert response.json()["added"] == ["evil.txt"] and (api_server.corpus / "evil.txt").is_file()
    finally:
        (api_server.corpus / "evil.txt").unlink(missing_ok=True)


def test_one_bad_file_saves_none_of_the_request(api: httpx.Client, api_server: Server) -> None:
    files = [("files", ("good.txt", b"fine text", "text/plain")), ("files", ("../bad.txt", b"x", "text/plain"))]
    error_of(api.post("/documents", files=files), 400)
    assert not (api_server.corpus / "good.txt").exists()
    assert "files" in error_of(api.post("/documents", data={"other": "x"}), 400)


def test_too_large_upload_is_a_413(api: httpx.Client, api_server: Server) -> None:
    from policyqa_app.corpus_files import MAX_UPLOAD_BYTES

    big = b"word " * (MAX_UPLOAD_BYTES // 5 + 10)
    assert "limit" in error_of(api.post("/documents", files={"files": ("big.txt", big, "text/plain")}), 413)
    assert not (api_server.corpus / "big.txt").exists()


@pytest.mark.parametrize("doc_id", ["..%2Fx.txt", "%2Fetc%2Fpasswd", "..%2F..%2Fetc%2Fpasswd", "a%5C..%5Cb.txt"])
def test_delete_outside_the_corpus_is_refused(api: httpx.Client, api_server: Server, doc_id: str) -> None:
    outside = api_server.corpus.parent / "x.txt"
    outside.write_text("keep me")
    response = api.delete(f"/documents/{doc_id}")
    assert response.status_code in (400, 404), response.text
    assert "refused" in response.json()["message"] or "not a file" in response.json()["message"]
    assert outside.read_text() == "keep me" and Path("/etc/passwd").exists()


def test_build_while_another_build_holds_the_index_is_a_409(api: httpx.Client, api_server: Server) -> None:
    with (api_server.index / "lock").open("a+") as lock:  # what a running `policyqa build` holds
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            assert "another build" in error_of(api.post("/build"), 409)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    assert api.post("/build").status_code == 200


def test_concurrent_builds_one_at_a_time(api: httpx.Client, api_server: Server) -> None:
    (api_server.corpus / "concurrent.txt").write_text("Concurrent builds note.\n\n" + "Some words here. " * 3000)
    try:
        with ThreadPoolExecutor(4) as pool:
            codes = sorted(r.status_code for r in pool.map(lambda _: api.post("/build"), range(4)))
        assert set(codes) <= {200, 409} and 200 in codes, codes
    finally:
        (api_server.corpus / "concurrent.txt").unlink()
        assert api.post("/build").status_code == 200


def test_concurrent_calls_all_answered(api: httpx.Client) -> None:
    def call(i: int) -> httpx.Response:
        if i % 3 == 0:
            return api.post("/ask", json={"question": DOHA_QUESTION})
        if i % 3 == 1:
            return api.post("/search", json={"query": "conference organisers", "k": 4})
        return api.get("/status")

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(call, range(24)))
    assert [r.status_code for r in responses] == [200] * 24
    assert all("Doha" in r.json()["text"] for r in responses[::3])


def test_a_cli_build_is_seen_without_a_page_load(api: httpx.Client, api_server: Server) -> None:
    (api_server.corpus / "cli_note.txt").write_text("Marigold Protocol\n\nThe Marigold Protocol was agreed in Osh.\n")
    try:
        cli = [sys.executable, "-m", "policyqa.cli", "build", "--corpus", str(api_server.corpus)]
        subprocess.run([*cli, "--index", str(api_server.index)], check=True, capture_output=True, timeout=600)
        hits = api.post("/search", json={"query": "Marigold Protocol Osh", "doc_ids": ["cli_note.txt"]}).json()
        assert hits["hits"] and hits["hits"][0]["doc_id"] == "cli_note.txt"
    finally:
        (api_server.corpus / "cli_note.txt").unlink()
        api.post("/build")
