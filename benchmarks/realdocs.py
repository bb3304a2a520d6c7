"""Real policy documents end to end: build time per page, peak memory, the doctor, a no-op rebuild, and answers.

    .venv/bin/python benchmarks/realdocs.py [--corpus eval/realdocs/corpus] [--questions eval/realdocs/questions.jsonl]
                                            [--baseline REV]

Each build runs in a child process so its peak RSS is its own. `--baseline REV` also builds the same corpus with the
code of git revision REV (checked out into a temporary worktree; a revision that reads PDFs with pypdf needs pypdf
installed) in the same run, and prints the ratio. An answerable question is answered right when its state is
`answered` (or `partial`) and a citation's quote holds the expected answer text; an unanswerable one is right when
not answered (`unsure` or `refused`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def cpu() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown CPU"
    model = re.search(r"Model name:\s*(.+)", out)
    flags = re.search(r"Flags:\s*(.+)", out)
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "avx512_vnni")
    shown = [f for f in (flags.group(1).split() if flags else []) if f in wanted]
    return f"{model.group(1).strip() if model else '?'}, {os.cpu_count()} cores; flags: {' '.join(shown)}"


def peak_mb() -> float:
    """This process's peak RSS (VmHWM: a child's ru_maxrss would start from its parent's)."""
    found = re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text())
    return int(found.group(1)) / 1024 if found else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_build(corpus: str, index: str) -> None:
    """In a child process: a full build, then a no-op rebuild; prints one JSON line."""
    from policyqa import build_index, open_index
    from policyqa.build.doctor import check_index

    started = time.perf_counter()
    report = build_index(Path(corpus), Path(index), progress=False, log=lambda _m: None)
    full = time.perf_counter() - started
    peak = peak_mb()
    started = time.perf_counter()
    again = build_index(Path(corpus), Path(index), progress=False, log=lambda _m: None)
    noop = time.perf_counter() - started
    index_ = open_index(index)
    pages = 0
    ocr = 0
    for record in index_.documents():
        doc = index_.document(record.doc_id)
        pages += len(doc.page_starts) if doc else 0
        ocr += len(getattr(doc, "ocr_pages", ())) if doc else 0
    problems = [p for p in check_index(Path(index)) if p.severity == "error"]
    print(
        json.dumps(
            {
                "seconds": full,
                "peak_mb": peak,
                "documents": report.documents_total,
                "chunks": report.chunks_total,
                "skipped": [[s.path, s.reason] for s in report.skipped_files],
                "pages": pages,
                "ocr_pages": ocr,
                "noop_seconds": noop,
                "noop_embedded": again.chunks_embedded,
                "doctor_errors": [p.what for p in problems],
            }
        )
    )


def run_build(corpus: Path, index: Path, src: Path | None = None) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    if src is not None:
        env["PYTHONPATH"] = str(src)
    here = str(Path(__file__).parent)
    code = f"import sys; sys.path.insert(0, {here!r}); import realdocs; realdocs.child_build(*sys.argv[1:])"
    done = subprocess.run(
        [sys.executable, "-c", code, str(corpus), str(index)], capture_output=True, text=True, env=env, cwd=REPO
    )
    if done.returncode != 0:
        raise SystemExit(f"build failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def folded(text: str) -> str:
    return " ".join(text.split()).lower()


def answer_questions(index: Path, questions: Path) -> dict:
    from policyqa import open_index

    idx = open_index(index)
    rows = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    answerable = [r for r in rows if r.get("answerable", r.get("answer") is not None)]
    absent = [r for r in rows if r not in answerable]
    counts = {"right": 0, "unsure_right_quote": 0, "right_passage_wrong_sentence": 0, "refused_answerable": 0}
    answered_absent, seconds, misses = 0, [], []
    for row in answerable:
        started = time.perf_counter()
        answer = idx.ask(row["question"], k=5)
        seconds.append(time.perf_counter() - started)
        want = folded(row["answer"])
        quoted = any(want in folded(c.quote) for c in answer.citations)
        if answer.state in ("answered", "partial") and quoted:
            counts["right"] += 1
            continue
        misses.append(f"{answer.state}: {row['question']}")
        if answer.state == "refused":
            counts["refused_answerable"] += 1
        elif answer.state == "unsure" and quoted:
            counts["unsure_right_quote"] += 1
        elif any(want in folded(h.text) for h in answer.passages):
            counts["right_passage_wrong_sentence"] += 1
    for row in absent:
        answer = idx.ask(row["question"], k=5)
        if answer.state in ("answered", "partial"):
            answered_absent += 1
            misses.append(f"answered an absent one: {row['question']}")
    return {
        "answerable": len(answerable),
        **counts,
        "absent": len(absent),
        "absent_not_answered": len(absent) - answered_absent,
        "ask_p50_ms": 1000 * sorted(seconds)[len(seconds) // 2] if seconds else 0.0,
        "misses": misses,
    }


def worktree(rev: str, where: Path) -> Path:
    subprocess.run(["git", "worktree", "add", "--detach", str(where), rev], cwd=REPO, check=True, capture_output=True)
    return where / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO / "eval/realdocs/corpus")
    parser.add_argument("--questions", type=Path, default=REPO / "eval/realdocs/questions.jsonl")
    parser.add_argument("--baseline", help="a git revision to build the same corpus with, for the ratio")
    args = parser.parse_args()
    print(f"CPU: {cpu()}\n")
    with tempfile.TemporaryDirectory() as tmp:
        now = run_build(args.corpus.resolve(), Path(tmp) / "index")
        rows = [("this tree", now)]
        if args.baseline:
            try:
                src = worktree(args.baseline, Path(tmp) / "baseline")
                rows.append((f"baseline {args.baseline}", run_build(args.corpus.resolve(), Path(tmp) / "b", src)))
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(Path(tmp) / "baseline")], cwd=REPO)
        print("| code | docs | pages | chunks | full build s | s/page | peak MB | no-op s | no-op embedded | doctor |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name, r in rows:
            per_page = r["seconds"] / max(r["pages"], 1)
            doctor = "clean" if not r["doctor_errors"] else f"{len(r['doctor_errors'])} error(s)"
            print(
                f"| {name} | {r['documents']} | {r['pages']} | {r['chunks']} | {r['seconds']:.1f} | {per_page:.3f} | "
                f"{r['peak_mb']:.0f} | {r['noop_seconds']:.2f} | {r['noop_embedded']} | {doctor} |"
            )
        if len(rows) == 2:
            print(f"\nbuild time ratio (this tree / baseline): {rows[0][1]['seconds'] / rows[1][1]['seconds']:.2f}x")
        print(f"\npages read by OCR: {now['ocr_pages']}; skipped: {now['skipped'] or 'none'}")
        for message in now["doctor_errors"]:
            print(f"doctor: {message}")
        if args.questions.exists():
            result = answer_questions(Path(tmp) / "index", args.questions)
            print(
                f"\nanswerable answered right: {result['right']}/{result['answerable']}; unsure with the answer in a "
                f"quote: {result['unsure_right_quote']}; right passage, wrong sentence: "
                f"{result['right_passage_wrong_sentence']}; refused: {result['refused_answerable']}; "
                f"unanswerable not answered: {result['absent_not_answered']}/{result['absent']}; "
                f"ask p50 {result['ask_p50_ms']:.0f} ms"
            )
            for miss in result["misses"]:
                print(f"  - {miss}")


if __name__ == "__main__":
    main()
