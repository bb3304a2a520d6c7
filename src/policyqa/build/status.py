"""What is indexed and whether it is stale against the corpus — without loading the model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policyqa.build.sync import build_settings, plan_sync
from policyqa.embed.embedder import Embedder, backend_of, precision_of
from policyqa.errors import IndexNotFoundError
from policyqa.index.store import Store, open_store
from policyqa.ingest.chunking import ChunkSettings
from policyqa.ingest.documents import scan_corpus


def index_status(
    corpus_dir: str | Path = "corpus",
    index_dir: str | Path | Store = "index",
    *,
    model: str | Path | None = None,
    chunking: ChunkSettings | None = None,
    second_stage: str | None = None,
) -> dict[str, Any]:
    """`second_stage`: what re-scores results by default, as the caller (the CLI) says it; shown as it is."""
    try:
        generation = open_store(index_dir).open_current()
    except IndexNotFoundError:
        return {"indexed": False, "stale": {"is_stale": True}}
    try:
        settings = build_settings(
            Embedder.for_index(generation.manifest, model, queries_only=True),
            chunking or ChunkSettings(),
        )
        files, scan_skips = scan_corpus(Path(corpus_dir)) if Path(corpus_dir).is_dir() else ([], [])
        plan = plan_sync(files, generation, settings, scan_skips)
        documents = generation.documents()
        return {
            "indexed": True,
            "generation": generation.name,
            "model": generation.manifest.get("model", {}).get("name"),
            "backend": backend_of(generation.manifest),
            "precision": precision_of(generation.manifest),
            "built_at": generation.manifest.get("built_at"),
            "chunks": len(generation),
            "second_stage": second_stage,
            "documents": [d.__dict__ for d in documents],
            "stale": {
                "is_stale": plan.is_stale,
                "added": [f.id for f in plan.added],
                "modified": [f.id for f in plan.modified],
                "deleted": plan.deleted,
                "full_rebuild_reason": plan.full_rebuild_reason,
                "skipped": [{"path": s.path, "reason": s.reason} for s in plan.skipped],
            },
        }
    finally:
        generation.close()
