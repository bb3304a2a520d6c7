"""The files of a FAISS+SQLite index folder: their names, the CURRENT pointer and the checksums of a generation.

    index/CURRENT          name of the live generation, replaced atomically
    index/gen-000042/      vectors.faiss (IndexIDMap2; ids = chunk ids) + index.sqlite (+ sentence vectors) + bm25/
    index/lock             held while a build runs

All of it reads the folder without opening a generation (no FAISS, no BM25), so the checks can use it too.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

from policyqa.errors import IndexFormatError

CURRENT = "CURRENT"
GENERATION_NAME = re.compile(r"gen-\d{6,12}")  # what a writer names a generation; CURRENT must hold exactly that
MAX_POINTER_BYTES = 64
CHECKSUMS = "checksums"  # manifest key: sha256 of every generation file except index.sqlite (which holds it)
VECTORS = "vectors.faiss"
DATABASE = "index.sqlite"


def current_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The live generation's manifest without loading its vectors; None when there is none or it cannot be read."""
    try:
        name = current_generation_name(index_dir)
        if name is None:
            return None
        db = sqlite3.connect(f"file:{index_dir / name / DATABASE}?mode=ro", uri=True)
        try:
            return {key: json.loads(value) for key, value in db.execute("SELECT key, value FROM manifest")}
        finally:
            db.close()
    except (IndexFormatError, sqlite3.Error, ValueError):
        return None


def current_generation_name(index_dir: Path) -> str | None:
    pointer = index_dir / CURRENT
    try:
        with open(pointer, "rb") as handle:
            raw = handle.read(MAX_POINTER_BYTES + 1)
        name = raw.decode("utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except IsADirectoryError as exc:
        raise IndexFormatError(
            f"{pointer} is a folder, not the pointer file naming the live generation; remove it "
            f"(rm -r '{pointer}') and run `policyqa build --full`"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:  # binary garbage, an I/O error
        raise IndexFormatError(
            f"{pointer} cannot be read ({exc}); run `policyqa build --full` to rebuild the index"
        ) from exc
    shown = name if len(name) <= 40 else f"{name[:40]}… ({len(raw)} bytes)"
    if len(raw) > MAX_POINTER_BYTES or not GENERATION_NAME.fullmatch(name) or not (index_dir / name).is_dir():
        raise IndexFormatError(
            f"{pointer} names '{shown}', which is not a generation in {index_dir}; "
            "run `policyqa build --full` to rebuild the index"
        )
    return name


def check_pointer_replaceable(index_dir: Path) -> None:
    """A build ends by replacing CURRENT; refuse up front, before writing a generation, when it cannot."""
    pointer = index_dir / CURRENT
    if pointer.is_dir() and not pointer.is_symlink():
        raise IndexFormatError(
            f"{pointer} is a folder, not the pointer file naming the live generation, so no build can publish; "
            f"remove it (rm -r '{pointer}') and run `policyqa build --full`"
        )


def generation_files(path: Path) -> list[str]:
    """The files of a generation that its manifest's checksums cover: all but index.sqlite, which holds them."""
    return sorted(
        p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file() and not p.name.startswith(DATABASE)
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


_NUMBERED = re.compile(r"gen-(\d+)(?:\.tmp)?")


def generation_number(name: str) -> int | None:
    """The number of a generation folder's name (published or not), with any number of digits."""
    match = _NUMBERED.fullmatch(name)
    return int(match[1]) if match else None
