"""`policyqa` command line: argument parsing and printing only; the work is in the library.

The settings of a run (`policyqa.Settings`) are built once, in `main`, from the environment and the flags, and
handed to the library; nothing else reads the environment."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

from policyqa import (
    BACKENDS,
    PRECISIONS,
    REFUSAL_TEXT,
    CorpusWatcher,
    Settings,
    WatchSettings,
    answer_json,
    answer_markdown,
    any_close_match,
    build_index,
    check_index,
    close_match,
    comparison_csv,
    comparison_json,
    comparison_markdown,
    default_second_stage,
    evaluate_retrieval,
    evaluation_table,
    load_questions,
    open_index,
    page_name,
    read_index_status,
    verify_export,
)
from policyqa.errors import PolicyQAError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    warnings.showwarning = lambda message, *_args, **_kw: print(f"warning: {message}", file=sys.stderr)
    try:
        args.settings = settings_of(args, os.environ)  # the one value every command hands down
        args.index = args.settings.store
        code = args.run(args)
        sys.stdout.flush()  # here, where a closed pipe is handled below, not at interpreter exit
        return code
    except PolicyQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `policyqa status | head -1`: the reader has all it wanted
        _silence_stdout()
        return 0
    except Exception as exc:  # the CLI never shows a traceback unless asked to
        if os.environ.get("POLICYQA_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (set POLICYQA_DEBUG=1 for details)", file=sys.stderr)
        return 1


def settings_of(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    """The environment's settings with the command's flags in place of theirs (a flag the command lacks, or left
    out, keeps the environment's)."""
    flags = ("index", "model", "backend", "precision", "rerank", "llm_url", "llm_model", "llm_timeout")
    given = {name: getattr(args, name, None) for name in flags}
    return Settings.from_env(environ, store=given.pop("index"), **given)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not hit the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a real file (captured); nothing will be flushed to a pipe
        pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policyqa", description="Search and question answering over policy documents")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    build = sub.add_parser("build", help="build or update the index from the corpus folder")
    _add_paths(build, corpus=True)
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
    build.set_defaults(run=cmd_build)

    search = sub.add_parser("search", help="semantic search over the index")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5, help="number of results (default 5)")
    search.add_argument(
        "--doc", action="append", dest="doc_ids", metavar="DOC_ID", help="only this document (repeatable)"
    )
    _add_filters(search)
    search.add_argument("--mmr", action="store_true", help="diversify results (maximal marginal relevance)")
    _add_paths(search, corpus=False)
    search.add_argument("--json", action="store_true", help="print results as JSON")
    search.set_defaults(run=cmd_search)

    ask = sub.add_parser("ask", help="answer a question with verbatim citations (or say the corpus does not)")
    ask.add_argument("question")
    ask.add_argument("-k", type=int, default=5, help="passages to read (default 5)")
    ask.add_argument("--doc", action="append", dest="doc_ids", metavar="DOC_ID", help="only this document")
    _add_filters(ask)
    _add_paths(ask, corpus=False)
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="text (default); markdown or json: an export with a reference list (file, page, offsets, sha256, index "
        "version, model, date) that `verify` can check later",
    )
    add_llm_arguments(ask)
    ask.set_defaults(run=cmd_ask)

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
    _add_paths(compare, corpus=False)
    compare.set_defaults(run=cmd_compare)

    serve = sub.add_parser("serve", help="start the web UI (binds 127.0.0.1 unless --host says otherwise)")
    _add_paths(serve, corpus=True)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    serve.add_argument("--share", action="store_true", help="also open a public Gradio share link (off by default)")
    serve.add_argument(
        "--no-watch", action="store_true", help="do not index changes to the corpus folder by itself (on by default)"
    )
    add_llm_arguments(serve)
    serve.set_defaults(run=cmd_serve)

    mcp = sub.add_parser("mcp", help="serve search, ask and compare to AI assistants (Model Context Protocol, stdio)")
    mcp.add_argument(
        "--corpus", type=Path, default=None, help="corpus folder: list_documents also names files not indexed yet"
    )
    _add_paths(mcp, corpus=False)
    mcp.set_defaults(run=cmd_mcp)

    evaluate = sub.add_parser("eval", help="retrieval quality on your questions (hit@k, MRR@10, nDCG@10)")
    evaluate.add_argument("questions", type=Path, help="JSONL: question + answer text or doc_ids per line")
    evaluate.add_argument("--modes", default="dense,bm25,hybrid", help="comma-separated (default dense,bm25,hybrid)")
    evaluate.add_argument("-k", dest="ks", default="1,5,10", help="comma-separated cut-offs (default 1,5,10)")
    _add_paths(evaluate, corpus=False)
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(run=cmd_eval)

    watch = sub.add_parser("watch", help="keep the index up to date with the corpus folder (until Ctrl-C)")
    _add_paths(watch, corpus=True)
    watch.add_argument(
        "--quiet",
        type=float,
        default=WatchSettings().quiet,
        metavar="SECONDS",
        help=f"build after this long without a change (default {WatchSettings().quiet:g})",
    )
    watch.set_defaults(run=cmd_watch)

    verify = sub.add_parser("verify", help="check the citations of a JSON export against the files (sha256, offsets)")
    verify.add_argument("export", type=Path, help="a file written by `ask --format json` or `compare --format json`")
    verify.add_argument("--corpus", type=Path, default=Path("corpus"), help="corpus folder (default corpus/)")
    verify.set_defaults(run=cmd_verify)

    status = sub.add_parser("status", help="what is indexed, and whether the index is stale")
    _add_paths(status, corpus=True)
    status.add_argument("--json", action="store_true")
    status.add_argument(
        "--check", action="store_true", help="verify the index files are whole and consistent (exit 1 on problems)"
    )
    status.set_defaults(run=cmd_status)
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


def _add_filters(parser: argparse.ArgumentParser) -> None:
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


def _where_pairs(args: argparse.Namespace) -> dict[str, str]:
    pairs = {}
    for item in args.where:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise PolicyQAError(f"--where takes FIELD=VALUE, got '{item}'")
        pairs[key.strip()] = value
    return pairs


def _add_paths(parser: argparse.ArgumentParser, corpus: bool) -> None:
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


def cmd_build(args: argparse.Namespace) -> int:
    report = build_index(args.corpus, full=args.full, ray=args.ray, settings=args.settings)
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.summary())
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    hits = open_index(settings=args.settings).search(
        args.query,
        k=args.k,
        doc_ids=args.doc_ids,
        mode=args.mode,
        path=args.path,
        where=_where_pairs(args),
        mmr=args.mmr,
    )
    if args.json:
        print(json.dumps([asdict(h) for h in hits], indent=2, ensure_ascii=False))
        return 0
    if not hits:
        print("no results")
    elif not any_close_match(h.score for h in hits):
        best = max(h.score for h in hits)
        print(f"No passage is a close match (best P {best:.2f} < {close_match():.2f}); the nearest:")
    for hit in hits:
        where = _location(hit.doc_id, page_name(hit.page, hit.page_label), hit.start, hit.end)
        heading = f" — {hit.heading}" if hit.heading else ""
        print(f"[{hit.rank}] P {hit.score:.2f}  {where}{heading}")
        print("    " + " ".join(hit.text.split()))  # the whole passage: the match may be anywhere in it
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    index = open_index(settings=args.settings)
    answer = index.ask(
        args.question,
        k=args.k,
        doc_ids=args.doc_ids,
        mode=args.mode,
        path=args.path,
        where=_where_pairs(args),
    )
    if args.json:
        print(json.dumps(answer.as_dict(), indent=2, ensure_ascii=False))
        return 0
    if args.format != "text":
        context = index.export_context()
        print(answer_markdown(answer, context) if args.format == "markdown" else answer_json(answer, context), end="")
        return 0
    print(f"{answer.state}: {answer.reason}")
    if answer.note and answer.note != answer.reason:
        print(answer.note)
    if answer.abstained:
        print(f"{REFUSAL_TEXT} Nearest material (P that its best sentence is a close match):")
        for hit in answer.passages[:3]:
            where = _location(hit.doc_id, page_name(hit.page, hit.page_label), hit.start, hit.end)
            print(f"  - {where} (P {hit.score:.2f})")
            print("    " + " ".join(hit.text.split())[:300])
        return 0
    generated = answer.generated
    if generated is not None:
        origin = f"generated from the quotes by {generated.model}" if generated.source == "generated" else "quoted"
        print(f"({origin}{'; ' + generated.fallback if generated.fallback else ''})")
    print()
    print(answer.text)
    print()
    for check in generated.sentences if generated else []:
        verdict = "supported" if check.supported else "DROPPED: " + "; ".join(check.problems)
        print(f"  check: {check.text[:80]!r} — {verdict}")
    for c in answer.citations:
        heading = f" — {c.heading}" if c.heading else ""
        print(
            f"[{c.marker}] {c.title} · {_location(c.doc_id, page_name(c.page, c.page_label), c.start, c.end)}{heading} "
            f"(P {c.score:.2f} that it answers)"
        )
        picked = (c.answer_start, c.answer_end)
        if c.answer_start is not None and c.answer_end is not None and picked != (c.start, c.end):
            print(f"    answer: {' '.join(c.quote[c.answer_start - c.start : c.answer_end - c.start].split())}")
    return 0


def _location(doc_id: str, page: str | None, start: int, end: int) -> str:
    return f"{doc_id}" + (f", {page}" if page else "") + f", chars {start}-{end}"


def cmd_compare(args: argparse.Namespace) -> int:
    index = open_index(settings=args.settings)
    rows = index.compare(args.questions, args.doc_ids, path=args.path, k=args.k)
    if args.format != "table":
        write = {"json": comparison_json, "csv": comparison_csv, "markdown": comparison_markdown}
        print(write[args.format](rows, index.export_context()), end="")
        return 0
    for question in dict.fromkeys(r.question for r in rows):
        print(question)
        for r in (r for r in rows if r.question == question):
            if r.start is None or r.end is None:
                print(f"  {r.state:<8} P {r.evidence:.2f}  {r.doc_id}: {r.reason}")
                continue
            where = _location(r.doc_id, page_name(r.page, r.page_label), r.start, r.end)
            words = f"  answer: {' '.join(r.answer.split())}" if r.answer and r.answers else ""
            print(f"  {r.state:<8} P {r.evidence:.2f}  {where}{words}")
            print("      " + " ".join(r.quote.split()))
        print()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from policyqa_app import serve
    except ImportError as exc:
        raise PolicyQAError(f"the web UI needs the 'ui' extra ({exc.name} is missing): pip install -e '.[ui]'") from exc

    watch = None if args.no_watch else WatchSettings()
    serve(
        args.index,
        args.corpus,
        host=args.host,
        port=args.port,
        share=args.share,
        watch=watch,
        settings=args.settings,
    )
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    """Keep the index in step with the corpus folder until Ctrl-C; builds run at low priority in a child process."""
    if not args.corpus.is_dir():
        raise PolicyQAError(f"corpus folder '{args.corpus}' does not exist; create it and add documents")
    say = lambda message: print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)  # noqa: E731
    watcher = CorpusWatcher(
        args.corpus, args.index, WatchSettings(quiet=args.quiet), log=say, run_settings=args.settings
    )
    say(f"watching {args.corpus} (index: {args.index}); Ctrl-C stops")
    watcher.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        watcher.stop()
        say("stopped watching")
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    """MCP over stdin/stdout until the assistant closes them; stdout carries only the protocol's messages."""
    import contextlib

    from policyqa.mcp_server import require_sdk, serve_stdio

    require_sdk()
    with contextlib.redirect_stdout(sys.stderr):
        index = open_index(settings=args.settings)
    serve_stdio(index, args.corpus, args.settings)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    try:
        ks = sorted({int(k) for k in args.ks.split(",") if k.strip()})
    except ValueError:
        raise PolicyQAError(f"-k takes whole numbers separated by commas, got '{args.ks}'") from None
    if not ks or min(ks) < 1:
        raise PolicyQAError("-k values must be 1 or more")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    questions, skipped = load_questions(args.questions)
    results = evaluate_retrieval(open_index(settings=args.settings), questions, modes, ks)
    if args.json:
        print(json.dumps({"questions": len(questions), "skipped": skipped, "modes": results}, indent=2))
    else:
        print(evaluation_table(results, ks, len(questions), skipped))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Exit 0 when every citation is found at its offsets in a file with its sha256, 1 otherwise."""
    try:
        text = args.export.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyQAError(f"cannot read the export '{args.export}': {exc}") from None
    try:
        results = verify_export(text, args.corpus)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PolicyQAError(f"'{args.export}' is not a policyqa JSON export ({type(exc).__name__}: {exc})") from None
    for r in results:
        print(f"{'ok' if r.ok else 'FAILED'}  {r.doc_id}, chars {r.start}-{r.end}: {r.reason}")
    failed = sum(not r.ok for r in results)
    print(f"{len(results) - failed} of {len(results)} citation(s) verified")
    return 1 if failed else 0


def cmd_status(args: argparse.Namespace) -> int:
    if args.check:
        return cmd_check(args)
    second_stage = default_second_stage(args.settings)
    status = read_index_status(args.corpus, args.index, second_stage=second_stage, settings=args.settings)
    if args.json:
        print(json.dumps(status.as_dict(), indent=2, ensure_ascii=False))
        return 0
    if not status.indexed:
        print(f"no index in '{args.index}'; run `policyqa build`")
        return 0
    print(
        f"index: {args.index} ({status.generation}), model {status.model} "
        f"({status.backend} backend, {status.precision or 'unrecorded'} precision), "
        f"built {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(status.built_at))}"
    )
    indexed = [row for row in status.documents if row.state != "new"]
    print(f"{len(indexed)} document(s), {status.chunks} chunk(s)")
    print(f"second-stage model: {status.second_stage}")
    for row in indexed:
        print(f"  {row.doc_id}  {row.chunks} chunks  {row.size} bytes  {(row.title or '')[:60]}")
        for note in row.notes:
            print(f"      note: {note}")
    stale = status.stale
    if stale.is_stale:
        print("STALE against the corpus — run `policyqa build`:")
        for key, names in (("added", stale.added), ("modified", stale.modified), ("deleted", stale.deleted)):
            for name in names:
                print(f"  {key}: {name}")
        if stale.full_rebuild_reason:
            print(f"  full rebuild needed: {stale.full_rebuild_reason}")
    else:
        print("up to date with the corpus")
    for skip in stale.skipped:
        print(f"  skipped {skip.path}: {skip.reason}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """`status --check`: the doctor's verdict; exit 1 when the index has problems (notes alone are fine)."""
    corpus = args.corpus if args.corpus.is_dir() else None
    problems = check_index(args.index, corpus, settings=args.settings)
    failed = [p for p in problems if p.is_error]
    if args.json:
        print(json.dumps({"ok": not failed, "problems": [p.as_dict() for p in problems]}, indent=2, ensure_ascii=False))
        return 1 if failed else 0
    print(f"index has {len(failed)} problem(s):" if failed else "index OK")
    for problem in problems:
        print(f"  {'problem' if problem.is_error else 'note'}: {problem.what}")
        print(f"    to fix: {problem.how_to_fix}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
