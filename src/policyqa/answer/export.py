"""Evidence you can paste: answers, conversations (a list of answers) and comparisons as Markdown, CSV and JSON.

Every quote carries a reference a colleague can check later without this program's index: the file (doc_id, its path
below the corpus), the sha256 of its bytes, and the character offsets of the quote in the text that reading the file
gives (`verify` does that check). Markdown and CSV fold a quote's line breaks into spaces (layout, not words); JSON
keeps the exact text.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from policyqa.answer.compare import CompareRow
from policyqa.answer.compose import REFUSAL_TEXT, UNSURE_TEXT
from policyqa.answer.types import Answer, Citation

FORMATS = ("markdown", "csv", "json")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs a cell starting so as a formula


@dataclass(frozen=True)
class ExportContext:
    """What an export was made from: the index version (a published generation's name), the embedding model, the
    date, and each document's sha256 (an answer's citations do not carry it)."""

    index_version: str
    model: str
    date: str  # ISO 8601, UTC, to the second
    sha256: Mapping[str, str] = field(default_factory=dict)  # doc_id -> sha256 of the source file's bytes

    @classmethod
    def from_manifest(
        cls, manifest: Mapping[str, Any], version: str, sha256: Mapping[str, str], when: datetime | None = None
    ) -> ExportContext:
        model = manifest.get("model", {})
        name = str(model.get("name", "unknown")) if isinstance(model, Mapping) else str(model)
        moment = (when or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        return cls(version, name, moment.isoformat().replace("+00:00", "Z"), dict(sha256))

    def header(self) -> dict[str, str]:
        return {"index_version": self.index_version, "model": self.model, "date": self.date}


@dataclass(frozen=True)
class Reference:
    """One numbered entry of an export's reference list: where a quote is, exactly."""

    number: int
    title: str
    doc_id: str
    page: int | None
    page_label: str | None
    start: int
    end: int
    sha256: str
    quote: str  # document text[start:end], exactly


def references_of(answers: list[Answer], context: ExportContext) -> dict[tuple[str, int, int], Reference]:
    """The distinct quotes of these answers, numbered in order of first appearance."""
    found: dict[tuple[str, int, int], Reference] = {}
    for answer in answers:
        for c in answer.citations:
            key = (c.doc_id, c.start, c.end)
            if key not in found:
                sha = context.sha256.get(c.doc_id, "")
                found[key] = Reference(len(found) + 1, c.title, c.doc_id, c.page, c.page_label, c.start, c.end, sha,
                                       c.quote)
    return found


def _row_references(rows: list[CompareRow]) -> dict[tuple[str, int, int], Reference]:
    found: dict[tuple[str, int, int], Reference] = {}
    for r in rows:
        if r.start is not None and r.end is not None and (r.doc_id, r.start, r.end) not in found:
            found[(r.doc_id, r.start, r.end)] = Reference(
                len(found) + 1, r.title, r.doc_id, r.page, r.page_label, r.start, r.end, r.sha256, r.quote
            )
    return found


# --- Markdown -------------------------------------------------------------------------------------------------------

def escape(text: str) -> str:
    """Markdown that renders as the text itself, line breaks folded into spaces."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _quoted(quote: str, start: int, answer: tuple[int | None, int | None], number: int) -> str:
    """The quote as a block quote, the answer words (document offsets) in bold, its reference number after."""
    a, b = answer
    if a is None or b is None or (a, b) == (start, start + len(quote)) or not start <= a < b <= start + len(quote):
        body = escape(quote)
    else:
        before, words, after = quote[: a - start], quote[a - start : b - start], quote[b - start :]
        body = f"{escape(before)} **{escape(words)}** {escape(after)}".strip()
    return f"> {body} [{number}]"


def _page(page: int | None, label: str | None) -> str:
    if page is None:
        return ""
    return f", page {page}" + (f" (printed {escape(label)})" if label and label != str(page) else "")


def reference_list(references: list[Reference], context: ExportContext) -> list[str]:
    lines = ["## References", ""]
    for r in references:
        lines.append(
            f"{r.number}. {escape(r.title)}: file `{r.doc_id}`{_page(r.page, r.page_label)}, characters "
            f"{r.start}–{r.end}, sha256 `{r.sha256}`; index {escape(context.index_version)}, model "
            f"{escape(context.model)}, {context.date}"
        )
    return lines


def _answer_section(answer: Answer, numbers: dict[tuple[str, int, int], Reference], level: str) -> list[str]:
    lines = [f"{level} {escape(answer.question)}", "", f"**{answer.state.capitalize()}**: {escape(answer.reason)}", ""]
    if answer.state == "unsure":
        lines += [UNSURE_TEXT, ""]
    for c in answer.citations:
        number = numbers[(c.doc_id, c.start, c.end)].number
        lines += [_quoted(c.quote, c.start, (c.answer_start, c.answer_end), number), ""]
    if not answer.citations:
        lines += [REFUSAL_TEXT, ""]
    return lines


def answer_markdown(answer: Answer, context: ExportContext) -> str:
    return conversation_markdown([answer], context, title=None)


def conversation_markdown(answers: list[Answer], context: ExportContext, title: str | None = "Conversation") -> str:
    """Each answer with its quotes as block quotes, then one numbered reference list for all of them."""
    numbers = references_of(answers, context)
    lines = [f"# {escape(title)}", ""] if title else []
    for answer in answers:
        lines += _answer_section(answer, numbers, "##" if title else "#")
    lines += reference_list(list(numbers.values()), context)
    return "\n".join(lines) + "\n"


def comparison_markdown(rows: list[CompareRow], context: ExportContext) -> str:
    """A summary grid (questions as rows, documents as columns), each question's quotes, the reference list."""
    numbers = _row_references(rows)
    questions = list(dict.fromkeys(r.question for r in rows))
    documents = list(dict.fromkeys(r.doc_id for r in rows))
    cells = {(r.question, r.doc_id): r for r in rows}
    lines = ["# Comparison", "", "| Question | " + " | ".join(f"`{d}`" for d in documents) + " |"]
    lines.append("|---" * (len(documents) + 1) + "|")
    for q in questions:
        shown = []
        for d in documents:
            r = cells.get((q, d))
            shown.append("" if r is None else _cell(r, numbers))
        lines.append(f"| {escape(q)} | " + " | ".join(shown) + " |")
    lines.append("")
    for q in questions:
        lines += [f"## {escape(q)}", ""]
        for d in documents:
            r = cells.get((q, d))
            if r is None:
                continue
            lines += [f"**{escape(r.title)}** (`{r.doc_id}`): {r.state}. {escape(r.reason)}", ""]
            if r.start is not None:
                ref = numbers[(r.doc_id, r.start, r.end)]  # type: ignore[index]
                lines += [_quoted(r.quote, r.start, (r.answer_start, r.answer_end), ref.number), ""]
    lines += reference_list(list(numbers.values()), context)
    return "\n".join(lines) + "\n"


def _cell(row: CompareRow, numbers: dict[tuple[str, int, int], Reference]) -> str:
    if not row.answers:
        return f"not answered ({row.state})"
    ref = numbers[(row.doc_id, row.start, row.end)]  # type: ignore[index]
    return f"{escape(row.answer or row.quote)[:120]} [{ref.number}]"


# --- CSV ------------------------------------------------------------------------------------------------------------

COMPARE_COLUMNS = (
    "question", "doc_id", "title", "state", "quote", "answer", "page", "page_label", "start", "end", "answer_start",
    "answer_end", "evidence", "sha256", "reason", "index_version", "model", "date",
)
ANSWER_COLUMNS = (
    "question", "state", "reason", "marker", "doc_id", "title", "quote", "answer", "page", "page_label", "start", "end",
    "answer_start", "answer_end", "evidence", "sha256", "index_version", "model", "date",
)


def _csv_cell(value: object) -> str:
    """One line per record: line breaks folded; a text that a spreadsheet would run as a formula gets a leading '."""
    if value is None:
        return ""
    text = " ".join(value.split()) if isinstance(value, str) else str(value)
    return "'" + text if isinstance(value, str) and text.startswith(_FORMULA_START) else text


def _csv(columns: tuple[str, ...], records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_csv_cell(record.get(c)) for c in columns])
    return out.getvalue()


def comparison_csv(rows: list[CompareRow], context: ExportContext) -> str:
    """A header row, then one line per (question, document)."""
    return _csv(COMPARE_COLUMNS, [{**r.as_dict(), **context.header()} for r in rows])


def answers_csv(answers: list[Answer], context: ExportContext) -> str:
    """A header row, then one line per quote (one line with an empty quote for an answer without any)."""
    records: list[dict[str, Any]] = []
    for a in answers:
        base = {"question": a.question, "state": a.state, "reason": a.reason, **context.header()}
        if not a.citations:
            records.append({**base, "evidence": round(a.confidence, 4)})
        for c in a.citations:
            records.append({**base, **_citation_record(c, context)})
    return _csv(ANSWER_COLUMNS, records)


def _citation_record(c: Citation, context: ExportContext) -> dict[str, Any]:
    picked = (c.answer_start, c.answer_end) != (c.start, c.end) and c.answer_start is not None
    words = c.quote[c.answer_start - c.start : c.answer_end - c.start] if picked else ""  # type: ignore[operator]
    return {
        "marker": c.marker, "doc_id": c.doc_id, "title": c.title, "quote": c.quote, "answer": words, "page": c.page,
        "page_label": c.page_label, "start": c.start, "end": c.end, "answer_start": c.answer_start if picked else None,
        "answer_end": c.answer_end if picked else None, "evidence": c.score, "sha256": context.sha256.get(c.doc_id, ""),
    }


# --- JSON -----------------------------------------------------------------------------------------------------------

def comparison_json(rows: list[CompareRow], context: ExportContext) -> str:
    return _json({"context": context.header(), "rows": [r.as_dict() for r in rows]})


def answer_json(answer: Answer, context: ExportContext) -> str:
    """The answer as `Answer.as_dict()` gives it, with its reference list (sha256 included) and the context."""
    return _json(_answer_record(answer, context))


def conversation_json(answers: list[Answer], context: ExportContext) -> str:
    return _json({"context": context.header(), "answers": [_answer_record(a, context) for a in answers]})


def _answer_record(answer: Answer, context: ExportContext) -> dict[str, Any]:
    references = [asdict(r) for r in references_of([answer], context).values()]
    return {**answer.as_dict(), "references": references, "context": context.header()}


def _json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
