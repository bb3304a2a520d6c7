"""Runs one policyqa command in a child process with fault-injection patches applied to that process only.

    python driver.py [--pause POINT] [--hold-until FILE] [--replay DIR] [--lock-timeout S] build ARGS...
    python driver.py [--replay DIR] search-loop INDEX STOP_FILE QUERY...

--pause POINT prints `PQA-PAUSE POINT` when the build reaches POINT, then sleeps (forever, or until FILE exists with
--hold-until), so a test can kill -9 the process exactly there. --replay DIR answers Embedder.encode from vectors
the parent computed with the same model (DIR/texts.json + DIR/vectors.npy) so children do not load torch; a text
not in the cache falls back to the real model, and so does Embedder.encode_late (a build's late chunking needs the
chunks' token states, which are not cached). Nothing here ships: shipped code has no test hooks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

MARKER = "PQA-PAUSE"
POINTS = (
    "scanned",  # corpus scanned, nothing read or embedded yet
    "embedding",  # inside Embedder.encode or encode_late, before any vector exists
    "sqlite-rows",  # first document's rows inserted into the new SQLite file, uncommitted
    "bm25-written",  # SQLite committed and BM25 arrays written; FAISS not written yet
    "faiss-half-written",  # vectors.faiss holds half its bytes
    "before-rename",  # every file written and fsynced, gen-N.tmp not yet renamed to gen-N
    "before-current",  # gen-N published and CURRENT.tmp written, CURRENT still names the old generation
    "after-current",  # CURRENT replaced, old generations not yet removed
)


def pause_factory(point: str | None, hold_until: Path | None) -> Callable[[str], None]:
    def pause(here: str) -> None:
        if here != point:
            return
        print(f"{MARKER} {here} pid={os.getpid()}", flush=True)
        while hold_until is None or not hold_until.exists():
            time.sleep(0.05 if hold_until else 3600)

    return pause


def install_replay(folder: Path) -> None:
    from policyqa.embed.embedder import Embedder

    texts = json.loads((folder / "texts.json").read_text(encoding="utf-8"))
    vectors = np.load(folder / "vectors.npy", allow_pickle=False)
    cache = dict(zip(texts, vectors, strict=True))
    real_encode = Embedder.encode

    def encode(self: Embedder, texts: list[str], progress: bool = False) -> np.ndarray:
        if texts and all(t in cache for t in texts):
            return np.stack([cache[t] for t in texts]).astype(np.float32)
        if texts:
            print(f"replay: {sum(t not in cache for t in texts)} text(s) not cached, using the model", file=sys.stderr)
        return real_encode(self, texts, progress)

    Embedder.encode = encode  # type: ignore[method-assign]


def install_pauses(pause: Callable[[str], None]) -> None:
    import faiss

    import policyqa.build.sync as sync
    import policyqa.index.faiss_sqlite.writer as store
    from policyqa.embed.embedder import Embedder

    def wrap(owner: Any, name: str, before: str | None = None, after: str | None = None, once: bool = False) -> None:
        original = getattr(owner, name)
        calls = [0]

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[0] += 1
            first = calls[0] == 1 or not once
            if before and first:
                pause(before)
            result = original(*args, **kwargs)
            if after and first:
                pause(after)
            return result

        setattr(owner, name, wrapper)

    wrap(sync, "scan_corpus", after="scanned")
    wrap(Embedder, "encode", before="embedding")
    wrap(Embedder, "encode_late", before="embedding")
    wrap(store.GenerationWriter, "add_document", after="sqlite-rows", once=True)
    wrap(store, "write_bm25", after="bm25-written")

    real_write_index = faiss.write_index

    def write_index(index: Any, path: str) -> None:
        writer = faiss.VectorIOWriter()
        real_write_index(index, writer)
        data = faiss.vector_to_array(writer.data).tobytes()
        with open(path, "wb") as out:
            out.write(data[: len(data) // 2])
            out.flush()
            os.fsync(out.fileno())
        pause("faiss-half-written")
        real_write_index(index, path)

    faiss.write_index = write_index

    real_rename, real_replace = os.rename, os.replace

    def rename(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if Path(dst).name.startswith("gen-") and not Path(dst).name.endswith(".tmp"):
            pause("before-rename")
        real_rename(src, dst, *args, **kwargs)

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        is_current = Path(dst).name == store.CURRENT
        if is_current:
            pause("before-current")
        real_replace(src, dst, *args, **kwargs)
        if is_current:
            pause("after-current")

    os.rename, os.replace = rename, replace


def search_loop(index: str, stop: Path, queries: list[str]) -> int:
    """Refresh and search until `stop` exists; every search must return hits whose offsets match the text."""
    from policyqa import open_index

    idx = open_index(index)
    searches, generations = 0, set()
    while True:
        finished = stop.exists()  # one more full round after the stop file appears
        idx.refresh()
        generations.add(idx.generation.path.name)
        for query in queries:
            hits = idx.search(query, k=3)
            if not hits:
                print(f"no hits for {query!r} in {idx.generation.path.name}", file=sys.stderr)
                return 1
            for hit in hits:
                text = idx.generation.document_text(hit.doc_id)
                if text is None or text[hit.start : hit.end] != hit.text:
                    print(f"hit {hit.chunk_id} does not match its document {hit.doc_id}", file=sys.stderr)
                    return 1
            searches += 1
            if searches == 1:
                print("PQA-SEARCHING", flush=True)
        if finished:
            break
    print(f"PQA-SEARCHES {searches} GENERATIONS {len(generations)}", flush=True)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pause", choices=POINTS)
    parser.add_argument("--hold-until", type=Path)
    parser.add_argument("--replay", type=Path)
    parser.add_argument("--lock-timeout", type=float)
    parser.add_argument("command", choices=["build", "search-loop"])
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.replay:
        install_replay(args.replay)
    if args.command == "search-loop":
        index, stop, *queries = args.rest
        return search_loop(index, Path(stop), queries)
    install_pauses(pause_factory(args.pause, args.hold_until))
    if args.lock_timeout is not None:
        import functools

        import policyqa
        import policyqa.build.sync as sync

        patient = functools.partial(sync.build_index, lock_timeout=args.lock_timeout)
        sync.build_index = policyqa.build_index = patient  # type: ignore[assignment]  # the CLI calls the facade's name
    from policyqa.cli import main as cli_main

    return cli_main(["build", *args.rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
