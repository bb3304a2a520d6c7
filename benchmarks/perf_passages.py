"""Search latency of the default, small-to-big (64/0 chunks shown as passages of up to 1,100 characters), against the
previous default (200/40 chunks shown as matched), in one run.

    .venv/bin/python benchmarks/perf_passages.py ../shared/eval/policyqa/dev.json

Both indexes over the 20 PolicyQA dev policies; the first `--queries` questions, embedded once beforehand; each
question searched in both (hybrid, k=5, within its policy), alternating which goes first, so that load from other
processes hits both alike. Two measures: `retrieve` with the question vector given (what the index does), and
`PolicyIndex.search` (what a caller waits for: the question embedded too). Prints the median and p95 of each and
the ratios of medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policyqa_data import write_policies  # noqa: E402

from policyqa import build_index, open_index  # noqa: E402
from policyqa.embed.embedder import Embedder  # noqa: E402
from policyqa.index.faiss_sqlite.generation import Generation  # noqa: E402
from policyqa.ingest.chunking import ChunkSettings  # noqa: E402
from policyqa.search.retrieval import retrieve  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dev_json", type=Path)
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        questions = write_policies(args.dev_json, Path(tmp) / "corpus")[: args.queries]
        generations = {}
        settings = {
            "previous default (200/40, as matched)": ChunkSettings(200, 40, passage_chars=0),
            "default (small-to-big, 64/0 + 1,100)": ChunkSettings(),
        }
        indexes = {}
        for n, (name, chunking) in enumerate(settings.items()):
            index_dir = Path(tmp) / f"index{n}"
            build_index(Path(tmp) / "corpus", index_dir, chunking=chunking, progress=False, log=lambda _m: None)
            generations[name] = Generation.open_current(index_dir)
            indexes[name] = open_index(index_dir)
        vectors = Embedder().encode([q.text for q in questions])
        for index in indexes.values():
            index.search("warm up", k=5)
        seconds: dict[str, list[float]] = {name: [] for name in generations}
        whole: dict[str, list[float]] = {name: [] for name in generations}
        for n, (question, vector) in enumerate(zip(questions, vectors, strict=True)):
            names = list(generations) if n % 2 else list(generations)[::-1]
            for name in names:
                started = time.perf_counter()
                retrieve(generations[name], question.text, vector, 5, [question.doc_id])
                seconds[name].append(time.perf_counter() - started)
            for name in names:
                started = time.perf_counter()
                indexes[name].search(question.text, k=5, doc_ids=[question.doc_id])
                whole[name].append(time.perf_counter() - started)
        for label, measure in (("retrieve, vector given", seconds), ("PolicyIndex.search, question embedded", whole)):
            for name, values in measure.items():
                values.sort()
                p95 = values[int(0.95 * len(values))]
                print(f"{label}: {name}: median {1000 * statistics.median(values):.2f} ms, p95 {1000 * p95:.2f} ms")
            previous, default = (statistics.median(v) for v in measure.values())
            print(f"{label}: ratio of medians (default / previous): {default / previous:.2f}x over {len(questions)}")


if __name__ == "__main__":
    main()
