"""The Milvus store: index versions as collection sets, the live one named by an alias (see schema.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyqa.errors import BuildLockedError, IndexFormatError, IndexNotFoundError, MilvusWriteError, PolicyQAError
from policyqa.index.credentials import StoreCredentials
from policyqa.index.folders import check_separate_folders
from policyqa.index.milvus import schema
from policyqa.index.milvus.client import MilvusLocation, collection_names, connect, parse_location
from policyqa.index.milvus.lease import build_lease
from policyqa.index.milvus.reader import MilvusReader
from policyqa.index.milvus.writer import MilvusWriter
from policyqa.index.problems import REBUILD, Problem

if TYPE_CHECKING:  # the seam names the stores only when it opens one; no import back at run time
    from policyqa.index.store import IndexReader


class MilvusStore:
    def __init__(self, location: str, credentials: StoreCredentials = StoreCredentials()):  # noqa: B008 - frozen
        self.location = location
        self.where: MilvusLocation = parse_location(location)
        self.credentials = credentials
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = connect(self.where, credentials=self.credentials)
        return self._client

    @property
    def alias(self) -> str:
        return schema.live_alias(self.where.prefix)

    def current_name(self) -> str | None:
        try:
            if self.alias not in self.client.list_aliases().get("aliases", []):
                return None
            target = self.client.describe_alias(self.alias)["collection_name"]
        except PolicyQAError:
            raise
        except Exception as exc:  # noqa: BLE001 - pymilvus raises MilvusException and grpc errors
            raise IndexFormatError(f"cannot read the live version of '{self.location}' ({exc})") from exc
        return target.removesuffix("_meta")

    def current_manifest(self) -> dict[str, Any] | None:
        try:
            _ = self.client  # a store that cannot be opened at all (not a milvus-lite folder, …) says so here
        except BuildLockedError:
            return None  # open in another process: a build waits for it in build_session
        try:
            name = self.current_name()
            return None if name is None else self._manifest(name)
        except Exception:  # noqa: BLE001 - a damaged version (truncated files, bad JSON) has no usable manifest
            return None

    def _manifest(self, version: str) -> dict[str, Any]:
        meta = schema.collection(version, "meta")
        self.client.load_collection(meta)
        manifest = schema.read_manifest(self.client, meta)
        if manifest is None:
            raise IndexFormatError(f"version {version} in '{self.location}' has no manifest; {REBUILD}")
        return manifest

    def open_current(self) -> MilvusReader:
        name = self.current_name()
        if name is None:
            raise IndexNotFoundError(
                f"no index in '{self.location}'; "
                f"build one with `policyqa build --corpus CORPUS --store {self.location}`"
            )
        try:
            manifest = self._manifest(name)
            for kind in schema.KINDS:  # collections must be loaded before a search (also after a reopen)
                self.client.load_collection(schema.collection(name, kind))
        except PolicyQAError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise IndexFormatError(f"index version {name} in '{self.location}' is damaged ({exc}); {REBUILD}") from exc
        return MilvusReader(self.client, name, manifest)

    def inspect(self) -> tuple[MilvusReader | None, list[Problem]]:
        from policyqa.index.milvus.checks import leftover_notes

        try:
            reader = self.open_current()
        except IndexNotFoundError as exc:
            return None, [Problem(str(exc), "run `policyqa build` to build the index from the corpus")]
        except PolicyQAError as exc:
            return None, [Problem(f"the live version cannot be opened: {exc}", REBUILD)]
        return reader, reader.problems() + leftover_notes(self.client, self.where.prefix, reader.name, self._kept())

    def check_corpus(self, corpus_dir: Path) -> None:
        if self.where.lite_path is not None:
            check_separate_folders(corpus_dir, self.where.lite_path)

    @contextmanager
    def build_session(self, corpus_dir: Path, timeout: float, on_wait: Callable[[str], None]) -> Iterator[None]:
        self.check_corpus(corpus_dir)
        if self.where.lite_path is not None:
            self.where.lite_path.parent.mkdir(parents=True, exist_ok=True)
        if self._client is None:
            self._client = connect(self.where, timeout, on_wait, self.credentials)
        with build_lease(self.client, self.where.prefix, self.location, timeout, on_wait):
            yield

    def writer(self, base: IndexReader | None, dimension: int) -> MilvusWriter:
        if base is not None and not isinstance(base, MilvusReader):
            raise PolicyQAError(f"a Milvus index cannot be built on a reader of another store ({type(base).__name__})")
        try:
            return MilvusWriter(self.client, self.where.prefix, base, dimension)
        except Exception as exc:
            raise self.write_error(exc) or exc from exc

    def write_error(self, exc: BaseException) -> PolicyQAError | None:
        from pymilvus.exceptions import MilvusException

        if not isinstance(exc, MilvusException | OSError):
            return None
        return MilvusWriteError(
            f"cannot write the index in '{self.location}' ({exc}); the previous index is unchanged and still in "
            "use. Fix the cause, then run `policyqa build` again"
        )

    def _kept(self) -> set[str]:
        """The live version and the one it replaced (named in its manifest); every other version is unfinished or
        old. A version's collections alone do not tell: a killed build leaves all four, half-written."""
        live = self.current_name()
        if live is None:
            return set()
        previous = (self.current_manifest() or {}).get("previous_version")
        return {live} | ({previous} if isinstance(previous, str) else set())

    def _lists(self) -> bool:
        try:
            self.client.list_collections()
            return True
        except Exception:  # noqa: BLE001 - milvus-lite fails to list when it cannot open one collection
            return False

    def _loads(self, version: str) -> bool:
        try:
            for kind in schema.KINDS:
                self.client.load_collection(schema.collection(version, kind))
            return True
        except Exception:  # noqa: BLE001
            return False

    def tidy(self) -> None:
        """Drop every version but the live one and the one before it. Only call it holding the lease.

        A reader that still holds a dropped version fails on its next query; it reopens the live one (the API
        follows `current_name`), so keeping the previous version gives such readers one whole build as grace."""
        keep = self._kept()
        if not keep:
            return
        if not self._lists():  # a version is damaged (truncated files): the one before the live one may be it
            keep = {v for v in keep if v == self.current_name() or self._loads(v)}
        for version, kinds in schema.versions(collection_names(self.client), self.where.prefix).items():
            if version not in keep:
                for kind in kinds:  # present ones only (has_collection fails on a damaged one)
                    self.client.drop_collection(schema.collection(version, kind))
