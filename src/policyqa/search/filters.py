"""Which documents a search may return: by id, by path pattern, and by any stored document field."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from policyqa.errors import QueryError
from policyqa.index.records import DocumentRecord

FILTER_FIELDS = ("doc_id", "title", "type", "folder", "size", "sha256")


@dataclass(frozen=True)
class DocumentFilter:
    doc_ids: list[str] | None = None  # exact document ids (paths relative to the corpus)
    path: str | None = None  # glob on the document id, e.g. "policies/*.pdf"
    where: dict[str, Any] = field(default_factory=dict)  # field == value, fields in FILTER_FIELDS

    @property
    def active(self) -> bool:
        return self.doc_ids is not None or self.path is not None or bool(self.where)


def document_fields(doc: DocumentRecord) -> dict[str, Any]:
    path = PurePosixPath(doc.doc_id)
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "type": path.suffix.lstrip(".").lower(),
        "folder": str(path.parent) if str(path.parent) != "." else "",
        "size": doc.size,
        "sha256": doc.sha256,
    }


def matching_documents(documents: list[DocumentRecord], spec: DocumentFilter) -> list[str]:
    unknown_fields = sorted(set(spec.where) - set(FILTER_FIELDS))
    if unknown_fields:
        raise QueryError(f"cannot filter on {', '.join(unknown_fields)}; filterable: {', '.join(FILTER_FIELDS)}")
    if spec.doc_ids is not None:
        missing = sorted(set(spec.doc_ids) - {d.doc_id for d in documents})
        if missing:
            raise QueryError(f"no such document(s) in the index: {', '.join(missing)}")
    kept = []
    for doc in documents:
        fields = document_fields(doc)
        if spec.doc_ids is not None and doc.doc_id not in spec.doc_ids:
            continue
        if spec.path is not None and not fnmatch.fnmatchcase(doc.doc_id, spec.path):
            continue
        if any(str(fields[key]) != str(value) for key, value in spec.where.items()):
            continue
        kept.append(doc.doc_id)
    return kept
