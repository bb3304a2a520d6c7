"""Full and no-op build time for a corpus vs the floor: raw model.encode of exactly the chunks the build embeds.

.venv/bin/python benchmarks/build_time.py ../shared/eval/policyqa/dev.json
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policyqa_data import write_policies  # noqa: E402

from policyqa import build_index, open_index  # noqa: E402
from policyqa.embed.embedder import Embedder, load_model  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def measure(name: str, corpus: Path, work: Path) -> dict[str, float]:
    index_dir = work / f"index-{name}"
    shutil.rmtree(index_dir, ignore_errors=True)
    started = time.perf_counter()
    report = build_index(corpus, index_dir, progress=False, log=lambda _m: None)
    full = time.perf_counter() - started
    texts = [c.text for c in open_index(index_dir).chunks()]
    embedder = Embedder()
    started = time.perf_counter()
    embedder.model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True)
    floor = time.perf_counter() - started
    started = time.perf_counter()
    build_index(corpus, index_dir, log=lambda _m: None)
    noop = time.perf_counter() - started
    return {"docs": report.documents_total, "chunks": report.chunks_total, "full": full, "floor": floor, "noop": noop}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dev_json", type=Path, help="PolicyQA dev.json (SQuAD format)")
    args = parser.parse_args()
    # Model load and torch's first-call warm-up are one-off start-up costs (see the cold-start benchmark).
    load_model(Embedder().model_dir).encode(["warm up"] * 8)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_policies(args.dev_json, work / "policyqa")
        rows = [
            ("bundled corpus", measure("bundled", REPO / "corpus", work)),
            ("PolicyQA dev (20 policies)", measure("policyqa", work / "policyqa", work)),
        ]
    print("| corpus | docs | chunks | full build s | raw encode s (floor) | ratio | no-op rebuild s |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows:
        print(
            f"| {name} | {r['docs']} | {r['chunks']} | {r['full']:.2f} | {r['floor']:.2f} | "
            f"{r['full'] / r['floor']:.2f}x | {r['noop']:.3f} |"
        )


if __name__ == "__main__":
    main()
