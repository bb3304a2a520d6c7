"""Seconds and peak memory of the HTML reader on hostile pages (issue 24 items 5-7) and on real pages.

Each read runs in its own child process; its peak resident memory is the child's own (os.wait4's rusage), so one
shape's peak never hides another's. Run timed measurements alone on the machine:

    .venv/bin/python benchmarks/bounded_readers.py [--old SECONDS]

--old also runs the previous reader (Python's html.parser through BeautifulSoup, from git at b39928a) on each page,
stopped after SECONDS.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OLD_COMMIT = "b39928a"  # the last commit with src/policyqa/ingest/readers.py (BeautifulSoup on html.parser)

# Each child prints "<seconds reading>|<result>"; the seconds leave out the interpreter's start and the imports.
READ_NEW = """
import sys, time
from policyqa.errors import DocumentError
from policyqa.ingest.readers.html import read_html
import lxml.etree
data = open(sys.argv[1], "rb").read()
started = time.perf_counter()
try:
    parsed = read_html(data)
    result = f"read: {len(parsed.text):,} chars, {len(parsed.headings):,} headings"
except DocumentError as exc:
    result = f"refused: {exc}"
print(f"{time.perf_counter() - started:.2f}|{result}")
"""
READ_OLD = """
import sys, time, types
module = types.ModuleType("old_readers")
sys.modules["old_readers"] = module
exec(compile(sys.stdin.read(), "old_readers.py", "exec"), module.__dict__)
import bs4
data = open(sys.argv[1], "rb").read()
started = time.perf_counter()
parsed = module.read_html(data)
result = f"read: {len(parsed.text):,} chars, {len(parsed.headings):,} headings"
print(f"{time.perf_counter() - started:.2f}|{result}")
"""


def hostile_pages() -> dict[str, bytes]:
    filler = b"hidden inside an object element, where no reader shows it, on a long page of many such headings"
    hidden = b"".join(b"<h2>Heading %d %s</h2>" % (i, filler) for i in range(20_000))
    return {
        "1.2 MB of '</ '": b"<html><body><p>x" + b"</ " * 420_000,
        "2.4 MB of '</ '": b"<html><body><p>x" + b"</ " * 840_000,
        "20,000 headings in <object> + 1.5 MB of text (3.8 MB)": b"<html><body><object>" + hidden + b"</object>"
        + b"<h2>Visible</h2>" + b"<p>A visible paragraph of the page that the reader keeps in its text.</p>" * 20_000,
        "1M sibling <p> (9 MB)": b"<html><body>" + b"<p>x</p>\n" * 1_000_000 + b"</body></html>",
        "399,000 sibling <p> (3.6 MB, under the limit)": b"<html><body>" + b"<p>x</p>\n" * 399_000 + b"</body></html>",
        "20,000 nested <div> (read as text)": b"<div>" * 20_000 + b"deep text" + b"</div>" * 20_000,
    }


def real_pages() -> dict[str, bytes]:
    pages = {
        "FEMA Hurricane Maria page (65 KB)": REPO / "tests/ingest/data/html/fema_hurricane_maria_2017.html",
        "FedRAMP docs page (61 KB)": REPO / "eval/realdocs/corpus/fedramp_20x_significant_change_notifications.html",
    }
    return {name: path.read_bytes() for name, path in pages.items() if path.exists()}


def measure(script: str, page: Path, stdin: str | None, timeout: float) -> tuple[str, float, str]:
    """Seconds reading, peak resident MB of the child, and its result (or that it was stopped)."""
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(page)],
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    if stdin is not None:
        child.stdin.write(stdin)
        child.stdin.close()
    deadline = time.perf_counter() + timeout
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            child.kill()
            pid, status, usage = os.wait4(child.pid, 0)
            return f"> {timeout:.0f}", usage.ru_maxrss / 1024, "stopped (not finished)"
        time.sleep(0.02)
    output = child.stdout.read().strip().splitlines()
    last = output[-1] if output else f"exit {os.waitstatus_to_exitcode(status)}"
    seconds, _, result = last.partition("|") if "|" in last else ("?", "", last)
    return seconds, usage.ru_maxrss / 1024, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", type=float, default=0, help="also run the previous reader, stopped after N s")
    args = parser.parse_args()
    old_source = None
    if args.old:
        old_source = subprocess.run(
            ["git", "show", f"{OLD_COMMIT}:src/policyqa/ingest/readers.py"], cwd=REPO, capture_output=True, text=True
        ).stdout
    with tempfile.TemporaryDirectory() as folder:
        empty = Path(folder) / "empty.html"
        empty.write_bytes(b"<p>x</p>")
        seconds, peak, _ = measure(READ_NEW, empty, None, 60)
        print(f"baseline (interpreter + lxml + reader on an 8-byte page): {seconds} s reading, {peak:.0f} MB peak\n")
        print("| page | reader | seconds reading | peak MB (child) | result |")
        print("| --- | --- | ---: | ---: | --- |")
        for name, data in {**hostile_pages(), **real_pages()}.items():
            page = Path(folder) / "page.html"
            page.write_bytes(data)
            seconds, peak, result = measure(READ_NEW, page, None, 120)
            print(f"| {name} | lxml (now) | {seconds} | {peak:.0f} | {result} |", flush=True)
            if old_source is not None:
                seconds, peak, result = measure(READ_OLD, page, old_source, args.old)
                print(f"| {name} | html.parser (before) | {seconds} | {peak:.0f} | {result} |", flush=True)


if __name__ == "__main__":
    main()
