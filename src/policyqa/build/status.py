"""What is indexed and whether it is stale against the corpus — without loading the model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from policyqa.build.sync import build_settings, plan_sync
from policyqa.embed.embedder import backend_of, precision_of
from policyqa.errors import IndexNotFoundError
from policyqa.index.records import DocumentRecord
from policyqa.index.store import Store, open_store
from policyqa.ingest.chunking import ChunkSettings
from policyqa.ingest.documents import SUPPORTED_SUFFIXES, scan_corpus, walk_corpus
from policyqa.settings import Settings

# "indexed": as in the corpus; "changed": the file changed since; "removed": the file is gone (a build drops it);
# "new": a corpus file not indexed yet
DocumentState = Literal["indexed", "changed", "removed", "new"]


@dataclass(frozen=True)
class DocumentRow:
    """One line of the documents table: an indexed document, or a corpus file not indexed yet (title, chunks, size
    and indexed_at None)."""

    doc_id: str
    title: str | None
    chunks: int | None
    size: int | None
    indexed_at: float | None
    state: DocumentState
    notes: tuple[str, ...] = ()  # how the file was read, when a user should know ("pages 3–5 read by OCR")


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass(frozen=True)
class Staleness:
    """How the corpus folder differs from the index: what a build would add, re-index and drop."""

    is_stale: bool
    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    full_rebuild_reason: str | None = None
    skipped: tuple[SkippedFile, ...] = ()


@dataclass(frozen=True)
class IndexStatus:
    """What is indexed (`indexed` False: no index yet) and how stale it is against the corpus folder."""

    indexed: bool
    stale: Staleness
    generation: str | None = None
    model: str | None = None
    backend: str | None = None
    precision: str | None = None
    built_at: float | None = None
    chunks: int = 0
    second_stage: str | None = None
    records: tuple[DocumentRecord, ...] = field(default=())  # the indexed documents, as stored

    @property
    def documents(self) -> list[DocumentRow]:
        """The indexed documents, each with its state against the corpus, then the corpus files not indexed yet."""
        removed, changed = set(self.stale.deleted), set(self.stale.modified)
        rows = [
            DocumentRow(
                d.doc_id, d.title, d.chunks, d.size, d.indexed_at,
                "removed" if d.doc_id in removed else "changed" if d.doc_id in changed else "indexed", d.notes,
            )
            for d in self.records
        ]
        return rows + [DocumentRow(doc_id, None, None, None, None, "new") for doc_id in self.stale.added]

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (`policyqa status --json`, the REST API's `stale`)."""
        if not self.indexed:
            return {"indexed": False, "stale": {"is_stale": True}}
        stale = asdict(self.stale)
        return {
            "indexed": True,
            "generation": self.generation,
            "model": self.model,
            "backend": self.backend,
            "precision": self.precision,
            "built_at": self.built_at,
            "chunks": self.chunks,
            "second_stage": self.second_stage,
            "documents": [d.__dict__ for d in self.records],
            "stale": {**stale, **{key: list(stale[key]) for key in ("added", "modified", "deleted", "skipped")}},
        }


def read_index_status(
    corpus_dir: str | Path = "corpus",
    index_dir: str | Path | Store = "index",
    *,
    model: str | Path | None = None,
    chunking: ChunkSettings | None = None,
    second_stage: str | None = None,
    settings: Settings | None = None,
) -> IndexStatus:
    """`second_stage`: what re-scores results by default, as the caller (the CLI) says it; shown as it is.
    `settings` (None: `Settings()`): what a build would run with (staleness is against them) and a Milvus server's
    login; `model` and `chunking` win over it."""
    chosen = (settings or Settings()).with_arguments(model=model, chunking=chunking)
    try:
        generation = open_store(index_dir, chosen.milvus).open_current()
    except IndexNotFoundError:
        return IndexStatus(indexed=False, stale=Staleness(is_stale=True))
    try:
        recorded = build_settings(chosen.embedder(generation.manifest, queries_only=True), chosen.chunking)
        files, scan_skips = scan_corpus(Path(corpus_dir)) if Path(corpus_dir).is_dir() else ([], [])
        plan = plan_sync(files, generation, recorded, scan_skips)
        return IndexStatus(
            indexed=True,
            generation=generation.name,
            model=generation.manifest.get("model", {}).get("name"),
            backend=backend_of(generation.manifest),
            precision=precision_of(generation.manifest),
            built_at=generation.manifest.get("built_at"),
            chunks=len(generation),
            second_stage=second_stage,
            records=tuple(generation.documents()),
            stale=Staleness(
                is_stale=plan.is_stale,
                added=tuple(f.id for f in plan.added),
                modified=tuple(f.id for f in plan.modified),
                deleted=tuple(plan.deleted),
                full_rebuild_reason=plan.full_rebuild_reason,
                skipped=tuple(SkippedFile(s.path, s.reason) for s in plan.skipped),
            ),
        )
    finally:
        generation.close()


def corpus_document_ids(corpus_dir: str | Path) -> list[str]:
    """The ids of the files in the corpus folder that a build reads (supported types, walked as a build walks),
    sorted; [] when the folder does not exist."""
    root = Path(corpus_dir).resolve()
    if not root.is_dir():
        return []
    paths, _ = walk_corpus(root)
    return sorted(
        p.relative_to(root).as_posix() for p in paths if p.suffix.lower() in SUPPORTED_SUFFIXES and p.is_file()
    )
