"""Keep an index in step with its corpus folder: watch the folder and rebuild a few seconds after the last change.

One build at a time, each in a low-priority child process (background_build): a change seen during a build brings
exactly one more build after it. Queries go on reading the published generation meanwhile; a failed build leaves it
as it was and is reported in `status()`, never raised."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from policyqa.build.background_build import BuildFailedError, BuildPriority, BuildProcess
from policyqa.build.sync import BuildReport
from policyqa.settings import Settings

State = Literal["idle", "changed", "building", "stopped"]
Log = Callable[[str], None]
POLL_MS = 300  # how often a polled folder is listed


@dataclass(frozen=True)
class WatchSettings:
    """`quiet`: seconds without a change before a build starts (a copy of many files is one build); `longest_wait`:
    a folder that never stops changing is still built this often; `force_polling`: poll instead of file-system events
    (network folders send none); `retry`: seconds between attempts to watch a folder that
    cannot be watched (missing, unreadable)."""

    quiet: float = 2.0
    longest_wait: float = 10.0
    priority: BuildPriority = field(default_factory=BuildPriority)
    force_polling: bool = False
    retry: float = 5.0
    catch_up: bool = True  # build once at start: files changed while nothing watched


@dataclass(frozen=True)
class WatchStatus:
    corpus: str
    state: State
    pending: bool  # a change arrived during the running build: one more build follows
    builds: int  # builds finished since start, failed ones included
    last_build_at: float | None  # when the last successful build finished (epoch seconds)
    last_summary: str | None
    last_skipped: tuple[str, ...]  # "file: why" for each file the last build could not read (e.g. a corrupt PDF)
    last_error: str | None  # why the latest build failed, or the folder cannot be watched; None once one succeeds
    last_error_at: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def message(self) -> str:
        """One line for a person: what the watcher is doing and how the last build went."""
        doing = {
            "idle": "watching the corpus folder",
            "changed": "the corpus folder changed; indexing in a few seconds",
            "building": "indexing changes in the corpus folder" + (" (more changes waiting)" if self.pending else ""),
            "stopped": "not watching the corpus folder",
        }[self.state]
        if self.last_error:
            return f"{doing}; the last automatic build failed: {self.last_error}"
        if self.last_build_at is not None:
            doing += f"; last indexed {time.strftime('%H:%M:%S', time.localtime(self.last_build_at))}"
        if self.last_skipped:
            doing += f"; {len(self.last_skipped)} file(s) could not be read: " + "; ".join(self.last_skipped)
        return doing


class CorpusWatcher:
    """Watches `corpus_dir` and keeps `index` (a folder or store location) built from it.

    `on_build(report, error)` is called after every build, from the watcher's thread: with the report, or with None
    and the reason it failed. `log` receives one line per event (changes seen, builds started, their outcome).
    `run_settings`: what each build runs with (model, backend, precision, …; None: `Settings()`)."""

    def __init__(
        self,
        corpus_dir: str | Path,
        index: str | Path,
        settings: WatchSettings = WatchSettings(),  # noqa: B008 - frozen
        *,
        model: str | Path | None = None,
        on_build: Callable[[BuildReport | None, str | None], object] | None = None,
        log: Log | None = None,
        run_settings: Settings | None = None,
    ):
        self.corpus_dir, self.index, self.settings, self.model = Path(corpus_dir), index, settings, model
        self.run_settings = run_settings
        self._on_build, self._log = on_build, log or (lambda _m: None)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._watching = threading.Event()
        self._dirty = False
        self._state: State = "stopped"
        self._builds = 0
        self._last_build_at: float | None = None
        self._last_summary: str | None = None
        self._last_skipped: tuple[str, ...] = ()
        self._last_error: str | None = None
        self._last_error_at: float | None = None
        self._running: BuildProcess | None = None
        self._threads: list[threading.Thread] = []

    # --- control --------------------------------------------------------------------------------
    def start(self) -> CorpusWatcher:
        if self._threads:
            return self
        self._stop.clear()
        self._watching.clear()
        with self._lock:
            self._state, self._dirty = "idle", self.settings.catch_up
        self._threads = [
            threading.Thread(target=self._watch_loop, name="policyqa-watch", daemon=True),
            threading.Thread(target=self._build_loop, name="policyqa-build", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self._watching.wait(10)  # changes from now on are seen
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching; a running build is stopped too (the published index stays as it was)."""
        self._stop.set()
        with self._wake:
            running = self._running
            self._wake.notify_all()
        if running is not None:
            running.cancel()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []
        with self._lock:
            self._state = "stopped"

    def request_build(self) -> None:
        """Build soon, without waiting for the folder's events (e.g. right after an upload was saved)."""
        with self._wake:
            self._dirty = True
            if self._state == "idle":
                self._state = "changed"
            self._wake.notify_all()

    def status(self) -> WatchStatus:
        with self._lock:
            return WatchStatus(
                corpus=str(self.corpus_dir),
                state=self._state,
                pending=self._dirty and self._state == "building",
                builds=self._builds,
                last_build_at=self._last_build_at,
                last_summary=self._last_summary,
                last_skipped=self._last_skipped,
                last_error=self._last_error,
                last_error_at=self._last_error_at,
            )

    def wait_idle(self, timeout: float) -> bool:
        """True once no build runs or waits (or False after `timeout` seconds); for commands and tests."""
        deadline = time.monotonic() + timeout
        with self._wake:
            while self._state in ("changed", "building") or (self._dirty and not self._stop.is_set()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(min(left, 0.5))
        return True

    @property
    def building(self) -> bool:
        return self._state == "building"

    # --- threads --------------------------------------------------------------------------------
    def _watch_loop(self) -> None:
        # watchfiles' own loop (watchfiles.watch) starts watching only at its first step, later than start() returns:
        # a file written right after start() would go unseen. Its notifier, made here first, closes that gap.
        from watchfiles import Change, DefaultFilter
        from watchfiles._rust_notify import RustNotify

        keep = DefaultFilter()
        broken = False
        while not self._stop.is_set():
            if broken and self.corpus_dir.is_dir():
                self.request_build()  # the folder may have changed while it could not be watched
                broken = False
            try:
                polling = self.settings.force_polling
                with RustNotify([str(self.corpus_dir)], False, polling, POLL_MS, True, True) as notify:
                    self._watching.set()
                    self._notify(notify, lambda change, path: keep(Change(change), path))
            except Exception as exc:  # noqa: BLE001 - a folder that is gone or unreadable: say so, try again
                self._failed(f"cannot watch '{self.corpus_dir}' ({type(exc).__name__}: {exc})")
                broken = True
                self._watching.set()
                self._stop.wait(self.settings.retry)

    def _notify(self, notify: Any, keep: Callable[[Any, str], bool]) -> None:
        quiet, longest = int(self.settings.quiet * 1000), int(self.settings.longest_wait * 1000)
        while not self._stop.is_set():
            changes = notify.watch(longest, quiet, 5000, self._stop)
            if changes == "stop":
                return
            if isinstance(changes, set):
                seen = [path for change, path in changes if keep(change, path)]
                if seen:
                    self._log(f"{len(seen)} change(s) in {self.corpus_dir}")
                    self.request_build()

    def _build_loop(self) -> None:
        while True:
            with self._wake:
                while not self._dirty and not self._stop.is_set():
                    self._wake.wait()
                if self._stop.is_set():
                    return
                self._dirty, self._state = False, "building"
                self._running = BuildProcess(
                    self.corpus_dir, self.index, self.settings.priority, self.model, settings=self.run_settings
                )
                running = self._running
            self._build(running)

    def _build(self, running: BuildProcess) -> None:
        self._log("indexing the changes…")
        report: BuildReport | None = None
        error: str | None = None
        try:
            report = running.run(self._log)
        except BuildFailedError as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - the watcher outlives any one build
            error = f"unexpected {type(exc).__name__}: {exc}"
        with self._wake:
            self._running = None
            self._builds += 1
            if report is not None:
                self._last_build_at, self._last_summary = time.time(), report.summary()
                self._last_skipped = tuple(f"{s.path}: {s.reason}" for s in report.skipped_files)
                self._last_error = self._last_error_at = None
            self._state = "changed" if self._dirty else "idle"
            self._wake.notify_all()
        if error is not None and not self._stop.is_set():
            self._failed(f"build failed: {error}")
        elif report is not None:
            self._log(report.summary())
        if self._on_build is not None and not self._stop.is_set():
            try:
                self._on_build(report, error)
            except Exception as exc:  # noqa: BLE001
                self._log(f"after the build: {type(exc).__name__}: {exc}")

    def _failed(self, message: str) -> None:
        with self._lock:
            repeated = message == self._last_error
            self._last_error, self._last_error_at = message, time.time()
        if not repeated:
            self._log(message)
