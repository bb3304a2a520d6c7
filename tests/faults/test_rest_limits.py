"""The REST API (/api/v1) of a real `python -m policyqa_app` server under hostile requests (issue 24, items 1, 13-17,
23): huge bodies before the login check, chunked uploads without a length, ids the file system cannot take, files
that are not documents, duplicate content, long and decomposed file names, the docs without credentials, and the
messages of refusals."""

from __future__ import annotations

import json
import select
import socket
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("gradio")

from tests.conftest import BUNDLED_CORPUS, BUNDLED_DOC  # noqa: E402
from tests.e2e.conftest import Server, error_of, login_api_fixtures  # noqa: E402

AUTH = ("limits-user", "limits-pw")
MB = 1024 * 1024


api_server, api = login_api_fixtures("rest-limits", AUTH)


# --- the server process's memory -------------------------------------------------------------------------------


def server_pid(server: Server) -> int:
    """The `python -m policyqa_app` process serving this test's index (its folder is unique)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"policyqa_app" in cmdline and str(server.index).encode() in cmdline:
                return int(entry.name)
    raise AssertionError("the server process was not found")


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS (Linux >= 4.0)


# --- raw HTTP: send a body piece by piece and stop when the server answers ---------------------------------------


def send_until_answered(server: Server, head: bytes, pieces: Iterator[bytes]) -> tuple[int, int, bytes]:
    """(bytes of body sent before the server answered or closed, HTTP status or 0, response bytes)."""
    host, port = server.url.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(head)
        try:
            for piece in pieces:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                sock.sendall(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = b""
        try:
            sock.settimeout(30)
            while chunk := sock.recv(65536):
                reply += chunk
                if b"\r\n\r\n" in reply and len(reply) > 4096:
                    break
        except (ConnectionResetError, TimeoutError):
            pass
    status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else 0
    return sent, status, reply


def filler(total: int, piece: int = MB) -> Iterator[bytes]:
    block = b"x" * piece
    for _ in range(total // piece):
        yield block


def chunked(pieces: Iterator[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield b"%x\r\n" % len(piece) + piece + b"\r\n"
    yield b"0\r\n\r\n"


def basic() -> str:
    import base64

    return "Basic " + base64.b64encode(":".join(AUTH).encode()).decode()


# --- item 1: bodies before the login check, and bodies past every limit -------------------------------------------


def test_a_200_mb_body_without_login_is_refused_before_it_is_read(api_server: Server) -> None:
    pid = server_pid(api_server)
    httpx.get(f"{api_server.url}/api/v1/status", auth=AUTH, timeout=60)  # warm
    before = memory_kb(pid, "VmRSS")
    reset_peak(pid)
    size = 200 * MB
    head = (
        f"POST /api/v1/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    ).encode()
    sent, status, reply = send_until_answered(api_server, head, filler(size))
    time.sleep(1.0)
    growth_mb = (memory_kb(pid, "VmHWM") - before) / 1024
    print(f"200 MB body without login: {sent / MB:.0f} MB sent, status {status}, server peak growth {growth_mb:.0f} MB")
    assert status == 401, reply[:300]
    assert growth_mb < 150
    assert sent < 100 * MB  # refused long before the body arrived


def test_a_chunked_body_without_login_is_refused(api_server: Server) -> None:
    head = b"POST /api/v1/documents HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    sent, status, _ = send_until_answered(api_server, head, chunked(filler(300 * MB)))
    assert status == 401 and sent < 100 * MB


def test_a_chunked_upload_is_capped_while_it_streams(api_server: Server) -> None:
    from policyqa_app.corpus_files import MAX_BYTES_PER_UPLOAD

    before = sorted(p.name for p in api_server.corpus.iterdir())
    boundary = "pqaboundary"
    start = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="huge.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    pieces = iter([start, *filler(300 * MB)])
    head = (
        "POST /api/v1/documents HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        f"Authorization: {basic()}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\r\n"
    ).encode()
    sent, status, reply = send_until_answered(api_server, head, chunked(pieces))
    assert status == 413, reply[:300]
    assert sent < MAX_BYTES_PER_UPLOAD + 20 * MB  # cut while streaming, not after spooling 300 MB
    assert b"limit" in reply
    assert sorted(p.name for p in api_server.corpus.iterdir()) == before


def test_a_declared_length_over_the_limit_is_refused_at_once(api_server: Server) -> None:
    for path in ("/api/v1/ask", "/api/v1/documents"):
        head = (
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {300 * MB}\r\nAuthorization: {basic()}\r\n"
            "Content-Type: application/json\r\n\r\n"
        ).encode()
        sent, status, reply = send_until_answered(api_server, head, filler(300 * MB))
        assert status == 413 and sent < 50 * MB, (path, reply[:300])
        assert b'"status":413' in reply.replace(b" ", b"")


def test_a_json_body_is_capped_while_it_streams(api_server: Server) -> None:
    head = (
        "POST /api/v1/ask HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        f"Authorization: {basic()}\r\nContent-Type: application/json\r\n\r\n"
    ).encode()
    sent, status, reply = send_until_answered(api_server, head, chunked(filler(200 * MB)))
    assert status == 413 and sent < 50 * MB, reply[:300]


# --- item 17: the API's docs need the login too ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/docs", "/openapi.json", "/redoc"])
def test_api_docs_need_credentials(api_server: Server, path: str) -> None:
    url = f"{api_server.url}/api/v1{path}"
    assert "password required" in error_of(httpx.get(url, timeout=30), 401)
    assert httpx.get(url, auth=AUTH, timeout=30).status_code == 200


# --- item 23: messages ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["/search", "/ask"])
@pytest.mark.parametrize("k", [True, False, 1.5, "3"])
def test_k_must_be_a_whole_number_not_a_boolean(api: httpx.Client, route: str, k: object) -> None:
    body = {"query": "Doha"} if route == "/search" else {"question": "Where is Doha?"}
    assert "k" in error_of(api.post(route, json={**body, "k": k}), 400)


# --- item 16: ids and text the file system or JSON cannot take ----------------------------------------------------


@pytest.mark.parametrize(
    "doc_id", ["x%00.txt", "a" * 5000 + ".txt", "%C3%28.txt", "%ED%A0%80.txt", "dir/" * 300 + "x.txt", "%0A.txt"]
)
def test_delete_of_an_impossible_id_is_a_4xx(api: httpx.Client, doc_id: str) -> None:
    error_of(api.delete(f"/documents/{doc_id}"), 400, 404)


@pytest.mark.parametrize(
    "body",
    [
        '{"query": "Doha", "doc_ids": ["\\ud800.txt"]}',
        '{"query": "Doha \\udfff"}',
        '{"query": "Doha", "doc_ids": ["x\\u0000.txt"]}',
        '{"query": "Doha", "where": {"\\ud800": "x"}}',
        '{"query": "Doha", "path": "\\ud800*"}',
        '{"query": "Doha", "doc_ids": ["' + "a" * 5000 + '.txt"]}',
    ],
)
def test_search_with_unencodable_text_is_a_400(api: httpx.Client, body: str) -> None:
    response = api.post("/search", content=body.encode(), headers={"content-type": "application/json"})
    error_of(response, 400)


def test_ask_with_a_lone_surrogate_is_a_400(api: httpx.Client) -> None:
    body = b'{"question": "Where was it signed \\ud800?", "doc_ids": ["\\udc00"]}'
    error_of(api.post("/ask", content=body, headers={"content-type": "application/json"}), 400)


# --- item 13: only documents can be deleted ------------------------------------------------------------------------


@pytest.mark.parametrize("name", [".keep", "notes.xlsx", ".hidden/report.txt", "sub/.env", "run.sh", "README"])
def test_delete_of_a_file_that_is_not_a_document_is_refused(api: httpx.Client, api_server: Server, name: str) -> None:
    target = api_server.corpus / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("not a document")
    try:
        message = error_of(api.delete(f"/documents/{name}"), 400, 404)
        assert "not a document" in message
        assert target.read_text() == "not a document"
    finally:
        target.unlink()


# --- item 14: the UI's duplicate-content check --------------------------------------------------------------------


def test_an_upload_with_content_already_in_the_corpus_is_not_saved_again(api: httpx.Client, api_server: Server) -> None:
    content = (BUNDLED_CORPUS / BUNDLED_DOC).read_bytes()
    before = sorted(p.name for p in api_server.corpus.iterdir())
    files = [
        ("files", ("copy_of_report.txt", content, "text/plain")),
        ("files", ("fresh_note.txt", b"A fresh note about the Lotus Accord.\n", "text/plain")),
        ("files", ("fresh_note_again.txt", b"A fresh note about the Lotus Accord.\n", "text/plain")),
    ]
    response = api.post("/documents", files=files)
    try:
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["added"] == ["fresh_note.txt"]
        assert body["skipped"] == ["copy_of_report.txt", "fresh_note_again.txt"]
        notes = " ".join(body["notes"])
        assert f"already in the corpus as {BUNDLED_DOC}" in notes and "as fresh_note.txt" in notes
        assert sorted(p.name for p in api_server.corpus.iterdir()) == sorted([*before, "fresh_note.txt"])
    finally:
        (api_server.corpus / "fresh_note.txt").unlink(missing_ok=True)


# --- item 15: file names in bytes, and in NFC -----------------------------------------------------------------------


def test_a_long_cjk_name_is_cut_to_the_file_systems_bytes(api: httpx.Client, api_server: Server) -> None:
    name = "政策文件" * 29 + ".txt"  # 116 characters, 348 bytes of UTF-8 before the suffix
    response = api.post("/documents", files={"files": (name, "中文政策说明。\n".encode(), "text/plain")})
    assert response.status_code == 201, response.text
    saved = response.json()["added"][0]
    try:
        assert saved.endswith(".txt") and len(saved.encode()) <= 255 and saved.startswith("政策文件")
        assert (api_server.corpus / saved).is_file()
        again = api.post("/documents", files={"files": (name, "另一份说明。\n".encode(), "text/plain")})
        assert again.status_code == 201, again.text
        second = again.json()["added"][0]
        assert second != saved and len(second.encode()) <= 255
        (api_server.corpus / second).unlink()
    finally:
        (api_server.corpus / saved).unlink(missing_ok=True)


def test_a_decomposed_name_is_saved_composed(api: httpx.Client, api_server: Server) -> None:
    nfd = unicodedata.normalize("NFD", "Zürich.txt")
    assert nfd != "Zürich.txt"
    response = api.post("/documents", files={"files": (nfd, b"Zurich office rules.\n", "text/plain")})
    assert response.status_code == 201, response.text
    try:
        assert response.json()["added"] == ["Zürich.txt"] and (api_server.corpus / "Zürich.txt").is_file()
    finally:
        (api_server.corpus / "Zürich.txt").unlink(missing_ok=True)


def test_error_replies_are_json_with_message_and_status(api: httpx.Client) -> None:
    response = api.post("/search", content=b'{"query": "\\ud800"}', headers={"content-type": "application/json"})
    assert set(json.loads(response.content)) == {"message", "status"}
