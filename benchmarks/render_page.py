"""The cited-page renderer (app/pdf_page.py) on a hostile tall page and on real pages: seconds and peak memory.

    .venv/bin/python benchmarks/render_page.py

Each render runs in its own child process; peak memory is the child's VmHWM less what the imports alone take.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHILD = """
import json, re, sys, time
from pathlib import Path
from policyqa_app.pdf_page import render_page
def hwm():
    return int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text()).group(1)) / 1024
base = hwm()
started = time.perf_counter()
shown = render_page(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
print(json.dumps({"seconds": time.perf_counter() - started, "peak_mb": hwm() - base, "size": shown.image.size,
                  "marked": shown.marked, "note": shown.note}))
"""


def render(path: Path, page: int, quote: str = "") -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), str(page), quote], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])
    return json.loads(done.stdout)


def main() -> None:
    from tests.filemakers import make_pdf

    realdocs = REPO / "eval" / "realdocs" / "corpus"
    with tempfile.TemporaryDirectory() as tmp:
        tall = make_pdf(Path(tmp) / "tall.pdf", ["x"], size=(6, 14400))
        thin = make_pdf(Path(tmp) / "thin.pdf", ["x"], size=(1, 14400))
        cases = [
            ("hostile: MediaBox 6 x 14400 pt", tall, 1, ""),
            ("hostile: MediaBox 1 x 14400 pt", thin, 1, ""),
            ("real page, quote marked (Senate report p. 3)",
             realdocs / "senate_report_113-310_youth_sports_concussion_act.pdf", 3,
             "reduce sports-related concussions in youth"),
            ("real scanned page, quote marked by OCR boxes (House report p. 1)",
             realdocs / "house_report_118-728_fostering_the_use_of_technology_act_SCAN.pdf", 1,
             "to require certain supervisory agencies to assess their technological vulnerabilities"),
        ]
        print("| page | seconds | peak MB over imports | image px | boxes marked | note |")
        print("|---|---|---|---|---|---|")
        for name, path, page, quote in cases:
            r = render(path, page, quote)
            size = "×".join(map(str, r["size"]))
            print(f"| {name} | {r['seconds']:.2f} | {r['peak_mb']:.0f} | {size} | {r['marked']} | {r['note'] or '–'} |")


if __name__ == "__main__":
    main()
