"""Time two full PolicyQA builds in one fresh process (after a warm-up build of the bundled corpus).

    PYTHONPATH=OTHER/src .venv/bin/python benchmarks/build_once.py ../shared/eval/policyqa/dev.json [late|separate]

The optional second argument is `build_index(sentence_vectors=...)` (trees without that option take none).
Run alternately on two source trees (PYTHONPATH) to compare their build times; see BENCHMARKS.md (issue 12).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policyqa_data import write_policies  # noqa: E402

import policyqa  # noqa: E402
from policyqa import build_index  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    print(policyqa.__file__, *sys.argv[2:])
    options = {"sentence_vectors": sys.argv[2]} if len(sys.argv) > 2 else {}
    with tempfile.TemporaryDirectory() as tmp:
        write_policies(Path(sys.argv[1]), Path(tmp) / "policies")
        build_index(REPO / "corpus", Path(tmp) / "warm", log=lambda _m: None, **options)
        for n in range(2):
            started = time.perf_counter()
            report = build_index(Path(tmp) / "policies", Path(tmp) / f"index{n}", log=lambda _m: None, **options)
            print(f"{time.perf_counter() - started:.2f}s {report.chunks_total} chunks")


if __name__ == "__main__":
    main()
