"""The cited PDF page as an image: the quote's boxes marked, and pages of any size rendered within bounds."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from policyqa.answer.page_image import MAX_HEIGHT_PX, MAX_PIXELS, locate, render_page
from tests.filemakers import make_pdf


def test_the_quote_is_marked_on_its_page(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "a.pdf", ["Cover", "Intro line here.\nThe Zanzibar clause requires audits.\nEnd."])
    shown = render_page(path, 2, "The Zanzibar clause requires audits.")
    assert shown.marked == 1 and shown.note == ""
    plain = render_page(path, 2)
    assert plain.marked == 0
    changed = [
        (x, y)
        for x in range(0, shown.image.width, 4)
        for y in range(0, shown.image.height // 3, 4)
        if shown.image.getpixel((x, y)) != plain.image.getpixel((x, y))
    ]
    assert changed, "the highlight changed no pixel"
    ys = [y for _, y in changed]
    assert 72 * 900 / 612 < min(ys) < max(ys) < 140 * 900 / 612  # the second text line, 14 pt below the first


def test_a_quote_cleaned_of_hyphens_and_ligatures_is_still_found() -> None:
    page = "The regu-\r\nlation of e\ufb00ective oversight applies. Footer 3"
    assert locate(page, "regulation of effective oversight") == (4, page.index(" applies") - 1)
    assert locate(page, "an unrelated sentence that is not on this page") is None


def test_a_quote_running_onto_the_next_page_marks_its_part_here() -> None:
    page = "Intro. The committee shall meet every"
    span = locate(page, "The committee shall meet every quarter to review the annual report.")
    assert span == (page.index("The"), len(page) - 1)


def test_a_hostile_tall_page_is_scaled_to_fit(tmp_path: Path) -> None:
    """Issue 24 item 2: /MediaBox [0 0 6 14400] once rendered as 900 x 2,160,000 pixels (tens of GB). Peak memory is
    read as VmHWM: a child's ru_maxrss starts from its parent's (the test process, with the model loaded)."""
    path = make_pdf(tmp_path / "tall.pdf", ["x"], size=(6, 14400))
    code = (
        "import re, sys, time; from pathlib import Path; from policyqa.answer.page_image import render_page; "
        "t = time.perf_counter(); shown = render_page(Path(sys.argv[1]), 1); "
        "peak = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) // 1024; "
        "print(shown.image.width, shown.image.height, time.perf_counter() - t, peak); print(shown.note)"
    )
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    size, note = done.stdout.strip().split("\n")
    width, height, seconds, peak_mb = size.split()
    assert int(height) <= MAX_HEIGHT_PX and int(width) * int(height) <= MAX_PIXELS * 1.01
    assert float(seconds) < 5 and int(peak_mb) < 500 and time.perf_counter() - started < 30
    assert "scaled down" in note
