"""Exports of answers, conversations and comparisons: Markdown, CSV, JSON; every citation checkable against its file."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from policyqa.answer import export
from policyqa.answer.compare import CompareRow
from policyqa.answer.verify import verify_export
from policyqa.api import PolicyIndex
from tests.answer.three_policies import OTHER, QUESTION, SILENT

REQUIRED = {"question", "doc_id", "title", "state", "quote", "answer", "page", "start", "end", "evidence", "sha256"}


def test_context_from_the_index_manifest(three: tuple[Path, PolicyIndex]) -> None:
    corpus, index = three
    context = index.export_context()
    assert context.index_version == index.generation.name and context.model == index.manifest["model"]["name"]
    assert context.sha256[SILENT] == hashlib.sha256((corpus / SILENT).read_bytes()).hexdigest()
    fixed = export.ExportContext.from_manifest(index.manifest, "gen-7", {}, datetime(2026, 1, 2, 3, 4, 5, 678, UTC))
    assert fixed.date == "2026-01-02T03:04:05Z" and fixed.header()["index_version"] == "gen-7"


def test_comparison_csv_has_a_header_and_one_line_per_row(three: tuple[Path, PolicyIndex]) -> None:
    _, index = three
    rows = index.compare([QUESTION, OTHER])
    text = export.comparison_csv(rows, index.export_context())
    lines = text.splitlines()
    assert len(lines) == len(rows) + 1 and lines[0].split(",") == list(export.COMPARE_COLUMNS)
    records = list(csv.DictReader(io.StringIO(text)))
    shown = [(r["question"], r["doc_id"], r["state"]) for r in records]
    assert shown == [(r.question, r.doc_id, r.state) for r in rows]
    for record, row in zip(records, rows, strict=True):
        assert record["quote"] == " ".join(row.quote.split()) and record["sha256"] == row.sha256
        assert record["start"] == ("" if row.start is None else str(row.start))


def test_comparison_json_and_markdown_cite_every_quote(three: tuple[Path, PolicyIndex]) -> None:
    corpus, index = three
    rows = index.compare([QUESTION, OTHER])
    context = index.export_context()
    data = json.loads(export.comparison_json(rows, context))
    assert data["context"] == context.header() and len(data["rows"]) == len(rows)
    assert all(set(r) >= REQUIRED for r in data["rows"])
    assert [r["quote"] for r in data["rows"]] == [r.quote for r in rows]  # exact text, line breaks and all
    markdown = export.comparison_markdown(rows, context)
    quoted = [r for r in rows if r.start is not None]
    block_quotes = [line for line in markdown.splitlines() if line.startswith("> ")]
    assert len(block_quotes) == len(quoted)
    references = markdown.split("## References", 1)[1]
    for n, row in enumerate(dict.fromkeys((r.doc_id, r.start, r.end) for r in quoted), 1):
        doc_id, start, end = row
        entry = next(line for line in references.splitlines() if line.startswith(f"{n}. "))
        assert f"`{doc_id}`" in entry and f"characters {start}–{end}" in entry
        assert context.sha256[doc_id] in entry and context.index_version in entry and context.model in entry
        assert context.date in entry
    assert all(r.ok for r in verify_export(data, corpus)), verify_export(data, corpus)


def test_answer_and_conversation_exports(three: tuple[Path, PolicyIndex], bundled_index: Path) -> None:
    corpus, index = three
    context = index.export_context()
    first = index.ask(QUESTION, doc_ids=["northfield_cctv_policy.txt"])
    second = index.ask(OTHER)
    refused = index.ask("What is the capital of Mongolia?")
    assert first.citations and refused.state in ("refused", "unsure")
    markdown = export.conversation_markdown([first, second, refused], context)
    assert markdown.startswith("# Conversation") and markdown.count("\n## ") >= 4  # 3 answers and the references
    cited = {(c.doc_id, c.start, c.end) for a in (first, second, refused) for c in a.citations}
    assert len([line for line in markdown.split("## References")[1].splitlines() if line[:1].isdigit()]) == len(cited)
    assert "31 days" in markdown
    data = json.loads(export.conversation_json([first, second, refused], context))
    assert [a["question"] for a in data["answers"]] == [QUESTION, OTHER, refused.question]
    assert all(r.ok for r in verify_export(data, corpus))
    single = json.loads(export.answer_json(first, context))
    assert single["state"] == first.state
    assert single["references"][0]["sha256"] == context.sha256[first.citations[0].doc_id]
    assert all(r.ok for r in verify_export(single, corpus))
    table = list(csv.DictReader(io.StringIO(export.answers_csv([first, refused], context))))
    assert len(table) == len(first.citations) + max(1, len(refused.citations))
    assert table[0]["sha256"] == context.sha256[first.citations[0].doc_id]


def test_verify_fails_when_the_file_or_the_offsets_change(three: tuple[Path, PolicyIndex], tmp_path: Path) -> None:
    corpus = shutil.copytree(three[0], tmp_path / "corpus")  # a copy: the shared index's files stay as built
    index = three[1]
    data = json.loads(export.comparison_json(index.compare([QUESTION]), index.export_context()))
    assert all(r.ok for r in verify_export(data, corpus))
    moved = json.loads(json.dumps(data))
    cited = next(r for r in moved["rows"] if r["start"] is not None)
    cited["start"] += 1
    assert not all(r.ok for r in verify_export(moved, corpus))
    path = corpus / cited["doc_id"]
    path.write_text(path.read_text(encoding="utf-8") + "\nAmended in 2027.\n", encoding="utf-8")  # any edit
    failed = [r for r in verify_export(data, corpus) if r.doc_id == cited["doc_id"]]
    assert failed and not any(r.ok for r in failed) and "sha256" in failed[0].reason


def _row(quote: str) -> CompareRow:
    return CompareRow(
        question="Q?", doc_id="a.txt", title="A *title*", state="answered", quote=quote, answer="", page=None,
        page_label=None, start=0, end=len(quote), answer_start=None, answer_end=None, evidence=0.95,
        sha256="0" * 64, reason="reason",
    )  # fmt: skip


def test_csv_cells_are_not_spreadsheet_formulas_and_markdown_is_escaped() -> None:
    context = export.ExportContext("gen-1", "model", "2026-01-01T00:00:00Z")
    text = export.comparison_csv([_row('=HYPERLINK("http://x")\nsecond line')], context)
    record = next(csv.DictReader(io.StringIO(text)))
    assert record["quote"] == '\'=HYPERLINK("http://x") second line' and len(text.splitlines()) == 2
    markdown = export.comparison_markdown([_row("Fees *must* be paid <script>")], context)
    assert "> Fees \\*must\\* be paid \\<script\\> [1]" in markdown and "A \\*title\\*" in markdown
