"""`policyqa status --check`: is an index whole and consistent, and built with the configured model?

The store checks itself (for FAISS+SQLite: checksums, SQLite pages, vector and row ids, BM25 rows, chunk offsets,
sentence vectors; index/faiss_sqlite/checks.py); the doctor adds what holds for every store: the manifest's model
is the configured one, a sample of chunk vectors is what the model makes of their text and, with the corpus, a
sample of stored texts is what their unchanged source files read as (build/content_checks.py: edits made
consistently inside the index pass every internal check), and (as an "info" note) whether the index is stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyqa.build.content_checks import text_problems, vector_problems
from policyqa.errors import PolicyQAError
from policyqa.index.problems import UPDATE, Problem
from policyqa.index.store import IndexReader, Store, open_store
from policyqa.settings import Settings

if TYPE_CHECKING:
    from policyqa.ingest.chunking import ChunkSettings
    from policyqa.ingest.documents import CorpusFile, Skipped

__all__ = ["Problem", "check_index"]


def check_index(
    index_dir: str | Path | Store,
    corpus_dir: str | Path | None = None,
    *,
    model: str | Path | None = None,
    chunking: ChunkSettings | None = None,
    settings: Settings | None = None,
) -> list[Problem]:
    """Every problem found in the index (a folder or any store location; errors first); an empty list means the
    index is OK. With `corpus_dir`, also notes (as info) whether the index is stale against that corpus.
    `settings` (None: `Settings()`): the configured model, backend and precision, and a Milvus server's login;
    `model` and `chunking` win over it."""
    chosen = (settings or Settings()).with_arguments(model=model, chunking=chunking)
    reader, problems = open_store(index_dir, chosen.milvus).inspect()
    if reader is None:
        return problems
    try:
        errors, notes = [p for p in problems if p.is_error], [p for p in problems if not p.is_error]
        errors += model_problems(reader, chosen)
        if not errors:
            found = vector_problems(reader, chosen)
            errors, notes = errors + [p for p in found if p.is_error], notes + [p for p in found if not p.is_error]
        if corpus_dir is not None and not errors:
            scanned = scan(Path(corpus_dir))
            if scanned is not None:
                errors += text_problems(reader, scanned[0])
            if not errors:
                notes += staleness_notes(reader, Path(corpus_dir), chosen, scanned)
    finally:
        reader.close()
    return errors + notes


def model_problems(reader: IndexReader, settings: Settings) -> list[Problem]:
    """The manifest's model identity against the configured model (read from its files, never loaded)."""
    from policyqa.embed.embedder import same_model

    try:
        configured = settings.embedder(reader.manifest, queries_only=True).identity
    except PolicyQAError as exc:
        return [Problem(f"the configured model cannot be used: {exc}", "point --model or $POLICYQA_MODEL to a model")]
    built_with = reader.manifest.get("model")
    if same_model(built_with, configured):
        return []
    built_name = built_with.get("name") if isinstance(built_with, dict) else built_with
    return [
        Problem(
            f"the index was built with model {json.dumps(built_name)} ({_describe(built_with)}) but the configured "
            f"model is {json.dumps(configured['name'])} ({_describe(configured)}); searches would fail",
            "run `policyqa build` (a model change forces a full rebuild), or configure the model it was built with",
        )
    ]


def scan(corpus_dir: Path) -> tuple[list[CorpusFile], list[Skipped]] | None:
    """The corpus' files (None when the folder does not exist)."""
    from policyqa.ingest.documents import scan_corpus

    return scan_corpus(corpus_dir) if corpus_dir.is_dir() else None


def staleness_notes(
    reader: IndexReader,
    corpus_dir: Path,
    settings: Settings,
    scanned: tuple[list[CorpusFile], list[Skipped]] | None = None,
) -> list[Problem]:
    from policyqa.build.sync import build_settings, plan_sync

    scanned = scanned or scan(corpus_dir)
    if scanned is None:
        return [Problem(f"corpus folder '{corpus_dir}' does not exist; staleness not checked", UPDATE, "info")]
    files, scan_skips = scanned
    plan = plan_sync(
        files,
        reader,
        build_settings(settings.embedder(reader.manifest, queries_only=True), settings.chunking),
        scan_skips,
    )
    if not plan.is_stale:
        return []
    parts = [
        f"{len(items)} {label}"
        for label, items in (("added", plan.added), ("modified", plan.modified), ("deleted", plan.deleted))
        if items
    ]
    if plan.full_rebuild_reason:
        parts.append(f"full rebuild needed: {plan.full_rebuild_reason}")
    return [Problem(f"the index is stale against '{corpus_dir}' ({', '.join(parts)})", UPDATE, "info")]


def _describe(identity: Any) -> str:
    if not isinstance(identity, dict):
        return "unknown identity"
    return f"{identity.get('dimension')}-d, {identity.get('source')}"
