"""MCP round-trip time: `search` and `ask` through the official SDK's client over stdio (`policyqa mcp`) and over
streamable HTTP (/mcp of `serve`, logged in), against the same calls on the facade in process, in one run.

    .venv/bin/python benchmarks/mcp_roundtrip.py ../shared/eval/policyqa/dev.json [--calls 50]

Index: the 20 PolicyQA dev policies, default settings, built into a temporary folder. Questions: the first `--calls`
distinct PolicyQA questions, k=5. Every path answers every question, after 3 warm-up calls each, twice: back to back
(each path's calls one after another), and interleaved per question in a shuffled order (load from other processes
hits all paths alike; each server idles while the others work, as when an assistant calls now and then):

* facade: `PolicyIndex.search` / `ask` in this process, the baseline: what any interface has to do;
* MCP in process: the SDK's Client connected to the MCPServer object (JSON-RPC dispatch, argument validation, result
  models and their JSON, a worker thread per call; no transport);
* stdio: `policyqa mcp --index INDEX` spawned by the SDK's stdio transport (one session);
* HTTP: `python -m policyqa_app` with POLICYQA_AUTH; the SDK's streamable HTTP client with the Basic header (one
  session; every call a POST to /mcp answered as a server-sent event stream).

`read_document` of a 200-character span (next to no work) shows what a call costs by itself. (Not
`list_documents`: under `serve` it also scans the corpus folder for files not indexed yet.) Reported per path and
tool: p50 and p95 of the wall time per call seen by the caller, and p50 against the facade's p50.
Each path's results are checked against the facade's (same passages and offsets; same state and first citation).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policyqa_data import write_policies  # noqa: E402

from policyqa import build_index, open_index  # noqa: E402
from policyqa.mcp_models import AskResult, Passage, SearchResult  # noqa: E402
from policyqa.mcp_server import create_server, following  # noqa: E402

K = 5
WARM_UP = 3
LOGIN = ("bench", "bench-password")
PATHS = ("facade", "MCP in process", "stdio", "HTTP")
# back to back: each path's calls one after another; interleaved: every path per question (other paths' work and
# idle gaps between a server's calls, as when an assistant calls now and then)
ORDERS = ("back to back", "interleaved")
TOOLS = ("read_document", "search", "ask")  # read_document of a short span: next to no work, the cost of a call
SPAN = 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_serve(index: Path, corpus: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "POLICYQA_AUTH": ":".join(LOGIN), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    command = [sys.executable, "-m", "policyqa_app", "--index", str(index), "--corpus", str(corpus)]
    command += ["--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    status = urllib.request.Request(url + "/api/v1/status", headers={"Authorization": basic_header()})
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"serve exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(status, timeout=5) as reply:
                if reply.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("serve did not start within 180 s")


def basic_header() -> str:
    return "Basic " + base64.b64encode(":".join(LOGIN).encode()).decode()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def same_search(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return [(p["doc_id"], p["start"], p["end"]) for p in a["passages"]] == [
        (p["doc_id"], p["start"], p["end"]) for p in b["passages"]
    ]


def same_answer(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def first(r: dict[str, Any]) -> tuple | None:
        c = r["citations"][0] if r["citations"] else None
        return (c["doc_id"], c["start"], c["end"]) if c else None

    return a["state"] == b["state"] and first(a) == first(b)


def same_span(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["text"] == b["text"]


SAME = {"read_document": same_span, "search": same_search, "ask": same_answer}


async def measure(index_dir: Path, corpus: Path, questions: list[str], log: Path) -> dict[str, Any]:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    index = open_index(index_dir)
    index.warm_up()
    doc_id = index.documents()[0].doc_id

    def facade(tool: str, question: str) -> Any:
        if tool == "read_document":
            return index.document(doc_id)
        return index.search(question, k=K) if tool == "search" else index.ask(question, k=K)

    def as_result(tool: str, question: str, found: Any) -> dict[str, Any]:  # outside the timed call
        if tool == "read_document":
            return {"text": found.text[:SPAN]}
        if tool == "search":
            return SearchResult(query=question, passages=[Passage.of(h) for h in found], close_match=True).model_dump()
        return AskResult.of(found).model_dump()

    proc, url = start_serve(index_dir, corpus, log)
    try:
        async with AsyncExitStack() as stack:
            stdio = StdioServerParameters(
                command=sys.executable,
                args=["-m", "policyqa.cli", "mcp", "--index", str(index_dir)],
                env={"HF_HUB_OFFLINE": "1"},
            )
            http = await stack.enter_async_context(create_mcp_http_client(headers={"Authorization": basic_header()}))
            clients = {
                "MCP in process": await stack.enter_async_context(Client(create_server(following(index)))),
                "stdio": await stack.enter_async_context(Client(stdio, read_timeout_seconds=300)),
                "HTTP": await stack.enter_async_context(
                    Client(streamable_http_client(url + "/mcp", http_client=http), read_timeout_seconds=300)
                ),
            }

            async def one(path: str, tool: str, question: str) -> tuple[float, dict[str, Any]]:
                argument = {
                    "read_document": {"doc_id": doc_id, "start": 0, "end": SPAN},
                    "search": {"query": question, "k": K},
                    "ask": {"question": question, "k": K},
                }[tool]
                if path == "facade":
                    started = time.perf_counter()
                    found = facade(tool, question)
                    seconds = time.perf_counter() - started
                    return seconds, as_result(tool, question, found)
                started = time.perf_counter()
                reply = await clients[path].call_tool(tool, argument)
                seconds = time.perf_counter() - started
                if reply.is_error or reply.structured_content is None:
                    raise SystemExit(f"{path} {tool} failed: {reply.content}")
                return seconds, reply.structured_content

            for tool in TOOLS:
                for path in PATHS:
                    for question in questions[:WARM_UP]:
                        await one(path, tool, question)
            runs, expected = {}, {}
            for order in ORDERS:
                times: dict[tuple[str, str], list[float]] = {(p, t): [] for p in PATHS for t in TOOLS}
                mismatches: dict[tuple[str, str], int] = {key: 0 for key in times}
                for tool, path, question in schedule(order, questions):
                    seconds, result = await one(path, tool, question)
                    times[(path, tool)].append(seconds)
                    if path == "facade":
                        expected[(tool, question)] = result
                    else:
                        mismatches[(path, tool)] += not SAME[tool](expected[(tool, question)], result)
                runs[order] = {"times": times, "mismatches": mismatches}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return runs


def schedule(order: str, questions: list[str]) -> list[tuple[str, str, str]]:
    """(tool, path, question) in the order timed; the facade first for each (tool, question), its result the one
    the others are checked against."""
    if order == "back to back":
        calls = [(t, p, q) for t in TOOLS for p in PATHS[1:] for q in questions]
        return [(t, "facade", q) for t in TOOLS for q in questions] + calls
    shuffled = random.Random(0)
    calls = []
    for question in questions:
        for tool in TOOLS:
            others = list(PATHS[1:])
            shuffled.shuffle(others)
            calls += [(tool, path, question) for path in ("facade", *others)]
    return calls


def report(measured: dict[str, Any], calls: int) -> str:
    times, mismatches = measured["times"], measured["mismatches"]
    lines = [
        f"| path | tool | p50 ms | p95 ms | p50 − facade p50 ms | p50 / facade p50 | results ≠ facade (of {calls}) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for tool in TOOLS:
        base = statistics.median(times[("facade", tool)])
        for path in PATHS:
            values = times[(path, tool)]
            p50 = statistics.median(values)
            differ = "—" if path == "facade" else str(mismatches[(path, tool)])
            lines.append(
                f"| {path} | {tool} | {p50 * 1e3:.2f} | {percentile(values, 0.95) * 1e3:.2f} | "
                f"{(p50 - base) * 1e3:+.2f} | {p50 / base:.2f}x | {differ} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dev_json", type=Path, help="PolicyQA dev.json (SQuAD format)")
    parser.add_argument("--calls", type=int, default=50, help="questions timed per path and tool (default 50)")
    parser.add_argument("--json", type=Path, help="also write the raw times here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="mcp-roundtrip-") as folder:
        corpus, index_dir = Path(folder) / "corpus", Path(folder) / "index"
        questions = list(dict.fromkeys(q.text for q in write_policies(args.dev_json, corpus)))[: args.calls]
        build_index(corpus, index_dir)
        measured = asyncio.run(measure(index_dir, corpus, questions, Path(folder) / "serve.log"))
    for order in ORDERS:
        print(f"\n{order}: {len(questions)} PolicyQA questions per path and tool, k={K}, 20 policies\n")
        print(report(measured[order], len(questions)))
    if args.json:
        raw = {order: {f"{p}/{t}": v for (p, t), v in run["times"].items()} for order, run in measured.items()}
        args.json.write_text(json.dumps(raw, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
