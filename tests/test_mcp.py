"""MCP for AI assistants, through the official SDK's own client: `policyqa mcp` spawned over stdio, and /mcp of a
running `serve` over streamable HTTP with and without the login. Real index over the bundled corpus, real model."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp", reason="the mcp extra is not installed")

from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared._httpx_utils import create_mcp_http_client  # noqa: E402

from policyqa import build_index  # noqa: E402
from policyqa.api import open_index  # noqa: E402
from policyqa.mcp_server import INSTALL_HINT, MAX_READ_CHARS  # noqa: E402
from tests.conftest import BUNDLED_CORPUS, BUNDLED_DOC, DOHA_QUESTION, REPO  # noqa: E402
from tests.e2e.conftest import (  # noqa: E402
    Server,
    api_with_login,
    bundled_copy,
    free_port,
    running_app,
    stopped_at_exit,
    wait_until_up,
)

TOOLS = {"search", "ask", "compare", "list_documents", "read_document"}
LOGIN = ("analyst", "correct horse")
Session = Callable[[Client], Awaitable[Any]]


def child_env() -> dict[str, str]:
    return {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO / "src")}


def over_stdio(index: Path, session: Session, *extra: str) -> Any:
    """`policyqa mcp --index INDEX` spawned by the SDK's stdio transport; `session(client)` runs against it."""
    command = ["-m", "policyqa.cli", "mcp", "--index", str(index), *extra]
    params = StdioServerParameters(command=sys.executable, args=command, env=child_env(), cwd=str(REPO))

    async def run() -> Any:
        async with Client(params, read_timeout_seconds=120) as client:
            return await session(client)

    return asyncio.run(run())


def over_http(url: str, session: Session, login: tuple[str, str] | None = LOGIN) -> Any:
    token = base64.b64encode(":".join(login).encode()).decode() if login else None

    async def run() -> Any:
        headers = {"Authorization": f"Basic {token}"} if token else None
        async with (
            create_mcp_http_client(headers=headers) as http,
            Client(streamable_http_client(url + "/mcp", http_client=http), read_timeout_seconds=120) as client,
        ):
            return await session(client)

    return asyncio.run(run())


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def error_of(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool}({arguments}) should fail, gave {result.structured_content}"
    return result.content[0].text  # type: ignore[union-attr]


def stored_text(index: Path, doc_id: str) -> str:
    text = open_index(index).document_text(doc_id)
    assert text is not None
    return text


def test_stdio_lists_tools_and_search_ask_read_carry_exact_offsets(bundled_index: Path) -> None:
    async def session(client: Client) -> dict[str, Any]:
        listed = (await client.list_tools()).tools
        return {
            "tools": {t.name: t for t in listed},
            "search": await call(client, "search", query=DOHA_QUESTION, k=3),
            "ask": await call(client, "ask", question=DOHA_QUESTION),
            "span": await call(client, "read_document", doc_id=BUNDLED_DOC, start=100, end=160),
            "whole": await call(client, "read_document", doc_id=BUNDLED_DOC),
        }

    got = over_stdio(bundled_index, session)
    text = stored_text(bundled_index, BUNDLED_DOC)
    assert set(got["tools"]) == TOOLS
    assert all(t.output_schema and t.description for t in got["tools"].values())  # typed, structured results

    passages = got["search"]["passages"]
    assert len(passages) == 3 and "Doha" in passages[0]["text"] and got["search"]["close_match"] is True
    for p in passages:
        assert p["doc_id"] == BUNDLED_DOC and text[p["start"] : p["end"]] == p["text"]

    answer = got["ask"]
    assert answer["state"] == "answered" and "[1]" in answer["text"] and answer["citations"]
    for c in answer["citations"]:
        assert c["doc_id"] == BUNDLED_DOC and text[c["start"] : c["end"]] == c["quote"]
    first = answer["citations"][0]
    assert "Doha" in first["quote"] and first["start"] <= first["answer_start"] < first["answer_end"] <= first["end"]
    assert "Doha" in text[first["answer_start"] : first["answer_end"]]

    assert got["span"]["text"] == text[100:160] and (got["span"]["start"], got["span"]["end"]) == (100, 160)
    whole = got["whole"]
    assert whole["text"] == text and whole["length"] == len(text) and whole["truncated"] is False


def test_stdio_bad_input_is_a_tool_error_and_the_server_keeps_answering(bundled_index: Path) -> None:
    async def session(client: Client) -> tuple[dict[str, str], dict[str, Any]]:
        errors = {
            "unknown doc": await error_of(client, "read_document", doc_id="no-such.pdf"),
            "end before start": await error_of(client, "read_document", doc_id=BUNDLED_DOC, start=50, end=10),
            "start past end": await error_of(client, "read_document", doc_id=BUNDLED_DOC, start=10**7),
            "end past end": await error_of(client, "read_document", doc_id=BUNDLED_DOC, end=10**7),
            "negative start": await error_of(client, "read_document", doc_id=BUNDLED_DOC, start=-1),
            "blank query": await error_of(client, "search", query="   "),
            "k zero": await error_of(client, "search", query="Doha", k=0),
            "no questions": await error_of(client, "compare", questions=[]),
            "missing argument": await error_of(client, "ask"),
        }
        return errors, await call(client, "search", query="Doha", k=1)  # still serving

    errors, after = over_stdio(bundled_index, session)
    length = len(stored_text(bundled_index, BUNDLED_DOC))
    assert "no document 'no-such.pdf'" in errors["unknown doc"] and "list_documents" in errors["unknown doc"]
    assert "end 10 is before start 50" in errors["end before start"]
    assert f"has {length:,} characters" in errors["start past end"]
    assert f"has {length:,} characters" in errors["end past end"]
    assert "greater than or equal to 0" in errors["negative start"]
    assert "empty" in errors["blank query"]
    assert "k" in errors["k zero"] and "greater than or equal to 1" in errors["k zero"]
    assert "questions" in errors["no questions"]
    assert "question" in errors["missing argument"]
    assert not any("Traceback" in e for e in errors.values())
    assert after["passages"][0]["doc_id"] == BUNDLED_DOC


def test_stdio_compare_and_list_documents_with_the_corpus(tmp_path: Path, bundled_index: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / BUNDLED_DOC).write_bytes((BUNDLED_CORPUS / BUNDLED_DOC).read_bytes())
    (corpus / "added-later.md").write_text("# Retention\n\nFootage is kept for 30 days.\n", encoding="utf-8")
    questions = [DOHA_QUESTION, "How many days is CCTV footage kept?"]

    async def session(client: Client) -> tuple[dict[str, Any], dict[str, Any]]:
        return await call(client, "list_documents"), await call(client, "compare", questions=questions)

    listed, compared = over_stdio(bundled_index, session, "--corpus", str(corpus))
    sha256 = hashlib.sha256((BUNDLED_CORPUS / BUNDLED_DOC).read_bytes()).hexdigest()
    [document] = listed["documents"]
    assert document["doc_id"] == BUNDLED_DOC and document["sha256"] == sha256 and document["chunks"] > 0
    assert listed["not_indexed"] == ["added-later.md"]

    rows = compared["rows"]
    assert [(r["question"], r["doc_id"]) for r in rows] == [(q, BUNDLED_DOC) for q in questions]
    assert all(r["sha256"] == sha256 for r in rows)
    text = stored_text(bundled_index, BUNDLED_DOC)
    doha, cctv = rows
    assert doha["state"] == "answered" and "Doha" in doha["quote"]
    assert text[doha["start"] : doha["end"]] == doha["quote"]
    assert cctv["state"] != "answered"  # the conference report says nothing about CCTV


def test_stdio_follows_a_build_published_meanwhile_and_reads_long_documents_in_bounded_spans(
    tmp_path: Path, bundled_index: Path
) -> None:
    corpus, index = bundled_copy(tmp_path, bundled_index)
    long_text = "# Long annex\n\n" + "".join(f"Clause {n}: records are kept for {n} days. " for n in range(1, 900))
    assert len(long_text) > MAX_READ_CHARS + 1000

    async def session(client: Client) -> dict[str, Any]:
        before = await call(client, "list_documents")
        (corpus / "annex.md").write_text(long_text, encoding="utf-8")
        build_index(corpus, index)  # another process would do the same: a new generation is published
        after = await call(client, "list_documents")
        first = await call(client, "read_document", doc_id="annex.md")
        rest = await call(client, "read_document", doc_id="annex.md", start=first["end"])
        return {"before": before, "after": after, "first": first, "rest": rest}

    got = over_stdio(index, session)
    assert [d["doc_id"] for d in got["before"]["documents"]] == [BUNDLED_DOC]
    assert sorted(d["doc_id"] for d in got["after"]["documents"]) == sorted([BUNDLED_DOC, "annex.md"])
    assert got["after"]["generation"] != got["before"]["generation"]
    text = stored_text(index, "annex.md")
    first, rest = got["first"], got["rest"]
    assert first["truncated"] is True and (first["start"], first["end"]) == (0, MAX_READ_CHARS)
    assert first["text"] == text[:MAX_READ_CHARS] and first["length"] == len(text)
    assert rest["truncated"] is False and rest["text"] == text[MAX_READ_CHARS:] and rest["end"] == len(text)


def test_mcp_without_an_index_says_how_to_build_one(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "policyqa.cli", "mcp", "--index", str(tmp_path / "no-index")],
        env={**os.environ, **child_env()},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "policyqa build" in done.stderr and "Traceback" not in done.stderr


def test_mcp_without_the_extra_names_it(tmp_path: Path, bundled_index: Path) -> None:
    blocked = "import sys; sys.modules['mcp'] = None; from policyqa.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", blocked, "mcp", "--index", str(bundled_index)],
        env={**os.environ, **child_env()},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "'mcp' extra" in done.stderr and INSTALL_HINT in done.stderr and "Traceback" not in done.stderr


def test_serve_without_the_extra_starts_without_mcp_and_says_so(tmp_path: Path, bundled_index: Path) -> None:
    blocked = "import sys; sys.modules['mcp'] = None; from policyqa_app.__main__ import main; sys.exit(main())"
    corpus, index = bundled_copy(tmp_path, bundled_index)
    log = tmp_path / "server.log"
    port = free_port()
    args = ["--index", str(index), "--corpus", str(corpus), "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if k != "POLICYQA_AUTH"} | child_env()
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", blocked, *args], stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    with stopped_at_exit(proc):
        wait_until_up(url + "/api/v1/status", proc, log)
        import urllib.error
        import urllib.request

        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(url + "/mcp", data=b"{}", method="POST"), timeout=10)
        assert refused.value.code in (404, 405)
    said = log.read_text(errors="replace")
    assert "MCP for AI assistants is off" in said and INSTALL_HINT in said and "Traceback" not in said


@pytest.fixture(scope="module")
def logged_in(tmp_path_factory: pytest.TempPathFactory, bundled_index: Path) -> Iterator[Server]:
    with api_with_login(tmp_path_factory.mktemp("mcp-http"), bundled_index, LOGIN) as server:
        yield server


def test_http_with_the_login_serves_the_same_tools(logged_in: Server) -> None:
    async def session(client: Client) -> dict[str, Any]:
        return {
            "tools": {t.name for t in (await client.list_tools()).tools},
            "search": await call(client, "search", query=DOHA_QUESTION, k=2),
            "ask": await call(client, "ask", question=DOHA_QUESTION),
            "bad": await error_of(client, "read_document", doc_id="missing.txt"),
        }

    got = over_http(logged_in.url, session)
    text = stored_text(logged_in.index, BUNDLED_DOC)
    assert got["tools"] == TOOLS
    assert all(text[p["start"] : p["end"]] == p["text"] for p in got["search"]["passages"])
    citation = got["ask"]["citations"][0]
    assert got["ask"]["state"] == "answered" and text[citation["start"] : citation["end"]] == citation["quote"]
    assert "no document 'missing.txt'" in got["bad"]
    assert "MCP for AI assistants: http://127.0.0.1:" in logged_in.log.read_text(errors="replace")


@pytest.mark.parametrize("login", [None, ("analyst", "wrong")], ids=["no login", "wrong password"])
def test_http_without_the_login_is_refused(logged_in: Server, login: tuple[str, str] | None) -> None:
    import httpx2

    headers = {"Authorization": "Basic " + base64.b64encode(":".join(login).encode()).decode()} if login else {}
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    raw = httpx2.post(logged_in.url + "/mcp", json=initialize, headers=headers, timeout=30)
    assert raw.status_code == 401 and raw.headers.get("www-authenticate") == "Basic"
    assert raw.json()["message"] in ("user and password required (HTTP Basic)", "wrong user or password")

    async def session(client: Client) -> Any:
        return await client.list_tools()

    with pytest.raises(BaseException) as refused:  # noqa: B017 - the SDK raises an exception group
        over_http(logged_in.url, session, login)
    assert "401" in repr(refused.value) or "error response" in repr(refused.value).lower()


def initialize(url: str, headers: dict[str, str]) -> Any:
    """A bare MCP initialize request, as any client's first."""
    import httpx2

    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    accept = {"Accept": "application/json, text/event-stream"}
    return httpx2.post(url + "/mcp", json=body, headers=accept | headers, timeout=30)


def test_http_with_the_login_accepts_another_host_name(logged_in: Server) -> None:
    """Behind a --share link or a reverse proxy the Host header names another machine; the login guards /mcp."""
    login = "Basic " + base64.b64encode(":".join(LOGIN).encode()).decode()
    reply = initialize(logged_in.url, {"Authorization": login, "Host": "policyqa.example.org"})
    assert reply.status_code == 200 and "protocolVersion" in reply.text


def test_http_without_a_login_refuses_other_host_names(tmp_path: Path, bundled_index: Path) -> None:
    """Without a login, a web page that rebinds its name to 127.0.0.1 (DNS rebinding) must not reach the tools."""
    corpus, index = bundled_copy(tmp_path, bundled_index)
    with running_app(corpus, index, tmp_path / "server.log") as running:
        url = running.url.rstrip("/")
        assert initialize(url, {}).status_code == 200
        foreign = initialize(url, {"Host": "attacker.example:7860", "Origin": "http://attacker.example:7860"})
        assert foreign.status_code in (400, 403, 421)
