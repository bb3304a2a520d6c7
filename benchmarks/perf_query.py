"""Query latency against its floor and against LangChain, and cold start of `policyqa search`, in one run.

    .venv/bin/python benchmarks/perf_query.py ../shared/eval/policyqa/dev.json [--queries 300] [--cold-runs 5]

Index: the 20 PolicyQA dev policies, default settings. Queries: the first `--queries` distinct PolicyQA questions,
each run once through every path below, interleaved per question so that load from other processes hits all
paths alike, in a shuffled order per question (model loaded and warmed up first):

* floor: raw `SentenceTransformer.encode([question], normalize_embeddings=True)` + FAISS `search` of that vector
  (k=5) on the generation's index: what any dense search must do with the model as shipped;
* own floor: the same with the index's backend (`--backend`, default openvino) bare `Embedder.encode`;
* `search(question, k=5, mode=...)` for dense and hybrid (the default; adds BM25 scoring and fusion);
* `ask(question, k=5)`: hybrid search, then embeds the candidate sentences of the retrieved passages to pick the
  quotes; its own floor adds raw encoding of exactly those sentences (one batch) to the search floor;
* LangChain: RecursiveCharacterTextSplitter(1000, 200) + HuggingFaceEmbeddings (same bundled model) + FAISS,
  `similarity_search(question, k=5)` (it embeds the question itself).

Cold start: `policyqa search QUESTION --index INDEX` and `policyqa ask` as fresh processes (imports, index open,
query encoder load, one hybrid search), median of `--cold-runs`, beside fresh processes that only `import torch`
and only `import sentence_transformers` (what a search cost before queries went through numpy_bert), and
`python -c pass`; the stages of one cold search; `-X importtime` of one cold search to list which heavy modules a
search imports.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policyqa_data import write_policies  # noqa: E402

from policyqa import build_index, open_index  # noqa: E402
from policyqa.embed.embedder import BACKENDS, Embedder, backend_of, bundled_model_dir, default_backend, load_model  # noqa: E402
from policyqa.index.faiss_sqlite.files import current_manifest  # noqa: E402

K = 5
HEAVY = (
    "torch",
    "transformers",
    "sentence_transformers",
    "sklearn",
    "scipy",
    "pandas",
    "sympy",
    "bm25s",
    "faiss",
    "langchain_text_splitters",
    "pypdfium2",
    "docx",
    "lxml",
    "gradio",
)


def ms_stats(seconds: list[float]) -> tuple[float, float]:
    values = np.array(seconds) * 1000
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def langchain_store(corpus: Path) -> Any:
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    try:
        from langchain_huggingface import HuggingFaceEmbeddings
    except ImportError:
        from langchain_community.embeddings import HuggingFaceEmbeddings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        embeddings = HuggingFaceEmbeddings(model_name=str(bundled_model_dir()))
    documents = [
        Document(page_content=p.read_text(encoding="utf-8"), metadata={"source": p.name})
        for p in sorted(corpus.glob("*.txt"))
    ]
    chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(documents)
    return FAISS.from_documents(chunks, embeddings)


def warm_query_latency(index_dir: Path, corpus: Path, questions: list[str]) -> dict[str, list[float]]:
    embedder = Embedder(index_backend=backend_of(current_manifest(index_dir)))
    model = load_model(embedder.model_dir)
    idx = open_index(index_dir)
    vectors = idx.generation.vectors
    sentences: list[list[str]] = []

    def recording(texts: list[str]) -> np.ndarray:
        sentences.append(list(texts))
        with idx._encode_lock:
            return idx.embedder.encode(texts)

    idx.encode_texts = recording  # type: ignore[method-assign]  # see which sentences `ask` embeds
    try:
        store: Any = langchain_store(corpus)
    except ImportError as exc:
        print(f"LangChain skipped ({exc}); `pip install -e '.[bench]'`", file=sys.stderr)
        store = None

    def floor(question: str) -> None:
        vector = model.encode([question], normalize_embeddings=True, convert_to_numpy=True)
        vectors.search(np.ascontiguousarray(vector, dtype=np.float32), K)

    def own_floor(question: str) -> None:
        vectors.search(embedder.encode([question]), K)

    for question in questions[:10]:  # warm-up of every path
        floor(question)
        own_floor(question)
        idx.search(question, k=K, mode="hybrid")
        idx.ask(question, k=K)
        if store is not None:
            store.similarity_search(question, k=K)
    times: dict[str, list[float]] = {
        name: [] for name in ("floor", "own floor", "dense", "hybrid", "ask", "ask floor", "ask sentences", "langchain")
    }
    paths: list[tuple[str, Callable[[str], Any]]] = [
        ("floor", floor),
        ("own floor", own_floor),
        ("dense", lambda q: idx.search(q, k=K, mode="dense")),
        ("hybrid", lambda q: idx.search(q, k=K, mode="hybrid")),
    ]
    if store is not None:
        paths.append(("langchain", lambda q: store.similarity_search(q, k=K)))
    shuffle = random.Random(0).shuffle
    for question in questions:
        # A fresh order per question: torch's OpenMP threads keep spinning for a while after an encode and slow
        # whichever path runs next; a fixed order would always charge that to the same path.
        shuffle(paths)
        for name, run in paths:
            started = time.perf_counter()
            run(question)
            times[name].append(time.perf_counter() - started)
        sentences.clear()
        started = time.perf_counter()
        idx.ask(question, k=K)
        times["ask"].append(time.perf_counter() - started)
        picked = [s for batch in sentences[1:] for s in batch]  # batch 0 is the question itself
        times["ask sentences"].append(len(picked))
        started = time.perf_counter()
        floor(question)
        if picked:
            model.encode(picked, batch_size=embedder.batch_size, normalize_embeddings=True)
        times["ask floor"].append(time.perf_counter() - started)
    return times


STAGES_SCRIPT = """
import json, sys, time
t = [time.perf_counter()]
import policyqa.cli, policyqa.api
t.append(time.perf_counter())
idx = policyqa.api.open_index(sys.argv[2])
t.append(time.perf_counter())
idx.search(sys.argv[1], k=5)
t.append(time.perf_counter())
idx.search(sys.argv[1] + " again", k=5)
t.append(time.perf_counter())
assert "torch" not in sys.modules
print(json.dumps([b - a for a, b in zip(t, t[1:])]))
"""
STAGES = (
    "import policyqa",
    "open index (FAISS + SQLite)",
    "first hybrid search (query encoder load: numpy weights or compiled OpenVINO model; encode; BM25 load)",
    "second hybrid search",
)


def stage_times(index_dir: Path, question: str, env: dict[str, str]) -> list[float]:
    out = subprocess.run(
        [sys.executable, "-c", STAGES_SCRIPT, question, str(index_dir)], capture_output=True, text=True, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_process(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def cold_start(index_dir: Path, question: str, runs: int) -> tuple[dict[str, list[float]], dict[str, float]]:
    python = sys.executable
    cli = str(Path(python).parent / "policyqa")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "python -c 'import torch'": [python, "-c", "import torch"],
        "python -c 'import sentence_transformers'": [python, "-c", "import sentence_transformers"],
        "policyqa search (fresh process)": [cli, "search", question, "--index", str(index_dir)],
        "policyqa ask (fresh process)": [cli, "ask", question, "--index", str(index_dir)],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    stages: list[list[float]] = []
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(fresh_process(command, env))
        stages.append(stage_times(index_dir, question, env))
    for i, stage in enumerate(STAGES):
        times[f"stage: {stage}"] = [run[i] for run in stages]
    profile = subprocess.run(
        [python, "-X", "importtime", "-m", "policyqa.cli", "search", question, "--index", str(index_dir)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stderr
    cumulative: dict[str, float] = {}
    for line in profile.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, total, name = line.split("|")
        if name.strip() in HEAVY:  # a module is listed once, where it was first imported
            cumulative[name.strip()] = int(total) / 1e6
    return times, cumulative


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dev_json", type=Path, help="PolicyQA dev.json (SQuAD format)")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--backend", choices=BACKENDS, default=default_backend())
    args = parser.parse_args()
    print(f"command: `{shlex.join([sys.executable, *sys.argv])}`\n", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        corpus, index_dir = Path(tmp) / "corpus", Path(tmp) / "index"
        questions = list(dict.fromkeys(q.text for q in write_policies(args.dev_json, corpus)))[: args.queries]
        build_index(corpus, index_dir, backend=args.backend, progress=False, log=lambda _m: None)
        times = warm_query_latency(index_dir, corpus, questions)
        cold, imports = cold_start(index_dir, questions[0], args.cold_runs)

    floor50, floor95 = ms_stats(times["floor"])
    ask_floor50, ask_floor95 = ms_stats(times["ask floor"])
    print(f"backend: {args.backend}; {len(questions)} PolicyQA questions, k={K}; milliseconds\n")
    print("| path | p50 ms | p95 ms | p50 / floor p50 | p95 / floor p95 |")
    print("|---|---|---|---|---|")
    print(f"| floor: raw SentenceTransformer encode + FAISS search | {floor50:.1f} | {floor95:.1f} | 1.00x | 1.00x |")
    own50, own95 = ms_stats(times["own floor"])
    print(
        f"| own floor: {args.backend} Embedder.encode + FAISS search | {own50:.1f} | {own95:.1f} | "
        f"{own50 / floor50:.2f}x | {own95 / floor95:.2f}x |"
    )
    for name, label in [("dense", "`search` dense"), ("hybrid", "`search` hybrid (default)")]:
        p50, p95 = ms_stats(times[name])
        print(f"| {label} | {p50:.1f} | {p95:.1f} | {p50 / floor50:.2f}x | {p95 / floor95:.2f}x |")
    if times["langchain"]:
        p50, p95 = ms_stats(times["langchain"])
        print(
            f"| LangChain `similarity_search` | {p50:.1f} | {p95:.1f} | {p50 / floor50:.2f}x | {p95 / floor95:.2f}x |"
        )
        hybrid50, _ = ms_stats(times["hybrid"])
        dense50, _ = ms_stats(times["dense"])
    p50, p95 = ms_stats(times["ask"])
    print(f"| `ask` (hybrid) | {p50:.1f} | {p95:.1f} | {p50 / floor50:.2f}x | {p95 / floor95:.2f}x |")
    print(
        f"| ask floor: raw encode question + FAISS + raw encode its sentences | {ask_floor50:.1f} | "
        f"{ask_floor95:.1f} | {ask_floor50 / floor50:.2f}x | {ask_floor95 / floor95:.2f}x |"
    )
    print(
        f"\n`ask` / ask floor: p50 {p50 / ask_floor50:.2f}x, p95 {p95 / ask_floor95:.2f}x; sentences embedded per ask: "
        f"median {statistics.median(times['ask sentences']):.0f}, max {max(times['ask sentences']):.0f}."
    )
    print(
        f"`search` / own floor p50: dense {ms_stats(times['dense'])[0] / own50:.2f}x, "
        f"hybrid {ms_stats(times['hybrid'])[0] / own50:.2f}x."
    )
    if times["langchain"]:
        print(
            f"Ours / LangChain p50: dense {dense50 / ms_stats(times['langchain'])[0]:.2f}x, "
            f"hybrid {hybrid50 / ms_stats(times['langchain'])[0]:.2f}x."
        )
    print()
    print(f"| fresh process ({args.cold_runs} runs, interleaved) | median s | min s | max s |")
    print("|---|---|---|---|")
    for name, values in cold.items():
        print(f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |")
    print(
        "\nCumulative import time inside one cold `policyqa search` (-X importtime, s): "
        + ", ".join(f"{name} {seconds:.2f}" for name, seconds in sorted(imports.items(), key=lambda x: -x[1]))
    )
    print("Not imported by search: " + ", ".join(sorted(set(HEAVY) - set(imports))) + ".")


if __name__ == "__main__":
    main()
