"""The embedded default store: generation folders (FAISS + SQLite + BM25) under one index folder on local disk."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyqa.errors import PolicyQAError
from policyqa.index.faiss_sqlite.checks import generation_problems, leftover_problems
from policyqa.index.faiss_sqlite.files import (
    CURRENT,
    DATABASE,
    VECTORS,
    check_pointer_replaceable,
    current_generation_name,
    current_manifest,
)
from policyqa.index.faiss_sqlite.generation import Generation
from policyqa.index.faiss_sqlite.locking import build_lock
from policyqa.index.faiss_sqlite.sparse import BM25_DIR, ROW_IDS
from policyqa.index.faiss_sqlite.writer import GenerationWriter, as_write_error, remove_old_generations
from policyqa.index.folders import check_separate_folders
from policyqa.index.problems import REBUILD, Problem

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


def open_checked(index_dir: Path) -> tuple[Generation | None, list[Problem]]:
    """The live generation (None when it cannot be opened) and every problem found in the folder, errors first."""
    notes = leftover_problems(index_dir)
    try:
        name = current_generation_name(index_dir)
    except PolicyQAError as exc:
        return None, [Problem(f"the CURRENT pointer is unusable: {exc}", REBUILD), *notes]
    if name is None:
        what = f"no index in '{index_dir}' ({CURRENT} is missing)"
        return None, [Problem(what, "run `policyqa build` to build the index from the corpus"), *notes]
    path = index_dir / name
    missing = [f for f in (VECTORS, DATABASE, f"{BM25_DIR}/{ROW_IDS}") if not (path / f).is_file()]
    if missing:
        return None, [Problem(f"generation {name} is missing {', '.join(missing)}", REBUILD), *notes]
    try:
        generation = Generation(path)
    except PolicyQAError as exc:
        return None, [Problem(f"generation {name} cannot be opened: {exc}", REBUILD), *notes]
    except Exception as exc:  # noqa: BLE001 - the doctor reports whatever is wrong rather than crash on it
        return None, [Problem(f"generation {name} cannot be opened ({type(exc).__name__}: {exc})", REBUILD), *notes]
    return generation, generation_problems(generation) + notes
