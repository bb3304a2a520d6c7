"""The doctor's checks against what lies outside the index: edits made consistently inside it (text changed in a
document and its chunks, vectors shuffled with their checksum updated) pass every internal check.

- Text: a sample of documents whose source file still has the sha256 they were indexed with is read again; the
  stored text must be what reading gives (chunk offsets are checked against the stored text by the store).
- Vectors: a sample of chunks is embedded again with the index's model; each stored vector must point the same way.
Both are samples (reading a PDF or running the model costs time); they are drawn anew from the version's name, so
each published version is checked on its own draw.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import numpy as np

from policyqa.index.problems import MAX_EXAMPLES, REBUILD, Problem

if TYPE_CHECKING:
    from policyqa.index.store import IndexReader
    from policyqa.ingest.documents import CorpusFile
    from policyqa.settings import Settings

SAMPLE_DOCUMENTS = 8
SAMPLE_CHUNKS = 8
MIN_COSINE = 0.98  # the same text embedded again (bf16 or f32, batch or not) stays above 0.995


def text_problems(reader: IndexReader, files: list[CorpusFile]) -> list[Problem]:
    """Stored texts that are not what reading their unchanged source file gives."""
    from policyqa.build.sync import READING
    from policyqa.errors import DocumentError
    from policyqa.ingest.documents import read_document

    if reader.manifest.get("reading") != READING:
        return []  # read another way: the staleness note asks for a full rebuild
    indexed = {d.doc_id: d.sha256 for d in reader.documents()}
    same = sorted((f for f in files if indexed.get(f.id) == f.sha256), key=lambda f: f.id)
    sample = random.Random(reader.name).sample(same, min(SAMPLE_DOCUMENTS, len(same)))
    edited = []
    for file in sample:
        try:
            text = read_document(file).text
        except DocumentError:
            continue  # indexed once, unreadable now (a reader changed): not the index's damage
        if reader.document_text(file.id) != text:
            edited.append(file.id)
    if not edited:
        return []
    return [
        Problem(
            f"the stored text of {len(edited)} document(s) is not what their unchanged source file reads as "
            f"({', '.join(edited[:MAX_EXAMPLES])}): the index was edited",
            REBUILD,
        )
    ]


def vector_problems(reader: IndexReader, settings: Settings) -> list[Problem]:
    """Stored chunk vectors that are not their chunk's text embedded again with the model `settings` configure (an
    info note when the model cannot run)."""

    ids = sorted(int(i) for i in reader.chunk_ids_for([d.doc_id for d in reader.documents()]))
    sample = sorted(random.Random(reader.name).sample(ids, min(SAMPLE_CHUNKS, len(ids))))
    if not sample:
        return []
    records = reader.chunk_records(sample)
    try:
        fresh = settings.embedder(reader.manifest, queries_only=True).encode([records[i].text for i in sample])
    except Exception as exc:  # noqa: BLE001 - no model, no backend: the other checks still hold
        what = f"chunk vectors not checked against the model ({exc})"
        return [Problem(what, "install the model or point --model to it", "info")]
    stored = reader.chunk_vectors(sample)
    cosines = np.einsum("ij,ij->i", stored.astype(np.float64), np.asarray(fresh, dtype=np.float64))
    wrong = [i for i, c in zip(sample, cosines, strict=True) if not c >= MIN_COSINE]
    if not wrong:
        return []
    return [
        Problem(
            f"{len(wrong)} of {len(sample)} sampled chunk vector(s) are not their chunk's text embedded again "
            f"(chunk ids {', '.join(map(str, wrong[:MAX_EXAMPLES]))}): the vectors were changed or shuffled",
            REBUILD,
        )
    ]
