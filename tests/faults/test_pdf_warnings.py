"""Issue 24 item 24: damaged PDFs print nothing on stderr that does not name the file (pypdf printed "Ignoring wrong
pointing object 8 0" on its own; the reader is now pypdfium2, which must stay as quiet, C-level output included)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import policyqa
from tests.filemakers import make_pdf

PAGES = ["Visitors to the Nairobi office sign the badge register.", "Badges are returned at the front desk."]
# what a build writes on its own: summary lines, and per-file lines that name the file
OWN = re.compile(
    r"^(added \d|chunks embedded|full rebuild|index is up to date|index holds|"
    r"(warning: )?skipped (?P<skipped>\S+)|note on (?P<noted>\S+))"
)


def _damaged_pdfs(corpus: Path) -> dict[str, bytes]:
    good = make_pdf(corpus / "good.pdf", PAGES).read_bytes()
    xref = good.rindex(b"xref")
    offsets = re.sub(rb"(\d{10}) 00000 n", lambda m: b"%010d 00000 n" % (int(m[1]) + 7), good[xref:])
    damaged = {
        "wrong_offsets.pdf": good[:xref] + offsets,  # every xref entry points 7 bytes off ("wrong pointing object")
        "no_xref.pdf": good[:xref],  # xref and trailer cut off
        "half.pdf": good[: len(good) // 2],  # truncated mid-file
        "bad_stream.pdf": good.replace(b"/Length ", b"/Length 9", 1),  # a stream length far past the end
        "junk_header.pdf": b"%PDF-1.7\n" + os.urandom(2000),
    }
    for name, data in damaged.items():
        (corpus / name).write_bytes(data)
    return damaged


def test_damaged_pdfs_print_nothing_that_does_not_name_the_file(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    damaged = _damaged_pdfs(corpus)
    env = {**os.environ, "PYTHONPATH": str(Path(policyqa.__file__).parents[1])}  # the policyqa under test
    code = "import sys\nfrom policyqa.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    run = subprocess.run(
        [sys.executable, "-c", code, "build", "--corpus", str(corpus), "--index", str(tmp_path / "index")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    names = set(damaged) | {"good.pdf"}
    for line in (run.stdout + run.stderr).splitlines():
        if not line.strip():
            continue
        own = OWN.match(line.strip())
        assert own, f"a line that is not the build's own: {line!r}"
        named = own["skipped"] or own["noted"]
        if named is not None:
            assert named.rstrip(":") in names, line
