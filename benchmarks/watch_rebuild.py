"""A corpus that indexes itself, timed: REST /ask p95 at 8 clients during rebuilds, and the watch delay.

    .venv/bin/python benchmarks/watch_rebuild.py [--requests 12] [--docs 4] [--repeats 3]

Starts a real `serve` (python -m policyqa_app, with a login) over a private copy of the bundled corpus and its index
on a free 127.0.0.1 port, then measures:
- idle: 8 clients, each `--requests` POST /api/v1/ask (keep-alive connection per client): the baseline;
- during a watcher rebuild: `--docs` documents of eval/realdocs/corpus are copied into the corpus; the watcher
  indexes them in its low-priority child process; the 8 clients ask without pause until the build is over; only
  requests that start and end inside the build window count (window = /status says building);
- during a build without the change (a second server with --no-watch over its own copy, the same documents built by
  `policyqa build` at normal priority on every core): the figure the change is measured against;
- the watch delay: a small new file dropped into the corpus until POST /api/v1/search finds it, then deleted until
  it is gone (`--repeats` times, no load).
Prints a Markdown table; ratios against the idle baseline of the same run.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REALDOCS = REPO / "eval" / "realdocs" / "corpus"
# Mixed readers and sizes, none of them an OCR scan (an OCR'd page would dominate the build time).
DEFAULT_DOCS = [
    "37signals_privacy_policy.md",
    "fedramp_20x_significant_change_notifications.html",
    "fedramp_penetration_test_guidance.pdf",
    "nist_privacy_framework_1.0.pdf",
    "omb_m-24-15_modernizing_fedramp.pdf",
    "github_general_privacy_statement.md",
]
QUESTIONS = REPO / "eval" / "bundled_questions.jsonl"
AUTH = ("bench", "bench-pw")
START_TIMEOUT_S, REQUEST_TIMEOUT_S, BUILD_TIMEOUT_S = 180.0, 120.0, 900.0
Sample = tuple[float, float, bool]  # (start, seconds, ok)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)  # nearest-rank percentile
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))] if ordered else math.nan


class Api:
    """One keep-alive connection with the login; JSON in and out."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
        token = base64.b64encode(":".join(AUTH).encode()).decode()
        self.headers = {"Content-Type": "application/json", "Authorization": f"Basic {token}"}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        try:
            self.conn.request(method, "/api/v1" + path, json.dumps(body) if body is not None else None, self.headers)
            response = self.conn.getresponse()
            return response.status, json.loads(response.read())
        except (OSError, http.client.HTTPException, json.JSONDecodeError):
            self.conn.close()  # opened again by the next request
            return 0, None

    def ask(self, question: str) -> Sample:
        started = time.perf_counter()
        status, body = self.call("POST", "/ask", {"question": question})
        ok = status == 200 and body.get("state") in ("answered", "partial", "unsure", "refused")
        return started, time.perf_counter() - started, ok


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    corpus: Path, index: Path, log: Path, watch: bool, code: Path | None = None
) -> tuple[subprocess.Popen, int]:
    """`code`: a folder whose `src/` and `policyqa_app` (a link to its app/) run instead of this checkout."""
    port = free_port()
    env = {**os.environ, "POLICYQA_AUTH": ":".join(AUTH), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    if code is not None:  # ahead of the editable install, which Python consults last
        env["PYTHONPATH"] = f"{code / 'src'}{os.pathsep}{code / 'packages'}"
    command = [sys.executable, "-m", "policyqa_app", "--index", str(index), "--corpus", str(corpus)]
    command += ["--port", str(port)] + ([] if watch or code else ["--no-watch"])
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                if response.status == 200:
                    return proc, port
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"server not up (exit code {proc.poll()}):\n{log.read_text(errors='replace')[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


def load(port: int, questions: list[str], clients: int, requests: int) -> list[Sample]:
    def one(i: int) -> list[Sample]:
        api = Api(port)
        return [api.ask(questions[(i + j) % len(questions)]) for j in range(requests)]

    with ThreadPoolExecutor(clients) as pool:
        return [s for batch in pool.map(one, range(clients)) for s in batch]


def load_while(port: int, questions: list[str], clients: int, busy: Callable[[], bool]) -> list[Sample]:
    """Clients ask without pause until `busy()` turns False (checked by the caller's thread every 0.25 s)."""
    done = threading.Event()

    def one(i: int) -> list[Sample]:
        api, samples, j = Api(port), [], 0
        while not done.is_set():
            samples.append(api.ask(questions[(i + j) % len(questions)]))
            j += 1
        return samples

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(one, i) for i in range(clients)]
        deadline = time.monotonic() + BUILD_TIMEOUT_S
        while busy() and time.monotonic() < deadline:
            time.sleep(0.25)
        done.set()
        return [s for f in futures for s in f.result()]


def row(name: str, samples: list[Sample], base_p95: float | None, note: str = "") -> str:
    ok = [s[1] * 1000 for s in samples if s[2]]
    errors = sum(not s[2] for s in samples)
    p50, p95 = pct(ok, 50), pct(ok, 95)
    ratio = f"{p95 / base_p95:.2f}x" if base_p95 else "1.00x (baseline)"
    return f"| {name} | {len(samples)} | {errors} | {p50:.0f} | **{p95:.0f}** | {ratio} | {note} |"


def build_window(
    port: int, start_build: Callable[[], None], building: Callable[[], bool | None], clients: int, questions: list[str]
) -> tuple[list[Sample], float]:
    """Start a build and load the server until it ends; the requests that start and end inside the build (from the
    first time `building()` is True to the first time after that it is False; None: not started yet)."""
    window: dict[str, float] = {}

    def busy() -> bool:
        now, state = time.perf_counter(), building()
        if state:
            window.setdefault("start", now)
            return True
        if "start" in window:
            window["end"] = now
            return False
        return True  # not started yet

    start_build()
    samples = load_while(port, questions, clients, busy)
    start, end = window.get("start", math.nan), window.get("end", math.nan)
    return [s for s in samples if s[0] >= start and s[0] + s[1] <= end], end - start


def watcher_building(port: int) -> Callable[[], bool | None]:
    api = Api(port)

    def building() -> bool | None:
        status, body = api.call("GET", "/status")
        state = (body or {}).get("watch", {}).get("state") if status == 200 else None
        return True if state == "building" else (None if state == "changed" else False)

    return building


def watch_delay(port: int, corpus: Path, repeats: int) -> tuple[list[float], list[float]]:
    api, found_s, gone_s = Api(port), [], []
    for n in range(repeats):
        name, word = f"watch_probe_{n}.md", f"Zyxquorin{n}"
        query = {"query": f"{word} retention rule", "k": 3, "mode": "bm25"}

        def present(name: str = name, query: dict[str, Any] = query) -> bool:
            status, body = api.call("POST", "/search", query)
            return status == 200 and name in {h["doc_id"] for h in body["hits"]}

        (corpus / name).write_text(f"# {word} rule\n\nThe {word} retention rule keeps logs for 90 days.\n")
        found_s.append(until(present))
        (corpus / name).unlink()
        gone_s.append(until(lambda present=present: not present()))
    return found_s, gone_s


def until(condition: Callable[[], bool], timeout: float = 120.0) -> float:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            return math.inf
        time.sleep(0.1)
    return time.perf_counter() - started


def run(args: argparse.Namespace, work: Path) -> None:
    from policyqa import build_index

    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines() if line.strip()]
    docs = [REALDOCS / name for name in DEFAULT_DOCS[: args.docs]]
    corpus, index = work / "corpus", work / "index"
    shutil.copytree(REPO / "corpus", corpus)
    build_index(corpus, index, progress=False, log=lambda _m: None)
    corpus_start, index_start = work / "corpus-start", work / "index-start"
    shutil.copytree(corpus, corpus_start)
    shutil.copytree(index, index_start, ignore=shutil.ignore_patterns("lock"))
    before_corpus, before_index = work / "before-corpus", work / "before-index"
    shutil.copytree(corpus, before_corpus)
    shutil.copytree(index, before_index, ignore=shutil.ignore_patterns("lock"))
    rows: list[str] = []

    proc, port = start_server(corpus, index, work / "server.log", watch=True)
    try:
        load(port, questions, args.clients, 2)  # warm-up
        idle = load(port, questions, args.clients, args.requests)
        base = pct([s[1] * 1000 for s in idle if s[2]], 95)
        rows.append(row(f"idle, {args.clients} clients", idle, None))
        inside, seconds = build_window(
            port,
            lambda: [shutil.copy(d, corpus / d.name) for d in docs],
            watcher_building(port),
            args.clients,
            questions,
        )
        rows.append(
            row("during the watcher's rebuild (child process, nice 19, 1 core)", inside, base, f"build {seconds:.1f} s")
        )
        found_s, gone_s = watch_delay(port, corpus, args.repeats)
    finally:
        stop(proc)

    rows.append(plain_build_row(args, work, before_corpus, before_index, docs, questions, base))
    if args.before_tree:
        shutil.rmtree(before_corpus)
        shutil.rmtree(before_index)
        shutil.copytree(corpus_start, before_corpus)
        shutil.copytree(index_start, before_index, ignore=shutil.ignore_patterns("lock"))
        rows.append(before_change(args, work, before_corpus, before_index, docs, questions, base))
    cpu = _cpu()
    print(
        f"\nCPU: {cpu}; {os.cpu_count()} cores visible; {len(docs)} documents added: {', '.join(d.name for d in docs)}"
    )
    print(f"| /api/v1/ask, {args.clients} clients | requests | errors | p50 ms | p95 ms | p95 vs idle | note |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(
        f"\nWatch delay ({args.repeats} drops, quiet period 2 s): dropped file found by /api/v1/search after "
        f"{_spread(found_s)}; deleted file gone after {_spread(gone_s)} (target <= 30 s)"
    )


def plain_build_row(
    args: argparse.Namespace, work: Path, corpus: Path, index: Path, docs: list[Path], questions: list[str], base: float
) -> str:
    """Without the change, approximated: the same documents built by `policyqa build` at normal priority on every
    core, beside a server that does not build itself."""
    proc, port = start_server(corpus, index, work / "before.log", watch=False)
    try:
        load(port, questions, args.clients, 2)
        running: list[subprocess.Popen] = []

        def plain_build() -> None:
            for d in docs:
                shutil.copy(d, corpus / d.name)
            command = [sys.executable, "-m", "policyqa.cli", "build", "--corpus", str(corpus), "--index", str(index)]
            running.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        inside, seconds = build_window(
            port, plain_build, lambda: None if not running else running[0].poll() is None, args.clients, questions
        )
        return row("during `policyqa build` at normal priority on all cores", inside, base, f"build {seconds:.1f} s")
    finally:
        stop(proc)


def before_change(
    args: argparse.Namespace, work: Path, corpus: Path, index: Path, docs: list[Path], questions: list[str], base: float
) -> str:
    """Before the change: the code of `--before-tree` (e.g. `git archive 1043a87 | tar -x -C ../before`), whose
    POST /build builds in the server's own process at normal priority on every core."""
    tree = Path(args.before_tree).resolve()
    (work / "packages").mkdir(exist_ok=True)
    (work / "packages" / "policyqa_app").symlink_to(tree / "app")
    (work / "src").symlink_to(tree / "src")
    proc, port = start_server(corpus, index, work / "before.log", watch=False, code=work)
    try:
        load(port, questions, args.clients, 2)
        builder, status_api = Api(port), Api(port)

        def post_build() -> None:
            for d in docs:
                shutil.copy(d, corpus / d.name)
            threading.Thread(target=builder.call, args=("POST", "/build"), daemon=True).start()

        def building() -> bool | None:
            status, body = status_api.call("GET", "/status")
            return bool(body.get("building")) if status == 200 else None

        inside, seconds = build_window(port, post_build, building, args.clients, questions)
        return row("before the change: POST /build in the server process", inside, base, f"build {seconds:.1f} s")
    finally:
        stop(proc)


def _spread(values: list[float]) -> str:
    ordered = sorted(values)
    return f"median {ordered[len(ordered) // 2]:.1f} s, max {ordered[-1]:.1f} s"


def _cpu() -> str:
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("Flags")), [])
    return f"{model} ({', '.join(f for f in ('avx2', 'avx512f', 'avx512_bf16', 'amx_tile') if f in flags)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=12, help="requests per client in the idle phase")
    parser.add_argument("--docs", type=int, default=4, help=f"documents added (at most {len(DEFAULT_DOCS)})")
    parser.add_argument("--repeats", type=int, default=3, help="file drops timed for the watch delay")
    parser.add_argument(
        "--before-tree", metavar="DIR", help="the code before the change (its POST /build builds in the server process)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="policyqa-watch-bench-") as work:
        run(args, Path(work))


if __name__ == "__main__":
    main()
