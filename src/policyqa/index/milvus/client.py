"""A Milvus location → a connected `MilvusClient`: milvus-lite (a `.db` data folder, in process) or a server.

    milvus:///abs/path/file.db      milvus-lite; `milvus://file.db` is relative to the working folder
    http(s)://host:19530            a Milvus server or cluster; its login a StoreCredentials value (which the entry
                                    points take from $MILVUS_TOKEN, else $MILVUS_USER/$MILVUS_PASSWORD; never from
                                    the command line)
    …?prefix=name                   collection-name prefix, so several indexes can share a server (default policyqa)

milvus-lite holds an exclusive lock on its data folder for as long as a process has it open: a second process
cannot open the same file at all (measured with milvus-lite 3.2.2; see README "Milvus store"). The holder writes
its pid beside the folder so the other process can say who has it.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from policyqa.errors import BuildLockedError, PolicyQAError
from policyqa.index.credentials import StoreCredentials

DEFAULT_PREFIX = "policyqa"
_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MISSING_EXTRA = (
    "the Milvus store needs the optional packages pymilvus and milvus-lite: pip install 'policyqa[milvus]' "
    "(or scripts/setup.sh ui,milvus)"
)


@dataclass(frozen=True)
class MilvusLocation:
    uri: str  # what MilvusClient connects to: a .db path (milvus-lite) or http(s)://host:port
    prefix: str
    lite_path: Path | None  # the milvus-lite data folder, None for a server

    @property
    def is_lite(self) -> bool:
        return self.lite_path is not None


def parse_location(location: str) -> MilvusLocation:
    parts = urlsplit(location)
    prefix = parse_qs(parts.query).get("prefix", [DEFAULT_PREFIX])[-1]
    if not _PREFIX.fullmatch(prefix):
        raise PolicyQAError(
            f"collection prefix '{prefix}' in '{location}' is not a valid Milvus name: use letters, digits and _"
        )
    if parts.scheme == "milvus":
        if not location.startswith("milvus://"):
            raise PolicyQAError(
                f"'{location}' is not a Milvus location: a milvus-lite location starts with milvus://, e.g. "
                "milvus:///data/index.db (absolute) or milvus://index.db (relative to the working folder)"
            )
        raw = (parts.netloc + parts.path) if parts.netloc else parts.path
        if not raw.endswith(".db"):
            raise PolicyQAError(
                f"a milvus-lite location names a file ending in .db, e.g. milvus:///data/index.db; got '{location}'"
            )
        path = Path(raw).absolute()
        return MilvusLocation(str(path), prefix, path)
    if parts.scheme in ("http", "https") and parts.hostname:
        return MilvusLocation(f"{parts.scheme}://{parts.netloc}", prefix, None)
    raise PolicyQAError(f"'{location}' is not a Milvus location (milvus:///path/file.db or http(s)://host:19530)")


_clients: dict[str, Any] = {}
_lite_folders: dict[int, Path] = {}  # id(client) → its milvus-lite data folder


def collection_names(client: Any) -> list[str]:
    """The client's collections. milvus-lite lists them only when it can open every one (it reports each one's load
    state): with one damaged (its files truncated), its collections are read from the data folder, so that a build
    can still write a new version and drop the damaged ones."""
    try:
        return list(client.list_collections())
    except Exception:
        folder = _lite_folders.get(id(client))
        if folder is None:
            raise
        return sorted(p.parent.name for p in (folder / "collections").glob("*/schema.json"))


def connect(
    where: MilvusLocation,
    timeout: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
    credentials: StoreCredentials = StoreCredentials(),  # noqa: B008 - frozen
) -> Any:
    """A client for `where` (one per process and location; a server's logged in with `credentials`). milvus-lite
    opened by another process: retry until `timeout`, then BuildLockedError naming the holder."""
    if where.uri in _clients:
        return _clients[where.uri]
    # gRPC logs a line at every fork() (the embedder's tokenizer pool forks) unless told to be quiet
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    try:
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException
    except ImportError as exc:
        raise PolicyQAError(MISSING_EXTRA) from exc
    # their errors come back to us as exceptions; no tracebacks on stderr (milvus-lite's in-process gRPC server logs
    # one for every query_iterator, whose timestamp call it does not implement; the iterator then goes on without)
    for name in ("pymilvus", "milvus_lite", "grpc._server"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    deadline, waited = time.monotonic() + timeout, False
    while True:
        try:
            if not where.is_lite:
                client = MilvusClient(uri=where.uri, **credentials.client_arguments())
                break
            with _lite_failure() as failure:
                client = MilvusClient(where.uri)
            break
        except MilvusException as exc:
            if not where.is_lite:
                raise PolicyQAError(f"cannot connect to the Milvus server at {where.uri} ({exc.message})") from exc
            if not _locked(failure):  # a file in the way, a name too long, no permission: waiting will not help
                raise PolicyQAError(_unusable(where, failure)) from None
            if time.monotonic() >= deadline:
                raise BuildLockedError(
                    f"the milvus-lite file '{where.lite_path}' is open in another process ({holder(where)}); "
                    "milvus-lite allows one process per file: stop it, or use a Milvus server for several processes"
                ) from None
            if not waited and on_wait is not None:
                on_wait(
                    f"the milvus-lite file '{where.lite_path}' is open in another process ({holder(where)}); waiting…"
                )
            waited = True
            time.sleep(0.5)
    if where.is_lite:
        _holder_file(where).write_text(f"pid {os.getpid()} on {socket.gethostname()}\n", encoding="utf-8")
    _clients[where.uri] = client
    if where.lite_path is not None:
        _lite_folders[id(client)] = where.lite_path
    return client


@contextmanager
def _lite_failure() -> Iterator[list[BaseException]]:
    """The exception behind a failed milvus-lite start: pymilvus only says ConnectionConfigException, milvus-lite
    logs the cause (its lock taken, a file where its folder goes, a name too long) and returns nothing."""
    failures: list[BaseException] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.exc_info and record.exc_info[1] is not None:
                failures.append(record.exc_info[1])

    logger, catch = logging.getLogger("milvus_lite.server_manager"), Catch(logging.ERROR)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(catch)
    logger.setLevel(logging.ERROR)
    logger.propagate = False  # its traceback is not shown; the message built from it is
    try:
        yield failures
    finally:
        logger.removeHandler(catch)
        logger.setLevel(level)
        logger.propagate = propagate


def _causes(failure: list[BaseException]) -> list[BaseException]:
    chain: list[BaseException] = []
    for exc in failure:
        while exc is not None and exc not in chain:
            chain.append(exc)
            exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return chain


def _locked(failure: list[BaseException]) -> bool:
    """Another process holds the folder's lock (or milvus-lite gave no reason: then waiting is the safe guess)."""
    chain = _causes(failure)
    return not chain or any(type(e).__name__ == "DataDirLockedError" or isinstance(e, BlockingIOError) for e in chain)


def _unusable(where: MilvusLocation, failure: list[BaseException]) -> str:
    path = where.lite_path
    assert path is not None
    if _is_file(path):
        return (
            f"'{path}' is a file, not a milvus-lite data folder; move it away or name another location "
            "(milvus:///path/new.db), then build the index"
        )
    cause = next((e for e in _causes(failure) if isinstance(e, OSError)), failure[0] if failure else None)
    reason = f"{cause.strerror}" if isinstance(cause, OSError) and cause.strerror else f"{cause}"
    return f"cannot open the milvus-lite store '{path}' ({reason}); fix the location, then run the command again"


def _is_file(path: Path) -> bool:
    try:
        return path.exists() and not path.is_dir()
    except OSError:  # a name too long to look at
        return False


def holder(where: MilvusLocation) -> str:
    """Who holds the milvus-lite file, as its holder file says, unless that process is gone."""
    try:
        text = _holder_file(where).read_text(encoding="utf-8").strip()
    except OSError:
        return "holder unknown"
    match = re.fullmatch(r"pid (\d+) on (.+)", text)
    if match and match[2] == socket.gethostname() and not _alive(int(match[1])):
        return f"holder unknown: pid {match[1]}, which last had it, is no longer running"
    return text or "holder unknown"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder_file(where: MilvusLocation) -> Path:
    assert where.lite_path is not None
    return where.lite_path.with_name(where.lite_path.name + ".holder")

