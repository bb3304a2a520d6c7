"""Zip bombs: a .docx of a few MB whose document part inflates to a gigabyte is skipped with a reason, and reading
it keeps the reader's peak RSS (measured in a child process) within the stated budget (issue 13, item 1)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

from tests.conftest import REPO
from tests.filemakers import make_docx

MIB = 1024 * 1024
READER_RSS_BUDGET = 600 * MIB  # growth of peak RSS while reading one file (README, "Memory")
W = b"http://schemas.openxmlformats.org/wordprocessingml/2006/main"
BODY_OPEN = b'<w:document xmlns:w="' + W + b'"><w:body><w:p><w:r><w:t>Budget.</w:t></w:r></w:p>'
BODY_CLOSE = b"</w:body></w:document>"


def _deflate_repeated(head: bytes, block: bytes, times: int, tail: bytes) -> tuple[bytes, int, int]:
    """Raw deflate of head + block*times + tail, fast: after a full flush every block compresses to the same
    bytes, so one block is compressed once and repeated. Returns (compressed, crc32, size)."""
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    first = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    repeated = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    assert packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH) == repeated
    last = packer.compress(tail) + packer.flush()
    crc = zlib.crc32(head)
    for _ in range(times):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    return first + repeated * times + last, crc, len(head) + len(block) * times + len(tail)


def write_zip(path: Path, members: dict[str, tuple[bytes, int, int]]) -> None:
    """A zip of already-deflated members {name: (raw deflate data, crc32, uncompressed size)}, sizes < 4 GiB."""
    local, central = bytearray(), bytearray()
    for name, (data, crc, size) in members.items():
        encoded = name.encode()
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded), 0)
        central += (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                len(local),
            )
            + encoded
        )
        local += header + encoded + data
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))


def docx_bomb(path: Path, inflated_mib: int) -> Path:
    """A real .docx (it opens in python-docx) whose word/document.xml holds `inflated_mib` MiB of spaces in its
    <w:body>, after one short paragraph."""
    make_docx(path, [("Normal", "placeholder")])
    members: dict[str, tuple[bytes, int, int]] = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name == "word/document.xml":
                members[name] = _deflate_repeated(BODY_OPEN, b" " * MIB, inflated_mib, BODY_CLOSE)
            else:
                raw = archive.read(name)
                packer = zlib.compressobj(6, zlib.DEFLATED, -15)
                members[name] = (packer.compress(raw) + packer.flush(), zlib.crc32(raw), len(raw))
    write_zip(path, members)
    return path


READ_IN_CHILD = """
import json, resource, sys
from pathlib import Path
from policyqa.ingest.documents import CorpusFile, read_document
from policyqa.errors import DocumentError
import docx, lxml.etree  # imported before the baseline: only the read itself is measured

path = Path(sys.argv[1])
data = path.read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
try:
    read_document(CorpusFile(path.name, path, data, "0" * 64))
    outcome = "read"
except DocumentError as exc:
    outcome = str(exc)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"before": before, "after": after, "outcome": outcome}))
"""


def read_in_child(path: Path, address_limit: int = 3 * 1024 * MIB) -> dict:
    """Read one file with policyqa's reader in a fresh Python; `address_limit` keeps a regression from taking the
    machine's memory (it then fails on the budget instead)."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    limit = f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({address_limit}, {address_limit}))\n"
    done = subprocess.run(
        [sys.executable, "-c", limit + READ_IN_CHILD, str(path)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_a_docx_zip_bomb_is_skipped_within_the_memory_budget(tmp_path: Path) -> None:
    bomb = docx_bomb(tmp_path / "bomb.docx", inflated_mib=1024)
    assert bomb.stat().st_size < 2 * MIB
    result = read_in_child(bomb)
    growth = result["after"] - result["before"]
    assert growth < READER_RSS_BUDGET, f"reading the bomb raised peak RSS by {growth / MIB:.0f} MiB ({result})"
    assert "zip bomb" in result["outcome"] and "word/document.xml" in result["outcome"], result["outcome"]
