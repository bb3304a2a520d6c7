"""/ask latency and load through the web UI's two HTTP paths, also during a /rebuild.

    .venv/bin/python benchmarks/ui_load.py [--rounds 3] [--requests 10]

Serves an index of a temp copy of corpus/ on a free 127.0.0.1 port. Two paths to the same answers:
- Gradio: the UI's /ask event through Gradio's queue (gradio_client: join the queue, read the result over SSE); it
  returns the whole conversation (up to 20 turns) as HTML, since each client is one session.
- Gradio, as a browser speaks it ("gradio-sse" rows): POST {prefix}/queue/join, then read the session's event stream
  ({prefix}/queue/data) until the event completes. gradio_client (2.7) waits for each stream message in a
  `time.sleep(0.05)` poll loop (gradio_client/utils.py, stream_sse_v1plus) and opens a new connection per request,
  which adds ~50-100 ms per answer on the client's side that a browser's EventSource does not.
- REST: POST /api/v1/ask (FastAPI, JSON, one answer), with a plain keep-alive HTTP connection per client.
One client asks the bundled questions `--rounds` times; 8 and 16 clients (a thread each) send `--requests` each;
8 again during a rebuild that indexes added synthetic documents. Error = exception, timeout, error box or a non-200
reply. All waits bounded; server always stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradio_client import Client

from policyqa import build_index

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT_S, REQUEST_TIMEOUT_S, PHASE_TIMEOUT_S, REBUILD_TIMEOUT_S = 180.0, 120.0, 600.0, 600.0
QUESTIONS, DOCS, PARAGRAPHS = REPO / "eval" / "bundled_questions.jsonl", 4, 30  # synthetic docs for the rebuild
Sample = tuple[float, float, bool]  # (start, seconds, ok)


@dataclass
class Rebuild:
    ok: bool = False
    seconds: float = math.inf  # queue + run time, as the client sees it
    note: str = "did not finish"


def wait_until_up(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=5) as response:
            if response.status == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"server not up (exit code {proc.poll()}):\n{log.read_text(errors='replace')[-3000:]}")


def ask(client: Client, question: str) -> Sample:
    started = time.perf_counter()
    try:
        ok = "pqa-error" not in client.submit(question, api_name="/ask").result(timeout=REQUEST_TIMEOUT_S)[0]
    except Exception:  # noqa: BLE001 - a failed or timed-out request is counted, not fatal
        ok = False
    return started, time.perf_counter() - started, ok


def ask_rest(conn: http.client.HTTPConnection, question: str) -> Sample:
    started = time.perf_counter()
    try:
        conn.request("POST", "/api/v1/ask", json.dumps({"question": question}), {"Content-Type": "application/json"})
        response = conn.getresponse()
        body = json.loads(response.read())
        ok = response.status == 200 and body.get("state") in ("answered", "partial", "refused")
    except Exception:  # noqa: BLE001 - counted, and the connection is opened again for the next request
        conn.close()
        ok = False
    return started, time.perf_counter() - started, ok


class SseClient:
    """The UI's /ask event as the browser sends it: join the queue, read the session's stream to the result."""

    def __init__(self, url: str):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.joins = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT_S)
        with urllib.request.urlopen(url + "config", timeout=REQUEST_TIMEOUT_S) as response:
            config = json.loads(response.read())
        self.prefix = config.get("api_prefix", "")
        self.fn_index = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "ask")
        self.session = uuid.uuid4().hex[:12]

    def ask(self, question: str) -> bool:
        body = {"data": [question, 5, "hybrid", [], None], "fn_index": self.fn_index, "session_hash": self.session}
        headers = {"Content-Type": "application/json"}
        self.joins.request("POST", f"{self.prefix}/queue/join", json.dumps(body | {"event_data": None}), headers)
        joined = self.joins.getresponse()
        event_id = json.loads(joined.read())["event_id"]
        stream = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT_S)
        try:
            stream.request("GET", f"{self.prefix}/queue/data?session_hash={self.session}")
            response = stream.getresponse()
            while line := response.readline():
                if not line.startswith(b"data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed" and message.get("event_id") == event_id:
                    html = (message.get("output") or {}).get("data", [""])[0] or ""
                    return bool(message.get("success")) and "pqa-error" not in html
            return False
        finally:
            stream.close()

    def close(self) -> None:
        self.joins.close()


def ask_sse(client: SseClient, question: str) -> Sample:
    started = time.perf_counter()
    try:
        ok = client.ask(question)
    except Exception:  # noqa: BLE001 - counted, and the join connection is opened again for the next request
        client.joins.close()
        ok = False
    return started, time.perf_counter() - started, ok


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)  # nearest-rank percentile
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))] if ordered else math.nan


def open_client(url: str, path: str) -> tuple[Any, Any]:
    """(client, its ask function) for a path: "gradio" (gradio_client), "gradio-sse" (as a browser) or "rest"."""
    if path == "gradio-sse":
        return SseClient(url), ask_sse
    if path == "rest":
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_TIMEOUT_S)
        return conn, ask_rest
    return Client(url, verbose=False), ask


def one_client(
    url: str, path: str, questions: list[str], user: int, n: int, go: threading.Barrier, stop: float
) -> list[Sample]:
    try:
        client, asker = open_client(url, path)
    except Exception:  # noqa: BLE001
        go.abort()  # the others must not wait for this client
        return [(time.perf_counter(), 0.0, False)] * n
    try:
        with contextlib.suppress(threading.BrokenBarrierError):
            go.wait(timeout=REQUEST_TIMEOUT_S)
        picks = [questions[(user * n + i) % len(questions)] for i in range(n)]
        return [(stop, 0.0, False) if time.perf_counter() > stop else asker(client, q) for q in picks]
    finally:
        client.close()


def load(url: str, questions: list[str], users: int, n: int, path: str = "gradio") -> tuple[list[Sample], float]:
    """`users` clients sending `n` questions each, all started together: (samples, wall seconds)."""
    go, stop = threading.Barrier(users + 1), time.perf_counter() + PHASE_TIMEOUT_S
    pool = ThreadPoolExecutor(max_workers=users)
    try:
        futures = [pool.submit(one_client, url, path, questions, u, n, go, stop) for u in range(users)]
        with contextlib.suppress(threading.BrokenBarrierError):
            go.wait(timeout=REQUEST_TIMEOUT_S)
        started = time.perf_counter()
        done, pending = wait(futures, timeout=PHASE_TIMEOUT_S + REQUEST_TIMEOUT_S)
        wall = time.perf_counter() - started
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # a stuck client must not hang the benchmark
    return [s for f in done for s in f.result()] + [(started, wall, False)] * (n * len(pending)), wall


def write_synthetic_docs(corpus: Path, docs: int, paragraphs: int, name: str = "synthetic_policy") -> None:
    rng = random.Random(7)
    actors = ["the ministry", "the regional council", "member states", "the secretariat", "partner agencies"]
    topics = ["data retention", "border security", "water sharing", "trade corridors", "refugee support"]
    for d in range(1, docs + 1):
        body = "\n\n".join(
            " ".join(
                f"Under section {p}.{s}, {rng.choice(actors)} shall review {rng.choice(topics)} within "
                f"{rng.randint(5, 90)} days and report to {rng.choice(actors)} by {rng.randint(2020, 2026)}."
                for s in range(1, 6)
            )
            for p in range(1, paragraphs + 1)
        )
        (corpus / f"{name}_{d}.md").write_text(f"# Synthetic policy {d}\n\n{body}\n", encoding="utf-8")


def rebuild(url: str, out: Rebuild) -> None:
    """The Corpus tab's "Rebuild index": api_visibility="undocumented" hides it from the API page, not from clients."""
    started = time.perf_counter()
    try:
        with contextlib.closing(Client(url, verbose=False)) as client:
            report, header, *_ = client.submit(api_name="/rebuild").result(timeout=REBUILD_TIMEOUT_S)
        docs = m.group(1) if (m := re.search(r"<b>(\d+)</b> document", header)) else "?"
        out.ok, out.note = "Rebuild failed" not in report, f"{docs} documents indexed after; " + report.splitlines()[-2]
    except Exception as exc:  # noqa: BLE001
        out.note = f"{type(exc).__name__}: {exc}"
    out.seconds = time.perf_counter() - started


def row(name: str, samples: list[Sample], wall: float) -> str:
    ms = [s[1] * 1000 for s in samples if s[2]]
    cells = [len(samples), sum(not s[2] for s in samples), pct(ms, 50), pct(ms, 95), sum(ms) / max(1, len(ms))]
    return f"| {name} | " + " | ".join(f"{c:.0f}" for c in cells) + f" | {len(ms) / wall:.2f} | {wall:.1f} |"


def run(args: argparse.Namespace, work: Path) -> None:
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines() if line.strip()]
    corpus, index, log = work / "corpus", work / "index", work / "server.log"
    shutil.copytree(REPO / "corpus", corpus)
    build_index(corpus, index, progress=False, log=lambda _m: None)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    env = {k: v for k, v in os.environ.items() if k != "POLICYQA_AUTH"}
    env.update(HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "policyqa_app", "--index", str(index), "--corpus", str(corpus)]
    with log.open("wb") as out:
        proc = subprocess.Popen([*command, "--host", "127.0.0.1", "--port", str(port)], stdout=out, stderr=out, env=env)
    try:
        wait_until_up(url, proc, log)
        rows, cold = [], {}
        for path in ("gradio", "gradio-sse", "rest"):
            client, asker = open_client(url, path)
            with contextlib.closing(client):
                cold[path] = asker(client, questions[0])
                started = time.perf_counter()
                seq = [asker(client, q) for _ in range(args.rounds) for q in questions]
            rows.append(row(f"{path}: 1 client, sequential, {args.rounds} rounds", seq, time.perf_counter() - started))
            rows += [row(f"{path}: {u} clients", *load(url, questions, u, args.requests, path)) for u in (8, 16)]
        rebuilds = []
        for path in ("gradio", "gradio-sse", "rest"):  # each path during a rebuild of its own added documents
            write_synthetic_docs(corpus, DOCS, PARAGRAPHS, f"synthetic_{path.replace('-', '_')}")
            result, rebuild_start = Rebuild(), time.perf_counter()
            (builder := threading.Thread(target=rebuild, args=(url, result), daemon=True)).start()
            time.sleep(0.5)  # the rebuild is queued first, the load joins it
            samples, wall = load(url, questions, 8, args.requests, path)
            builder.join(timeout=REBUILD_TIMEOUT_S)
            rows.append(row(f"{path}: 8 clients during rebuild", samples, wall))
            overlap = sum(rebuild_start <= s[0] < rebuild_start + result.seconds for s in samples)
            rebuilds.append((path, result, overlap, len(samples)))
        tracebacks = log.read_text(errors="replace").count("Traceback")
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
        proc.kill()  # a no-op when it has exited
        proc.wait(timeout=15)
    print(f"`{shlex.join(['.venv/bin/python', 'benchmarks/ui_load.py', *sys.argv[1:]])}`\n")
    print(f"/ask over {len(questions)} bundled questions; concurrent clients send {args.requests} each.\n")
    print("| scenario | requests | errors | p50 ms | p95 ms | mean ms | answers/s | wall s |\n" + "|---" * 8 + "|")
    firsts = ", ".join(f"{path} {sample[1] * 1000:.0f} ms" for path, sample in cold.items())
    print("\n".join(rows) + f"\n\nFirst request of each path (not counted): {firsts}")
    for path, result, overlap, count in rebuilds:
        done = f"{'ok' if result.ok else 'FAILED'} in {result.seconds:.1f} s"
        print(f"Rebuild via /rebuild (+{DOCS} documents x {PARAGRAPHS} paragraphs) under {path}: {done}; ", end="")
        print(f"{overlap}/{count} requests started while it ran; {result.note}.")
    print(f"Server log: {tracebacks} traceback(s).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="sequential rounds over the questions (default 3)")
    parser.add_argument("--requests", type=int, default=10, help="requests per concurrent client (default 10)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the server on kill too
    os.environ.update(GRADIO_ANALYTICS_ENABLED="False", HF_HUB_DISABLE_TELEMETRY="1")  # read by each Client()
    os.environ["NO_PROXY"] = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1"]))
    with tempfile.TemporaryDirectory(prefix="policyqa-ui-load-") as tmp:
        run(args, Path(tmp))


if __name__ == "__main__":
    main()
