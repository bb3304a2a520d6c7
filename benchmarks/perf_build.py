"""Build time against the embedding floor and against a LangChain pipeline, full and incremental, in one run.

    .venv/bin/python benchmarks/perf_build.py ../shared/eval/policyqa/dev.json [--repeats 3] [--backend openvino]

Floor: raw `SentenceTransformer.encode` (same batch size, normalised) of exactly the chunk texts the build
embedded, in this process, model loaded and warmed up. Builds use `--backend` (default: the library's default,
openvino); beside the torch floor, "own encode" is that backend's bare `Embedder.encode` of the same texts (for
openvino: tokenise, infer, pool), i.e. what the build would cost if chunking and storage were free.
Full build: `build_index` into an empty folder (scan,
read, chunk, embed, write FAISS + SQLite + BM25, fsync, publish). Incremental: one PolicyQA policy gets a
paragraph appended, then `build_index` again; its floor is encoding all of that document's chunks, and its
fixed cost is the build time minus encoding the chunks it actually re-embedded (unchanged chunks of an edited
document reuse their vectors). Peer: LangChain as its docs build it, RecursiveCharacterTextSplitter(1000, 200) +
HuggingFaceEmbeddings (the same bundled model folder, constructed and warmed up before timing) +
FAISS.from_documents, timed from reading the files to a searchable store (`pip install -e '.[bench]'`).

Each measurement is repeated (`--repeats`, floor / ours / LangChain interleaved so that load from other
processes hits all of them alike); the table gives medians and the median of the per-repeat ratios. One untimed
build runs first: the first build in a process imports langchain-text-splitters and bm25s and loads the tokenizer
(start-up costs like the model load; its time is printed below the tables).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shlex
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policyqa_data import write_policies  # noqa: E402

from policyqa import build_index  # noqa: E402
from policyqa.embed.embedder import BACKENDS, Embedder, bundled_model_dir, default_backend, load_model  # noqa: E402
from policyqa.index.faiss_sqlite.generation import Generation  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
QUIET: Callable[[str], None] = lambda _m: None  # noqa: E731
APPENDED = (
    "\n\nUpdate {n}: we may revise this policy from time to time. When we make material changes we will post the "
    "revised policy on this page, change its effective date, and where required by law notify you by email "
    "thirty days before the changes take effect."
)
PROFILED = (
    "scan_corpus",
    "read_document",
    "split",
    "encode",
    "__init__ (store.py",
    "delete_document",
    "add_document",
    "fit_vector_index",
    "write_bm25",
    "write_index",
    "_fsync_file",
    "remove_old_generations",
    "_report",
)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def floor_seconds(embedder: Embedder, texts: list[str]) -> float:
    model = embedder.model
    return timed(lambda: model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True))[0]


def own_seconds(embedder: Embedder, texts: list[str]) -> float:
    return timed(lambda: embedder.encode(texts))[0]


def chunk_texts(index_dir: Path, doc_id: str | None = None) -> list[str]:
    generation = Generation.open_current(index_dir)
    try:
        return list(dict.fromkeys(r.text for r in generation.iter_chunks(doc_id)))
    finally:
        generation.close()


class LangChain:
    """The LangChain docs' recipe; None-safe construction (prints why it is skipped)."""

    def __init__(self) -> None:
        from langchain_community.vectorstores import FAISS
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        try:
            from langchain_huggingface import HuggingFaceEmbeddings
        except ImportError:
            from langchain_community.embeddings import HuggingFaceEmbeddings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # langchain_community's HuggingFaceEmbeddings is deprecated
            self.embeddings = HuggingFaceEmbeddings(model_name=str(bundled_model_dir()))
        self.embeddings.embed_documents(["warm up"] * 8)
        self.faiss, self.document, self.splitter = FAISS, Document, RecursiveCharacterTextSplitter
        self.chunks = 0

    def build(self, corpus: Path) -> Any:
        documents = [
            self.document(page_content=path.read_text(encoding="utf-8"), metadata={"source": path.name})
            for path in sorted(corpus.rglob("*.txt"))
        ]
        splitter = self.splitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
        chunks = splitter.split_documents(documents)
        self.chunks = len(chunks)
        return self.faiss.from_documents(chunks, self.embeddings)


def profile_build(corpus: Path, index_dir: Path, backend: str) -> str:
    """Cumulative seconds of the build's stages in one profiled build (profiling adds overhead)."""
    profiler = cProfile.Profile()
    profiler.enable()
    build_index(corpus, index_dir, backend=backend, progress=False, log=QUIET)  # type: ignore[arg-type]
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    total = sum(t[3] for key, t in stats.stats.items() if key[2] == "build_index")  # type: ignore[attr-defined]
    parts = []
    for name in PROFILED:
        func, _, where = name.partition(" (")
        seconds = sum(
            t[3]
            for key, t in stats.stats.items()  # type: ignore[attr-defined]
            if (key[2] == func and "policyqa" in key[0] and (not where or where in key[0]))
            or (key[0] == "~" and key[2].endswith(f".{func}>"))  # C functions, e.g. faiss.write_index
        )
        if seconds >= 0.0005:
            parts.append(f"{name.replace(' (store.py', ' (store)')} {seconds:.3f}")
    return f"profiled build {total:.3f} s: " + ", ".join(parts)


def full_rows(name: str, corpus: Path, work: Path, embedder: Embedder, peer: LangChain | None, repeats: int) -> dict:
    ours, floors, ratios, theirs, peer_ratios, owns = [], [], [], [], [], []
    chunks = 0
    for r in range(repeats):
        index_dir = work / f"index-{name}-{r}"
        build = partial(build_index, corpus, index_dir, backend=embedder.backend, progress=False, log=QUIET)
        seconds, report = timed(build)
        chunks = report.chunks_total
        floor = floor_seconds(embedder, chunk_texts(index_dir))
        owns.append(own_seconds(embedder, chunk_texts(index_dir)))
        ours.append(seconds)
        floors.append(floor)
        ratios.append(seconds / floor)
        if peer is not None:
            theirs.append(timed(lambda: peer.build(corpus))[0])
            peer_ratios.append(seconds / theirs[-1])
        shutil.rmtree(index_dir)
    profile = profile_build(corpus, work / f"index-{name}-profiled", embedder.backend)
    return {
        "name": name,
        "docs": report.documents_total,
        "chunks": chunks,
        "ours": statistics.median(ours),
        "floor": statistics.median(floors),
        "ratio": statistics.median(ratios),
        "ratios": ratios,
        "own": statistics.median(owns),
        "own_ratio": statistics.median([s / o for s, o in zip(ours, owns, strict=True)]),
        "peer": statistics.median(theirs) if theirs else None,
        "peer_chunks": peer.chunks if peer else None,
        "peer_ratio": statistics.median(peer_ratios) if peer_ratios else None,
        "profile": profile,
    }


def incremental_rows(corpus: Path, work: Path, embedder: Embedder, repeats: int) -> dict:
    index_dir = work / "index-incremental"
    build = partial(build_index, corpus, index_dir, backend=embedder.backend, progress=False, log=QUIET)
    build()
    generation = Generation.open_current(index_dir)
    by_size = sorted(generation.documents(), key=lambda d: d.chunks)
    generation.close()
    doc = by_size[len(by_size) // 2]  # the median document
    path = corpus / doc.doc_id
    builds, doc_floors, fixed, embedded_counts, doc_chunks = [], [], [], [], 0
    for r in range(repeats):
        before = set(chunk_texts(index_dir, doc.doc_id))
        path.write_text(path.read_text(encoding="utf-8") + APPENDED.format(n=r + 1), encoding="utf-8")
        seconds, report = timed(build)
        assert report.modified == 1 and report.added == report.deleted == 0, report.summary()
        after = chunk_texts(index_dir, doc.doc_id)
        embedded = [t for t in after if t not in before]
        assert len(embedded) == report.chunks_embedded, (len(embedded), report.chunks_embedded)
        doc_floor = own_seconds(embedder, after)
        embedded_floor = own_seconds(embedder, embedded)
        builds.append(seconds)
        doc_floors.append(doc_floor)
        fixed.append(seconds - embedded_floor)
        embedded_counts.append(len(embedded))
        doc_chunks = len(after)
    path.write_text(path.read_text(encoding="utf-8") + APPENDED.format(n=0), encoding="utf-8")
    profile = profile_build(corpus, index_dir, embedder.backend)
    return {
        "doc": doc.doc_id,
        "doc_chunks": doc_chunks,
        "corpus_chunks": report.chunks_total,
        "embedded": statistics.median(embedded_counts),
        "build": statistics.median(builds),
        "doc_floor": statistics.median(doc_floors),
        "ratio": statistics.median([b / f for b, f in zip(builds, doc_floors, strict=True)]),
        "fixed": statistics.median(fixed),
        "builds": builds,
        "profile": profile,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dev_json", type=Path, help="PolicyQA dev.json (SQuAD format)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--backend", choices=BACKENDS, default=default_backend())
    args = parser.parse_args()
    print(f"command: `{shlex.join([sys.executable, *sys.argv])}`\n", flush=True)
    embedder = Embedder(backend=args.backend)
    load_model(embedder.model_dir).encode(["warm up"] * 8)  # model load + first-call warm-up: start-up costs
    embedder.encode(["warm up"] * 8)  # the backend's own start-up (OpenVINO: export if missing, compile)
    try:
        peer: LangChain | None = LangChain()
    except ImportError as exc:
        print(f"LangChain peer skipped ({exc}); `pip install -e '.[bench]'`", file=sys.stderr)
        peer = None
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_policies(args.dev_json, work / "policyqa")
        # The first build in a process also imports langchain-text-splitters and bm25s and loads the tokenizer:
        # start-up costs like the model load, timed here and kept out of the table.
        first, _ = timed(
            lambda: build_index(REPO / "corpus", work / "index-first", backend=args.backend, progress=False, log=QUIET)
        )
        rows = [
            full_rows("bundled corpus", REPO / "corpus", work, embedder, peer, args.repeats),
            full_rows("PolicyQA dev (20 policies)", work / "policyqa", work, embedder, peer, args.repeats),
        ]
        inc = incremental_rows(work / "policyqa", work, embedder, args.repeats)
    print(f"backend: {args.backend}\n")
    print(
        "| corpus | docs | chunks | full build s | floor s (raw ST encode) | ours / floor | own encode s | "
        "ours / own encode | LangChain build s (chunks) | ours / LangChain |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        peer_cells = (
            f"{r['peer']:.2f} ({r['peer_chunks']}) | {r['peer_ratio']:.2f}x" if r["peer"] is not None else "– | –"
        )
        print(
            f"| {r['name']} | {r['docs']} | {r['chunks']} | {r['ours']:.2f} | {r['floor']:.2f} | "
            f"{r['ratio']:.2f}x | {r['own']:.2f} | {r['own_ratio']:.2f}x | {peer_cells} |"
        )
    print()
    print(
        "| incremental: edited document | its chunks | chunks re-embedded | build s | encode all its chunks s "
        "(own backend) | build / that | fixed cost s (build − encoding the re-embedded chunks) |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {inc['doc']} (corpus {inc['corpus_chunks']} chunks) | {inc['doc_chunks']} | {inc['embedded']:.0f} | "
        f"{inc['build']:.2f} | {inc['doc_floor']:.2f} | {inc['ratio']:.2f}x | {inc['fixed']:.2f} |"
    )
    print()
    print(f"first build in the process (bundled corpus, untimed in the table): {first:.2f} s")
    for r in rows:
        print(f"{r['name']}: ours/floor per repeat " + ", ".join(f"{x:.2f}" for x in r["ratios"]) + f"; {r['profile']}")
    print("incremental: build s per repeat " + ", ".join(f"{x:.2f}" for x in inc["builds"]) + f"; {inc['profile']}")


if __name__ == "__main__":
    main()
