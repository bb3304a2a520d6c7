"""A build in a child process at low priority and on few cores, so that a server keeps answering while it runs.

A build in the server's own process would share its interpreter lock and its OpenVINO/torch thread pools with the
queries, at the same priority; a child process that lowers its own priority and pins itself to fewer cores before it
loads anything leaves the queries the CPU whenever they want it (BENCHMARKS: /ask p95 during a rebuild).

The child gets its `Settings` (model, backend, precision, chunking, store login, …) as JSON on its stdin: not from
the environment, which nothing below the entry points reads, and not on its command line, where a login would show
in the process list."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policyqa import errors
from policyqa.build.sync import BuildReport
from policyqa.errors import BuildFailedError, PolicyQAError
from policyqa.ingest.documents import Skipped
from policyqa.settings import Settings

# The libraries' own thread-count knobs: a pool sized to the whole machine would only queue on the pinned cores.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass(frozen=True)
class BuildPriority:
    """How a background build yields to queries. `nice`: added to the child's niceness (0-19); `cpus`: how many of
    this process's cores the build may run on (its thread pools sized to match; 0 = all); `timeout`: seconds before
    a build is stopped as stuck (None: never)."""

    nice: int = 19
    cpus: int = 1
    timeout: float | None = None


class BuildProcess:
    """One build of `index` from `corpus_dir` in a child process; `cancel()` (from another thread) stops it.
    `settings`: what the build runs with (None: `Settings()`); `index` and `model` win over it.

    A milvus-lite file opens in one process only: its builds run in the calling thread instead, that thread's
    priority lowered for the build."""

    def __init__(
        self,
        corpus_dir: str | Path,
        index: str | Path,
        priority: BuildPriority = BuildPriority(),  # noqa: B008 - frozen
        model: str | Path | None = None,
        lock_timeout: float = 300.0,
        settings: Settings | None = None,
    ):
        self.settings = settings or Settings()
        self.request = {
            "corpus": str(corpus_dir),
            "index": str(index),
            "model": str(model) if model else None,
            "lock_timeout": lock_timeout,
        }
        self.priority = priority
        self._proc: subprocess.Popen[str] | None = None
        self._cancelled = threading.Event()

    @property
    def in_process(self) -> bool:
        return str(self.request["index"]).startswith("milvus:")

    def run(self, log: Callable[[str], None] = lambda _m: None) -> BuildReport:
        """The build's report, or why it failed: the build's own PolicyQAError (BuildLockedError while another build
        holds the index, …), else BuildFailedError. The published index is then unchanged."""
        if self._cancelled.is_set():
            raise BuildFailedError("the build was cancelled")
        if self.in_process:
            return _build_in_this_thread(self.request, self.settings, self.priority.nice, log)
        request = {**self.request, "nice": self.priority.nice, "cpus": self.priority.cpus, "parent": os.getpid()}
        env = dict(os.environ)
        if self.priority.cpus > 0:
            env.update({name: str(self.priority.cpus) for name in THREAD_VARIABLES})
            env["TOKENIZERS_PARALLELISM"] = "false"
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "policyqa.build.build_child", json.dumps(request)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,  # Ctrl-C in a terminal reaches the watcher, which stops the build itself
        )
        if self._cancelled.is_set():  # cancelled while it started
            self._proc.terminate()
        _send(self._proc, self.settings)
        lines: list[str] = []
        reader = threading.Thread(target=_forward, args=(self._proc.stderr, log, lines), daemon=True)
        reader.start()
        timer = threading.Timer(self.priority.timeout, self._proc.kill) if self.priority.timeout else None
        if timer is not None:
            timer.start()
        try:
            out = self._proc.stdout.read() if self._proc.stdout else ""  # until the child exits; its result is last
            self._proc.wait()
        finally:
            if timer is not None:
                timer.cancel()
        reader.join(timeout=5)
        if self._cancelled.is_set():
            raise BuildFailedError("the build was cancelled")
        if timer is not None and self._proc.returncode == -9 and not out.strip():
            raise BuildFailedError(f"the build took longer than {self.priority.timeout:.0f} s and was stopped")
        return _result(out, self._proc.returncode, lines)

    def cancel(self) -> None:
        self._cancelled.set()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()


def _forward(stream: Any, log: Callable[[str], None], lines: list[str]) -> None:
    for line in stream:
        line = line.rstrip()
        if line:
            lines.append(line)
            log(line)


def _result(out: str, returncode: int, log_lines: list[str]) -> BuildReport:
    last = out.strip().splitlines()[-1] if out.strip() else ""
    try:
        result = json.loads(last)
    except json.JSONDecodeError:
        tail = "; ".join(log_lines[-3:]) or f"exit code {returncode}"
        raise BuildFailedError(f"the build stopped unexpectedly ({tail})") from None
    if "error" in result:
        kind = getattr(errors, str(result.get("kind")), None)
        if isinstance(kind, type) and issubclass(kind, PolicyQAError):
            raise kind(result["error"])
        raise BuildFailedError(result["error"])
    return report_from_dict(result["report"])


def _send(proc: subprocess.Popen[str], settings: Settings) -> None:
    """The settings on the child's stdin, then end of input (a child that died at start has closed it)."""
    if proc.stdin is None:
        return
    with contextlib.suppress(BrokenPipeError, OSError):
        proc.stdin.write(settings.to_json())
    with contextlib.suppress(BrokenPipeError, OSError):
        proc.stdin.close()


def _build_in_this_thread(
    request: dict[str, Any], settings: Settings, nice: int, log: Callable[[str], None]
) -> BuildReport:
    from policyqa.build.sync import build_index

    thread = threading.get_native_id()
    before = os.getpriority(os.PRIO_PROCESS, thread)
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, thread, min(19, before + nice))  # on Linux: this thread only
    try:
        return build_index(
            request["corpus"],
            store=request["index"],
            model=request.get("model"),
            progress=False,
            log=log,
            lock_timeout=request["lock_timeout"],
            settings=settings,
        )
    finally:
        with contextlib.suppress(OSError):  # a thread of a server's pool goes back to answering at its priority
            os.setpriority(os.PRIO_PROCESS, thread, before)


def report_from_dict(data: dict[str, Any]) -> BuildReport:
    skipped = [Skipped(s["path"], s["reason"]) for s in data.get("skipped_files", [])]
    return BuildReport(**{**data, "skipped_files": skipped})


def _lower_priority(nice: int, cpus: int) -> None:
    """Before anything heavy is imported: the thread pools the libraries create later follow the affinity."""
    if nice > 0:
        os.nice(nice)
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if 0 < cpus < len(allowed):
        os.sched_setaffinity(0, allowed[-cpus:])  # the last cores: request handling starts on the first


def _end_with_parent(parent: int) -> None:
    """A server killed outright cannot stop its build: the build stops itself (the published index is unchanged)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(3)


def main(argv: list[str]) -> int:
    """The child: `python -m policyqa.build.build_child '{"corpus": …, "index": …, "model": …, "nice": …,
    "cpus": …}'` with `Settings.to_json()` on stdin (empty: the defaults); the last line on stdout is
    {"report": …} or {"error": "…"}."""
    request = json.loads(argv[0])
    sent = sys.stdin.read() if sys.stdin is not None and not sys.stdin.isatty() else ""
    _lower_priority(int(request.get("nice", 0)), int(request.get("cpus", 0)))
    if request.get("parent"):
        threading.Thread(target=_end_with_parent, args=(int(request["parent"]),), daemon=True).start()
    try:
        from policyqa.build.sync import build_index

        report = build_index(
            request["corpus"],
            store=request["index"],
            model=request.get("model"),
            progress=False,
            log=lambda message: print(message, file=sys.stderr, flush=True),
            lock_timeout=float(request.get("lock_timeout", 300.0)),
            settings=Settings.from_json(sent) if sent.strip() else None,
        )
        print(json.dumps({"report": report.as_dict()}), flush=True)
        return 0
    except PolicyQAError as exc:
        print(json.dumps({"error": str(exc), "kind": type(exc).__name__}), flush=True)
        return 2
    except Exception as exc:  # noqa: BLE001 - the reason goes back to the watcher, never a traceback
        print(json.dumps({"error": f"unexpected {type(exc).__name__}: {exc}"}), flush=True)
        return 1
