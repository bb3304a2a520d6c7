"""Bring the index in line with the corpus: diff, embed only what changed, publish a new generation."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policyqa.build.reuse import reuse_from
from policyqa.embed.documents import EmbedResult, Reuse, embed_documents
from policyqa.embed.embedder import Backend, Embedder
from policyqa.embed.late_chunking import BEFORE as SENTENCES_BEFORE
from policyqa.embed.late_chunking import DEFAULT_SENTENCE_VECTORS, SentenceVectors, sentence_settings
from policyqa.embed.openvino_backend import Precision
from policyqa.errors import DocumentError, EmptyCorpusError, IndexFormatError, IndexNotFoundError
from policyqa.index.records import FORMAT_VERSION
from policyqa.index.store import IndexReader, Store, open_store
from policyqa.ingest.chunking import Chunker, ChunkSettings
from policyqa.ingest.documents import SUPPORTED_SUFFIXES, CorpusFile, Document, Skipped, scan_corpus
from policyqa.ingest.prepare import PreparedDocument, prepare_document
from policyqa.settings import Settings

PROGRESS_MIN_CHUNKS = 64
# How documents are read into titles and headings; a change re-reads every document (a full rebuild, with the reason).
READING = {"version": 3, "what": "cleaned text; PDFs by pypdfium2, headers, footers and footnotes apart; page labels"}
_BEFORE = {  # what indexes built before a setting was recorded hold
    "reading": {"version": 1, "what": "titles from the first heading or line"},
    "sentences": SENTENCES_BEFORE,
}


@dataclass
class SyncPlan:
    added: list[CorpusFile] = field(default_factory=list)
    modified: list[CorpusFile] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    full_rebuild_reason: str | None = None
    skipped_sha: dict[str, str] = field(default_factory=dict)  # files skipped before and unchanged: their sha256

    @property
    def is_stale(self) -> bool:
        return bool(self.added or self.modified or self.deleted or self.full_rebuild_reason)


@dataclass
class BuildReport:
    added: int
    modified: int
    deleted: int
    unchanged: int
    skipped: int
    chunks_embedded: int
    chunks_reused: int
    chunks_total: int
    documents_total: int
    seconds: float
    full_rebuild_reason: str | None
    generation: str | None
    added_files: list[str]
    modified_files: list[str]
    deleted_files: list[str]
    skipped_files: list[Skipped]
    reading_notes: dict[str, list[str]] = field(default_factory=dict)  # doc_id -> how it was read (OCR, its type)

    def summary(self) -> str:
        lines = [
            f"added {self.added}, modified {self.modified}, deleted {self.deleted}, "
            f"unchanged {self.unchanged}, skipped {self.skipped} file(s)",
            f"chunks embedded {self.chunks_embedded}, reused {self.chunks_reused}; "
            f"index holds {self.documents_total} document(s), {self.chunks_total} chunk(s); {self.seconds:.2f} s",
        ]
        if self.full_rebuild_reason:
            lines.insert(0, f"full rebuild: {self.full_rebuild_reason}")
        if self.generation is None:
            lines.append("index is up to date; nothing written")
        lines += [f"skipped {s.path}: {s.reason}" for s in self.skipped_files]
        lines += [f"note on {doc_id}: {note}" for doc_id, notes in self.reading_notes.items() for note in notes]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["skipped_files"] = [{"path": s.path, "reason": s.reason} for s in self.skipped_files]
        return data


def build_settings(
    embedder: Embedder, chunking: ChunkSettings, sentence_vectors: SentenceVectors = DEFAULT_SENTENCE_VECTORS
) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "model": embedder.identity,
        "chunking": chunking.as_dict(),
        "reading": READING,
        "sentences": sentence_settings(sentence_vectors),
    }


def plan_sync(
    files: list[CorpusFile], base: IndexReader | None, settings: dict[str, Any], scan_skips: Sequence[Skipped] = ()
) -> SyncPlan:
    """What a build must do. `scan_skips` are the scanner's skips: an indexed document that the scanner could not
    reach (its folder cannot be listed or is nested too deep, or the file cannot be read) is kept as it is, never
    deleted, unless the whole index is rebuilt anyway."""
    plan = SyncPlan(skipped=list(scan_skips))
    if base is None:
        plan.added = list(files)
        return plan
    for key in ("model", "chunking", "reading", "sentences"):
        built = base.manifest.get(key, _BEFORE.get(key))
        if built != settings[key]:
            plan.full_rebuild_reason = f"{key} settings changed ({_changes(built, settings[key])})"
    indexed = {d.doc_id: d.sha256 for d in base.documents()}
    known_skips = base.manifest.get("skipped", {})
    seen = set()
    for file in files:
        seen.add(file.id)
        if plan.full_rebuild_reason:
            (plan.modified if file.id in indexed else plan.added).append(file)
        elif indexed.get(file.id) == file.sha256:
            plan.unchanged.append(file.id)
        elif file.id in indexed:
            plan.modified.append(file)
        elif known_skips.get(file.id, {}).get("sha256") == file.sha256:
            plan.skipped.append(Skipped(file.id, known_skips[file.id]["reason"]))
            plan.skipped_sha[file.id] = file.sha256
        else:
            plan.added.append(file)
    unreachable = [s for s in scan_skips if s.unreachable]
    for doc_id in sorted(set(indexed) - seen):
        if not plan.full_rebuild_reason and any(s.covers(doc_id) for s in unreachable):
            plan.unchanged.append(doc_id)  # kept as indexed: we cannot tell whether it changed
        else:
            plan.deleted.append(doc_id)
    return plan


def _changes(old: Any, new: dict[str, Any]) -> str:
    if not isinstance(old, dict):
        return f"index: {old}, now: {new}"
    keys = [key for key in {**old, **new} if old.get(key) != new.get(key)]
    return ", ".join(f"{key}: {old.get(key)} → {new.get(key)}" for key in keys)


def open_base(store: Store) -> tuple[IndexReader | None, str | None]:
    """The live version, or None with the reason it cannot serve as a base.

    A version that opens but is damaged inside (vector and row ids disagree, BM25 rows or chunk offsets wrong,
    corrupt pages) is not reused either: its damage would be copied into every later version.
    """
    try:
        base = store.open_current()
    except IndexNotFoundError:
        return None, None
    except IndexFormatError as exc:
        return None, f"existing index unusable ({exc})"
    except Exception as exc:  # noqa: BLE001 - an unreadable old index must not block a fresh build
        return None, f"existing index unusable ({exc})"
    damage = [p for p in base.problems() if p.is_error]
    if damage:
        base.close()
        return None, f"existing index unusable ({'; '.join(p.what for p in damage)})"
    return base, None


def build_index(
    corpus_dir: str | Path = "corpus",
    index_dir: str | Path | None = None,
    *,
    store: str | Store | None = None,
    model: str | Path | None = None,
    backend: Backend | None = None,
    precision: Precision | None = None,
    chunking: ChunkSettings | None = None,
    sentence_vectors: SentenceVectors | None = None,
    full: bool = False,
    progress: bool | None = None,
    lock_timeout: float = 300.0,
    log: Any = None,
    ray: str | None = None,
    settings: Settings | None = None,
) -> BuildReport:
    """Sync `index_dir` with `corpus_dir`. Only added and modified files are chunked and embedded.

    Each argument given wins over `settings` (`policyqa.Settings`; None: `Settings()`, the defaults: nothing is
    read from the environment), which supplies the rest. `store` names another store than the folder `index_dir`
    (`milvus:///path/file.db`, `http(s)://host:19530`; neither given: `settings.store`). `backend` defaults to the
    one the index was built with, else `default_backend()`; a different backend than the index's means a full
    rebuild (its vectors may differ). `precision` (openvino: auto | f32 | bf16) defaults to the index's, else auto;
    a change is a full rebuild. `sentence_vectors`: how `ask`'s sentence vectors are made
    (policyqa.embed.late_chunking, default late); a change is a full rebuild. `ray` runs read → chunk → embed on
    Ray Data: "local" starts a local Ray instance (or joins this process's), "auto", a head's host:port or
    "ray://host:10001" an existing cluster; the plan and the publish stay here (needs the `ray` extra)."""
    started = time.perf_counter()
    chosen = (settings or Settings()).with_arguments(
        model=model, backend=backend, precision=precision, chunking=chunking, sentence_vectors=sentence_vectors
    )
    location = store if store is not None else index_dir if index_dir is not None else chosen.store
    corpus_dir, target = Path(corpus_dir), open_store(location, chosen.milvus)
    say = log or (lambda message: print(message, file=sys.stderr))
    if not corpus_dir.is_dir():
        raise EmptyCorpusError(f"corpus folder '{corpus_dir}' does not exist; create it and add documents")
    embedder = chosen.embedder(target.current_manifest())
    embedder.require_backend()
    if ray is not None:  # fail before anything is locked or scanned
        from policyqa.build.ray_ingest import require_ray

        require_ray()
    chunking = chosen.chunking
    recorded = build_settings(embedder, chunking, chosen.sentence_vectors)
    with target.build_session(corpus_dir, lock_timeout, say):
        files, scan_skips = scan_corpus(corpus_dir)
        base, unusable = (None, None) if full else open_base(target)
        plan = plan_sync(files, base, recorded, scan_skips)
        reason = "requested (--full)" if full else unusable or plan.full_rebuild_reason
        if reason:
            say(f"full rebuild: {reason}")
            base, plan.full_rebuild_reason = None, reason
        if base is not None and not plan.is_stale:
            target.tidy()  # what the doctor's note on leftovers promises, even when there is nothing to write
            return _report(plan, [], 0, 0, base, started, None)
        return _write_generation(plan, base, embedder, chunking, recorded, target, progress, started, say, ray)


def _write_generation(
    plan: SyncPlan,
    base: IndexReader | None,
    embedder: Embedder,
    chunking: ChunkSettings,
    settings: dict[str, Any],
    store: Store,
    progress: bool | None,
    started: float,
    say: Any,
    ray: str | None = None,
) -> BuildReport:
    modified_ids = {f.id for f in plan.modified}
    mode = settings["sentences"]["vectors"]
    reuse = reuse_from(base, modified_ids, mode) if base else None
    files = plan.added + plan.modified
    embedded, skipped = _prepare_and_embed(files, embedder, chunking, mode, reuse, progress, ray, say)
    plan.skipped += skipped
    prepared = [item.prepared for item in embedded.documents]
    if len(plan.unchanged) + len(prepared) == 0:
        raise EmptyCorpusError(
            f"the corpus has no readable documents (supported: {' '.join(SUPPORTED_SUFFIXES)}); "
            + ("the previous index was kept" if base else "nothing was indexed")
            + "".join(f"\n  skipped {s.path}: {s.reason}" for s in plan.skipped)
        )
    writer = store.writer(base, settings["model"]["dimension"])
    try:
        for doc_id in plan.deleted + sorted(modified_ids):
            writer.delete_document(doc_id)
        now = time.time()
        for item in embedded.documents:
            writer.add_document(item.prepared.doc, item.prepared.chunks, item.chunk_vectors, now, item.sentence_rows())
        writer.set_manifest(
            {
                **settings,
                "built_at": now,
                "skipped": {s.path: {"sha256": _sha_of(plan, s.path), "reason": s.reason} for s in plan.skipped},
            }
        )
        published = writer.publish()
    except BaseException as exc:
        writer.abandon()
        write_error = store.write_error(exc)
        if write_error is not None:
            raise write_error from exc
        raise
    store.tidy()
    new = store.open_current()
    try:
        docs = [p.doc for p in prepared]
        return _report(plan, docs, embedded.chunks_embedded, embedded.chunks_reused, new, started, published)
    finally:
        new.close()


def _prepare_and_embed(
    files: list[CorpusFile],
    embedder: Embedder,
    chunking: ChunkSettings,
    mode: SentenceVectors,
    reuse: Reuse | None,
    progress: bool | None,
    ray: str | None,
    say: Any,
) -> tuple[EmbedResult, list[Skipped]]:
    """Read, chunk and embed the files to (re)index, here or on Ray; the files that could not be read, with why."""
    if ray is not None:
        from policyqa.build.ray_ingest import ingest_on_ray

        return ingest_on_ray(files, embedder, chunking, mode, reuse, ray, progress=bool(progress), say=say)
    chunker = Chunker(embedder.token_counter, embedder.window_tokens, chunking)
    prepared: list[PreparedDocument] = []
    skipped: list[Skipped] = []
    for file in files:
        try:
            prepared.append(prepare_document(file, chunker))
        except DocumentError as exc:
            skipped.append(Skipped(file.id, str(exc)))
            say(f"warning: skipped {file.id}: {exc}")

    def show(count: int) -> bool:  # a progress bar for `count` texts to embed?
        return progress if progress is not None else (sys.stderr.isatty() and count >= PROGRESS_MIN_CHUNKS)

    return embed_documents(prepared, embedder, mode, reuse, show), skipped


def _sha_of(plan: SyncPlan, doc_id: str) -> str | None:
    """The sha256 a skip is recorded with, so that an unchanged skipped file is not read again; None for a file the
    scanner could not read (it is tried at every build)."""
    for file in plan.added + plan.modified:
        if file.id == doc_id:
            return file.sha256
    return plan.skipped_sha.get(doc_id)


def _report(
    plan: SyncPlan,
    docs: list[Document],
    embedded: int,
    reused: int,
    generation: IndexReader,
    started: float,
    published: str | None,
) -> BuildReport:
    read_ids = {d.id for d in docs}
    added = [f.id for f in plan.added if f.id in read_ids]
    modified = [f.id for f in plan.modified if f.id in read_ids]
    return BuildReport(
        added=len(added),
        modified=len(modified),
        deleted=len(plan.deleted),
        unchanged=len(plan.unchanged),
        skipped=len(plan.skipped),
        chunks_embedded=embedded,
        chunks_reused=max(reused, 0),
        chunks_total=len(generation),
        documents_total=len(generation.documents()),
        seconds=time.perf_counter() - started,
        full_rebuild_reason=plan.full_rebuild_reason,
        generation=published,
        added_files=added,
        modified_files=modified,
        deleted_files=list(plan.deleted),
        skipped_files=list(plan.skipped),
        reading_notes={d.id: list(d.notes) for d in docs if d.notes},
    )
