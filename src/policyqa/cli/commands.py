"""What each `policyqa` sub-command does: call the public facade with the parsed arguments and print the result."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict

from policyqa import (
    REFUSAL_TEXT,
    CorpusWatcher,
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
        where=where_pairs(args),
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
        where=where_pairs(args),
        llm=args.settings.llm,
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


def where_pairs(args: argparse.Namespace) -> dict[str, str]:
    pairs = {}
    for item in args.where:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise PolicyQAError(f"--where takes FIELD=VALUE, got '{item}'")
        pairs[key.strip()] = value
    return pairs


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "build": cmd_build,
    "search": cmd_search,
    "ask": cmd_ask,
    "compare": cmd_compare,
    "serve": cmd_serve,
    "watch": cmd_watch,
    "mcp": cmd_mcp,
    "eval": cmd_eval,
    "verify": cmd_verify,
    "status": cmd_status,
}
