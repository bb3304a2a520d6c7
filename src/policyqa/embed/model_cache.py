"""Where derived model files (the unpacked second-stage model, exported OpenVINO models) are kept."""

from __future__ import annotations

import fcntl
from collections.abc import Callable
from pathlib import Path


def default_cache_dir() -> Path:
    """~/.cache/policyqa; `Settings.cache_dir` ($POLICYQA_CACHE) names another."""
    return Path.home() / ".cache" / "policyqa"


def create_once(target: Path, marker: str, create: Callable[[Path], None]) -> Path:
    """`target`, made by `create(target)` unless `target/marker` exists. Processes wait for each other on a lock
    file beside it, so only one creates it; `create` must write elsewhere and rename into place (atomic)."""
    if (target / marker).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / marker).is_file():
            create(target)
    return target
