"""An exclusive build lock. The OS releases it when the holder dies, so a killed build never blocks the next."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from policyqa.errors import BuildLockedError


@contextmanager
def build_lock(index_dir: Path, timeout: float, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    path = index_dir / "lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                if time.monotonic() >= deadline:
                    raise BuildLockedError(
                        f"another build of '{index_dir}' is running (pid {holder}); "
                        "wait for it to finish and run the build again"
                    ) from None
                if not waited and on_wait is not None:
                    on_wait(f"another build of '{index_dir}' is running (pid {holder}); waiting for it…")
                waited = True
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the flock
