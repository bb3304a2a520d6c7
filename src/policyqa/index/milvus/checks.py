"""Integrity checks of a Milvus index version (the doctor's store-specific part, also run on a build's base).

Chunk count matches the manifest and the documents' counts; sentence rows cover exactly the chunk ids; every
chunk belongs to a document; offsets reproduce the chunk text on a sample; chunk and sentence vectors are finite
unit vectors on a sample. Collections of unpublished or old versions are harmless notes ("info").
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import numpy as np

from policyqa.index.milvus import schema
from policyqa.index.milvus.client import collection_names
from policyqa.index.problems import MAX_EXAMPLES, REBUILD, UPDATE, Problem, differences, examples
from policyqa.index.records import FORMAT_VERSION

if TYPE_CHECKING:  # the reader runs these checks; no import back at run time
    from policyqa.index.milvus.reader import MilvusReader

SAMPLE = 200
NORM_TOLERANCE = 1e-3


def version_problems(reader: MilvusReader) -> list[Problem]:
    try:
        return _problems(reader)
    except Exception as exc:  # noqa: BLE001 - the doctor reports whatever is wrong rather than crash on it
        return [Problem(f"version {reader.name} cannot be read ({type(exc).__name__}: {exc})", REBUILD)]


def _problems(reader: MilvusReader) -> list[Problem]:
    name, problems = reader.name, []
    if reader.manifest.get("format_version") != FORMAT_VERSION:
        problems.append(Problem(f"version {name} has format {reader.manifest.get('format_version')}", REBUILD))
    chunk_rows = reader._all("chunks", "", ["id", "doc_id"])
    chunk_ids = {int(r["id"]) for r in chunk_rows}
    documents = reader.documents()
    if len(chunk_ids) != len(reader) or len(chunk_ids) != sum(d.chunks for d in documents):
        problems.append(
            Problem(
                f"version {name} holds {len(chunk_ids)} chunk(s) but its manifest says {len(reader)} and its "
                f"documents {sum(d.chunks for d in documents)}",
                REBUILD,
            )
        )
    known = {d.doc_id for d in documents}
    orphans = sorted(int(r["id"]) for r in chunk_rows if r["doc_id"] not in known)
    if orphans:
        problems.append(Problem(f"{len(orphans)} chunk(s) belong to no document (ids {examples(orphans)})", REBUILD))
    sentence_ids = {int(r["chunk_id"]) for r in reader._all("sentences", "", ["chunk_id"])}
    if sentence_ids != chunk_ids:
        problems.append(
            Problem(f"sentence vectors do not cover the chunks{differences(sentence_ids, chunk_ids)}", REBUILD)
        )
    sample = random.Random(0).sample(sorted(chunk_ids), min(SAMPLE, len(chunk_ids)))
    records = reader.chunk_records(sample)
    bad = [
        f"chunk {r.id} of {r.doc_id}"
        for r in records.values()
        if r.doc_id in known and reader.document_slice(r.doc_id, r.start, r.end) != r.text
    ]
    if bad:
        problems.append(
            Problem(
                f"{len(bad)} chunk(s) whose offsets do not reproduce their text ({'; '.join(bad[:MAX_EXAMPLES])})",
                REBUILD,
            )
        )
    vectors = reader.chunk_vectors(sample) if sample else np.zeros((0, 1), np.float32)
    sentence_vectors = [s.vector for s in reader.sentences(sample[:20])]
    for what, rows in (("chunk", vectors), ("sentence", np.array(sentence_vectors, dtype=np.float32))):
        if len(rows) and not (
            np.isfinite(rows).all() and np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=NORM_TOLERANCE)
        ):
            problems.append(Problem(f"{what} vectors of version {name} are not finite unit vectors", REBUILD))
    return problems


def leftover_notes(client: object, prefix: str, live: str | None, keep: set[str]) -> list[Problem]:
    found = schema.versions(collection_names(client), prefix)
    extra = sorted(v for v in found if v != live and v not in keep)
    if not extra:
        return []
    return [
        Problem(
            f"{len(extra)} unused version(s) from interrupted or old builds ({', '.join(extra[:MAX_EXAMPLES])})",
            f"harmless; {UPDATE} to remove them",
            severity="info",
        )
    ]
