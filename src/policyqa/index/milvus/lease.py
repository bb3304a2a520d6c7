"""One build at a time per Milvus store: a lease row (owner = host:pid, expiry) renewed while the build runs.

There is no lock across hosts, so the lease is claimed by writing it and reading it back after a short pause:
of two builds that claim at once, the one whose token is read back wins and the other waits. A lease whose
expiry passed, or whose owner is a dead process on this host, is stale and is taken over with a message.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from policyqa.errors import BuildLockedError
from policyqa.index.milvus import schema

TTL = 30.0  # seconds; renewed every TTL/3 while the build runs
SETTLE = 0.3  # seconds between writing a claim and reading it back
KEY = "build"


def owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def build_lease(
    client: Any, prefix: str, location: str, timeout: float, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    name = schema.lease_collection(prefix)
    try:
        if not client.has_collection(name):
            schema.create_lease_collection(client, name)
        client.load_collection(name)
    except Exception as exc:  # noqa: BLE001 - its files damaged (truncated): a lease holds nothing worth keeping
        if on_wait is not None:
            on_wait(f"the build lease of '{location}' cannot be read ({exc}); making a new one")
        client.drop_collection(name)
        schema.create_lease_collection(client, name)
        client.load_collection(name)
    token, me = uuid.uuid4().hex, owner_name()
    deadline, waited = time.monotonic() + timeout, False
    while True:
        held = _read(client, name)
        if held is None or _stale(held):
            if held is not None and on_wait is not None:
                on_wait(f"taking over the stale build lease of {held['owner']} on '{location}'")
            _write(client, name, me, token)
            time.sleep(SETTLE)
            held = _read(client, name)
            if held is not None and held["token"] == token:
                break
        if held is not None and held["token"] != token:
            message = f"another build of '{location}' is running ({held['owner']})"
            if time.monotonic() >= deadline:
                raise BuildLockedError(f"{message}; wait for it to finish and run the build again")
            if not waited and on_wait is not None:
                on_wait(f"{message}; waiting for it…")
            waited = True
            time.sleep(0.5)
    stop = threading.Event()
    renewer = threading.Thread(target=_renew, args=(client, name, me, token, stop), daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()
        held = _read(client, name)
        if held is not None and held["token"] == token:
            client.delete(name, ids=[KEY])
            client.flush(name)


def _read(client: Any, name: str) -> dict[str, Any] | None:
    rows = client.get(name, ids=[KEY], output_fields=["owner", "token", "expires"])
    return dict(rows[0]) if rows else None


def _write(client: Any, name: str, owner: str, token: str) -> None:
    row = {"key": KEY, "owner": owner, "token": token, "expires": time.time() + TTL, "placeholder": schema.PLACEHOLDER}
    client.upsert(name, [row])
    client.flush(name)


def _stale(held: dict[str, Any]) -> bool:
    if held["expires"] < time.time():
        return True
    host, _, pid = str(held["owner"]).rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    return False


def _renew(client: Any, name: str, owner: str, token: str, stop: threading.Event) -> None:
    while not stop.wait(TTL / 3):
        try:
            held = _read(client, name)
            if held is None or held["token"] != token:
                return
            _write(client, name, owner, token)
        except Exception:  # noqa: BLE001 - a failed renewal only lets the lease expire; the build's own writes report
            return
