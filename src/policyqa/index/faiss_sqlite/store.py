"""The embedded default store: generation folders (FAISS + SQLite + BM25) under one index folder on local disk."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyqa.errors import PolicyQAError
from policyqa.index.faiss_sqlite.checks import open_checked
from policyqa.index.faiss_sqlite.generation import (
    Generation,
    GenerationWriter,
    as_write_error,
    check_pointer_replaceable,
    current_generation_name,
    current_manifest,
    remove_old_generations,
)
from policyqa.index.faiss_sqlite.locking import build_lock
from policyqa.index.problems import Problem

if TYPE_CHECKING:  # the seam names the stores only when it opens one; no import back at run time
    from policyqa.index.store import IndexReader


class FaissSqliteStore:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.location = str(folder)

    def current_manifest(self) -> dict[str, Any] | None:
        return current_manifest(self.folder)

    def current_name(self) -> str | None:
        return current_generation_name(self.folder)

    def open_current(self) -> Generation:
        return Generation.open_current(self.folder)

    def inspect(self) -> tuple[Generation | None, list[Problem]]:
        return open_checked(self.folder)

    def check_corpus(self, corpus_dir: Path) -> None:
        check_separate_folders(corpus_dir, self.folder)

    @contextmanager
    def build_session(self, corpus_dir: Path, timeout: float, on_wait: Callable[[str], None]) -> Iterator[None]:
        self.check_corpus(corpus_dir)
        with ExitStack() as held:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                held.enter_context(build_lock(self.folder, timeout, on_wait=on_wait))
            except OSError as exc:  # a read-only or unreachable index folder
                raise as_write_error(self.folder, exc) or exc from exc
            check_pointer_replaceable(self.folder)
            yield

    def writer(self, base: IndexReader | None, dimension: int) -> GenerationWriter:
        if base is not None and not isinstance(base, Generation):
            raise PolicyQAError(f"a folder index cannot be built on a reader of another store ({type(base).__name__})")
        try:
            return GenerationWriter(self.folder, base, dimension)
        except (OSError, sqlite3.Error) as exc:
            for unfinished in self.folder.glob("gen-*.tmp"):  # the build lock is held: no other build writes one
                shutil.rmtree(unfinished, ignore_errors=True)
            raise self.write_error(exc) or exc from exc

    def write_error(self, exc: BaseException) -> PolicyQAError | None:
        return as_write_error(self.folder, exc)

    def tidy(self) -> None:
        remove_old_generations(self.folder)


def check_separate_folders(corpus_dir: Path, index_dir: Path) -> None:
    """The index must not live inside the corpus (its files would be scanned, listed and deletable as documents),
    nor the corpus inside the index (a build deletes old generations there)."""
    corpus, index = corpus_dir.resolve(), index_dir.resolve()
    if index.is_relative_to(corpus) or corpus.is_relative_to(index):
        raise PolicyQAError(
            f"the index folder '{index_dir}' and the corpus folder '{corpus_dir}' overlap; "
            "keep them side by side, e.g. --corpus corpus --index index"
        )
