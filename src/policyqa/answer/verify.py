"""Checking an exported citation against the file it names, later and without the index.

The file must still have the sha256 the export gives; reading it (the same readers the index used) must give a text
whose characters [start, end) are the quote. Markdown and CSV exports fold a quote's line breaks into spaces, and a
CSV quote starting like a spreadsheet formula carries a leading ', so those forms are accepted too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policyqa.errors import DocumentError, PolicyQAError


@dataclass(frozen=True)
class Verification:
    doc_id: str
    start: int
    end: int
    ok: bool
    reason: str  # "quote found at the offsets", or what differs


def verify_quote(path: str | Path, doc_id: str, sha256: str, start: int, end: int, quote: str) -> Verification:
    """Does the file at `path` (indexed as `doc_id`) have this sha256, and its text this quote at [start, end)?"""
    from policyqa.ingest.documents import CorpusFile, read_document

    def result(ok: bool, reason: str) -> Verification:
        return Verification(doc_id, start, end, ok, reason)

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return result(False, f"cannot read the file: {exc.strerror or exc}")
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        return result(False, f"the file changed: its sha256 is {actual}, the citation's {sha256}")
    try:
        text = read_document(CorpusFile(doc_id, Path(path), data, actual)).text
    except DocumentError as exc:
        return result(False, f"cannot read the document: {exc}")
    if not 0 <= start <= end <= len(text):
        return result(False, f"offsets {start}-{end} lie outside the text ({len(text)} characters)")
    found = text[start:end]
    if found == quote:
        return result(True, "quote found at the offsets")
    folded = " ".join(found.split())
    if folded == " ".join(quote.split()) or "'" + folded == " ".join(quote.split()):
        return result(True, "quote found at the offsets (line breaks folded)")
    return result(False, f"the text at {start}-{end} is {folded[:80]!r}, not the quote")


def verify_export(export: str | Mapping[str, Any], corpus: str | Path) -> list[Verification]:
    """Every citation of a JSON export (a comparison's rows, an answer's or a conversation's references) checked
    against the files below `corpus` (doc_id is the path below it)."""
    data = json.loads(export) if isinstance(export, str) else export
    if not isinstance(data, Mapping):
        raise PolicyQAError("not a policyqa JSON export: expected an object")
    cited = [r for r in data.get("rows", []) if r.get("start") is not None]
    answers = data.get("answers", [data] if "references" in data else [])
    cited += [ref for a in answers for ref in a.get("references", [])]
    root = Path(corpus)
    return [
        verify_quote(root / c["doc_id"], c["doc_id"], c["sha256"], int(c["start"]), int(c["end"]), c["quote"])
        for c in cited
    ]
