"""The one PolicyIndex the app shares between all sessions, and the rebuild that replaces its generation."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from policyqa import (
    BuildPriority,
    BuildProcess,
    BuildReport,
    CorpusWatcher,
    LLMSettings,
    PolicyIndex,
    PolicyQAError,
    Settings,
    Store,
    WatchStatus,
    open_index,
    open_store,
)
from policyqa.errors import BuildLockedError, IndexNotFoundError

NO_INDEX = "No index yet — click “Rebuild index” on the Corpus tab."


class NoIndexError(PolicyQAError):
    pass


class AppState:
    """Questions are answered from `index` while a rebuild runs; the rebuild then refreshes it in place."""

    def __init__(
        self,
        index_dir: str | Path | Store,
        corpus_dir: Path,
        settings: Settings | None = None,
    ):
        self.settings = settings or Settings()  # the model, backend, … the index is opened and rebuilt with
        self.store = open_store(index_dir, self.settings.milvus)
        self.corpus_dir = Path(corpus_dir)
        self._index: PolicyIndex | None = None
        self._open_lock = threading.Lock()
        self._build_lock = threading.Lock()
        self.load_error: str | None = None
        self.watcher: CorpusWatcher | None = None  # set by `serve` unless --no-watch: builds after every change
        self.build_priority = BuildPriority()
        self.reload()

    def reload(self) -> PolicyIndex | None:
        """Open the index if none is loaded, else switch to a newer published generation; never raises."""
        with self._open_lock:
            try:
                if self._index is None:
                    self._index = open_index(store=self.store, settings=self.settings)
                else:
                    self._index.refresh()
                self.load_error = None
            except IndexNotFoundError:
                self.load_error = NO_INDEX
            except PolicyQAError as exc:
                self.load_error = f"The index cannot be used: {exc}"
            except Exception as exc:  # noqa: BLE001 - the app must still start and offer a rebuild
                self.load_error = f"The index cannot be opened ({type(exc).__name__}: {exc}); try “Rebuild index”."
            return self._index

    def warm_up(self) -> None:
        """Load the model now (in the background) so the first visitor does not wait for it."""

        def load() -> None:
            try:
                if self._index is not None:
                    self._index.warm_up()
            except Exception:  # noqa: BLE001 - a failed warm-up only means the first question is slower
                pass

        threading.Thread(target=load, name="policyqa-warm-up", daemon=True).start()

    @property
    def index(self) -> PolicyIndex:
        """The loaded index, switched first to a generation published meanwhile (e.g. by the CLI: API clients never
        load the page), or NoIndexError with what to do."""
        self._follow_current()
        index = self._index
        if index is None:
            raise NoIndexError(self.load_error or NO_INDEX)
        return index

    def _follow_current(self) -> None:
        """Reload when CURRENT names another generation than the loaded one: one small file read per request."""
        try:
            name = self.store.current_name()
        except PolicyQAError:
            return  # a damaged pointer: keep answering from the loaded generation
        loaded = self._index.generation.name if self._index is not None else None
        if name is not None and name != loaded:
            self.reload()

    @property
    def has_index(self) -> bool:
        return self._index is not None

    @property
    def building(self) -> bool:
        return self._build_lock.locked() or (self.watcher is not None and self.watcher.building)

    @property
    def llm(self) -> LLMSettings | None:
        """Generated answers (checked against their quotes) when set; quoted answers otherwise."""
        return self.settings.llm

    def watch_status(self) -> WatchStatus | None:
        return self.watcher.status() if self.watcher is not None else None

    def corpus_fingerprint(self) -> tuple[object, ...]:
        """Equal as long as the Corpus tab would show the same: the published generation's name (one small file),
        the watcher's status (in memory) and why the index cannot be loaded. No index is read; never raises."""
        try:
            name: str | None = self.store.current_name()
        except Exception as exc:  # noqa: BLE001 - a damaged pointer is shown by the view this triggers
            name = f"unreadable ({type(exc).__name__}: {exc})"
        return name, self.watch_status(), self.load_error

    def rebuild(
        self, log: Callable[[str], None] | None = None, progress: bool = False, lock_timeout: float = 300.0
    ) -> BuildReport:
        """Sync the index with the corpus, then point the shared index at the new generation.

        `lock_timeout`: how long to wait for a build running in another process (the CLI) before BuildLockedError.
        `progress` draws nothing any more: the build runs in a child process, whose log lines reach `log`.
        """
        if not self._build_lock.acquire(blocking=False):
            raise BuildLockedError("a rebuild is already running; wait for it to finish")
        try:
            # like the watcher's builds, at low priority in a child process: questions keep the CPU meanwhile
            build = BuildProcess(
                self.corpus_dir,
                self.store.location,
                self.build_priority,
                lock_timeout=lock_timeout,
                settings=self.settings,
            )
            report = build.run(log or (lambda _m: None))
        finally:
            self._build_lock.release()
        self.reload()
        if self.load_error:
            raise PolicyQAError(self.load_error)
        return report
