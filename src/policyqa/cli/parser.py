"""The `policyqa` command line's arguments: sub-commands, their flags and help texts (no work, no environment)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from pathlib import Path

from policyqa import BACKENDS, PRECISIONS, WatchSettings

Command = Callable[[argparse.Namespace], int]


def build_parser(commands: Mapping[str, Command]) -> argparse.ArgumentParser:
    """The command line's arguments; `commands` runs each sub-command (by name) with the parsed arguments."""
    parser = argparse.ArgumentParser(prog="policyqa", description="Search and question answering over policy documents")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    build = sub.add_parser("build", help="build or update the index from the corpus folder")
    add_paths(build, corpus=True)
    build.add_argument("--full", action="store_true", help="rebuild everything from scratch")
    build.add_argument("--json", action="store_true", help="print the build report as JSON")
    build.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="read, chunk and embed on Ray: alone, a local Ray instance; 'auto' or ray://host:10001 an existing "
        "cluster (needs the ray extra: pip install -e '.[ray]')",
    )
    build.set_defaults(run=commands["build"])

    search = sub.add_parser("search", help="semantic search over the index")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5, help="number of results (default 5)")
    search.add_argument(
        "--doc", action="append", dest="doc_ids", metavar="DOC_ID", help="only this document (repeatable)"
    )
    add_filters(search)
    search.add_argument("--mmr", action="store_true", help="diversify results (maximal marginal relevance)")
    add_paths(search, corpus=False)
    search.add_argument("--json", action="store_true", help="print results as JSON")
    search.set_defaults(run=commands["search"])

    ask = sub.add_parser("ask", help="answer a question with verbatim citations (or say the corpus does not)")
    ask.add_argument("question")
    ask.add_argument("-k", type=int, default=5, help="passages to read (default 5)")
    ask.add_argument("--doc", action="append", dest="doc_ids", metavar="DOC_ID", help="only this document")
    add_filters(ask)
    add_paths(ask, corpus=False)
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="text (default); markdown or json: an export with a reference list (file, page, offsets, sha256, index "
        "version, model, date) that `verify` can check later",
    )
    add_llm_arguments(ask)
    ask.set_defaults(run=commands["ask"])

    compare = sub.add_parser(
        "compare", help="ask each question of each document: one row per (question, document), with its quote"
    )
    compare.add_argument("questions", nargs="+", metavar="QUESTION")
    compare.add_argument(
        "--doc", action="append", dest="doc_ids", metavar="DOC_ID", help="only this document (repeatable; default all)"
    )
    compare.add_argument("--path", metavar="GLOB", help='only documents whose id matches, e.g. "policies/*.pdf"')
    compare.add_argument("-k", type=int, default=5, help="passages read per document (default 5)")
    compare.add_argument(
        "--format", choices=("table", "json", "csv", "markdown"), default="table", help="output (default table)"
    )
    add_paths(compare, corpus=False)
    compare.set_defaults(run=commands["compare"])

    serve = sub.add_parser("serve", help="start the web UI (binds 127.0.0.1 unless --host says otherwise)")
    add_paths(serve, corpus=True)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    serve.add_argument("--share", action="store_true", help="also open a public Gradio share link (off by default)")
    serve.add_argument(
        "--no-watch", action="store_true", help="do not index changes to the corpus folder by itself (on by default)"
    )
    add_llm_arguments(serve)
    serve.set_defaults(run=commands["serve"])

    mcp = sub.add_parser("mcp", help="serve search, ask and compare to AI assistants (Model Context Protocol, stdio)")
    mcp.add_argument(
        "--corpus", type=Path, default=None, help="corpus folder: list_documents also names files not indexed yet"
    )
    add_paths(mcp, corpus=False)
    mcp.set_defaults(run=commands["mcp"])

    evaluate = sub.add_parser("eval", help="retrieval quality on your questions (hit@k, MRR@10, nDCG@10)")
    evaluate.add_argument("questions", type=Path, help="JSONL: question + answer text or doc_ids per line")
    evaluate.add_argument("--modes", default="dense,bm25,hybrid", help="comma-separated (default dense,bm25,hybrid)")
    evaluate.add_argument("-k", dest="ks", default="1,5,10", help="comma-separated cut-offs (default 1,5,10)")
    add_paths(evaluate, corpus=False)
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(run=commands["eval"])

    watch = sub.add_parser("watch", help="keep the index up to date with the corpus folder (until Ctrl-C)")
    add_paths(watch, corpus=True)
    watch.add_argument(
        "--quiet",
        type=float,
        default=WatchSettings().quiet,
        metavar="SECONDS",
        help=f"build after this long without a change (default {WatchSettings().quiet:g})",
    )
    watch.set_defaults(run=commands["watch"])

    verify = sub.add_parser("verify", help="check the citations of a JSON export against the files (sha256, offsets)")
    verify.add_argument("export", type=Path, help="a file written by `ask --format json` or `compare --format json`")
    verify.add_argument("--corpus", type=Path, default=Path("corpus"), help="corpus folder (default corpus/)")
    verify.set_defaults(run=commands["verify"])

    status = sub.add_parser("status", help="what is indexed, and whether the index is stale")
    add_paths(status, corpus=True)
    status.add_argument("--json", action="store_true")
    status.add_argument(
        "--check", action="store_true", help="verify the index files are whole and consistent (exit 1 on problems)"
    )
    status.set_defaults(run=commands["status"])
    return parser


def add_llm_arguments(parser: argparse.ArgumentParser) -> None:
    """Generated answers from an OpenAI-compatible endpoint; the API key only from $POLICYQA_LLM_API_KEY."""
    parser.add_argument(
        "--llm-url",
        metavar="URL",
        help="OpenAI-compatible API base for generated answers, e.g. http://127.0.0.1:8080/v1 "
        "(default: $POLICYQA_LLM_URL; off when unset). Key: $POLICYQA_LLM_API_KEY",
    )
    parser.add_argument("--llm-model", metavar="NAME", help="model name to request (default: $POLICYQA_LLM_MODEL)")
    parser.add_argument(
        "--llm-timeout", type=float, metavar="SECONDS", help="give up on the model after this long (default 60)"
    )


def add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid", help="default hybrid")
    parser.add_argument(
        "--rerank",
        choices=["auto", "on", "off"],
        default=None,
        help="second stage with all-mpnet-base-v2: auto = when installed (default: $POLICYQA_RERANK or off)",
    )
    parser.add_argument("--path", metavar="GLOB", help='only documents whose id matches, e.g. "policies/*.pdf"')
    parser.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="only documents with this field value (doc_id, title, type, folder, size, sha256); repeatable",
    )


def add_paths(parser: argparse.ArgumentParser, corpus: bool) -> None:
    if corpus:
        parser.add_argument("--corpus", type=Path, default=Path("corpus"), help="corpus folder (default corpus/)")
    parser.add_argument(
        "--index",
        "--store",
        dest="index",
        default=None,
        help="index folder, or a store: milvus:///path/file.db (milvus-lite) or http(s)://host:19530 (Milvus; "
        "credentials from $MILVUS_TOKEN or $MILVUS_USER/$MILVUS_PASSWORD). Default: $POLICYQA_STORE, else index/",
    )
    parser.add_argument(
        "--model",
        default=None,
        help="sentence-transformers model folder, or 'mpnet' for all-mpnet-base-v2 (rerank extra; finds more within a "
        "reading budget, ~8x the build time, ~2.4x the search time: BENCHMARKS.md) (default: $POLICYQA_MODEL, else "
        "the bundled all-MiniLM-L6-v2)",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="embedding backend (default: $POLICYQA_BACKEND, else what the index was built with, else openvino); "
        "a different backend than the index's rebuilds it in full",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=None,
        help="openvino compute precision (default: $POLICYQA_PRECISION, else the index's, else auto = bf16 where "
        "the CPU runs it natively, else f32); a build in another precision than the index's rebuilds it in full",
    )
