"""Integrity checks of a FAISS+SQLite index folder (the doctor's store-specific part, also run on a build's base).

CURRENT names a generation; its files are there and open; their sha256 match the checksums recorded at publish;
SQLite passes its own quick check; every vector is finite with unit norm; FAISS holds exactly the SQLite chunk
ids; the BM25 row ids are the SQLite ids in id order; every chunk's offsets reproduce its text; every chunk has
its sentence vectors. Leftovers of interrupted builds are harmless notes ("info").
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from policyqa.index.faiss_sqlite.files import CHECKSUMS, CURRENT, DATABASE, VECTORS, file_sha256, generation_files
from policyqa.index.faiss_sqlite.sparse import BM25_DIR, ROW_IDS
from policyqa.index.problems import MAX_EXAMPLES, REBUILD, Problem, differences, examples

if TYPE_CHECKING:  # a generation runs these checks on itself; no import back at run time
    from policyqa.index.faiss_sqlite.generation import Generation

NORM_TOLERANCE = 1e-3  # stored vectors are L2-normalised float32 (bf16 inference is normalised after, in f32)


def generation_problems(generation: Generation) -> list[Problem]:
    """Damage inside one opened generation: SQLite pages, FAISS vs SQLite ids, BM25 ids, chunk offsets."""
    try:
        return _generation_problems(generation)
    except (sqlite3.DatabaseError, RuntimeError, ValueError, OSError) as exc:
        return [Problem(f"generation {generation.path.name} cannot be read ({type(exc).__name__}: {exc})", REBUILD)]


def _generation_problems(generation: Generation) -> list[Problem]:
    name = generation.path.name
    db = generation.db
    try:
        verdict = [row[0] for row in db.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as exc:  # damaged badly enough that the check itself cannot run
        verdict = [str(exc)]
    if verdict != ["ok"]:
        return [Problem(f"{name}/{DATABASE} is corrupt (SQLite: {'; '.join(verdict)[:300]})", REBUILD)]
    problems = checksum_problems(generation)
    sqlite_ids = np.array([row[0] for row in db.execute("SELECT id FROM chunks ORDER BY id")], dtype=np.int64)
    problems += _faiss_problems(generation, sqlite_ids)
    if not any(p.is_error for p in problems):
        problems += vector_problems(generation)
    bm25_ids = generation.sparse.chunk_ids  # loaded from bm25/chunk_ids.npy when the generation was opened
    scores = getattr(generation.sparse.retriever, "scores", None)
    bm25_rows = scores.get("num_docs") if isinstance(scores, dict) else None
    if bm25_rows is not None and bm25_rows != len(bm25_ids):
        problems.append(Problem(f"the BM25 scores cover {bm25_rows} rows but list {len(bm25_ids)} chunk ids", REBUILD))
    if not np.array_equal(bm25_ids, sqlite_ids):
        problems.append(
            Problem(
                f"{name}/{BM25_DIR}/{ROW_IDS} lists {len(bm25_ids)} chunk id(s) that are not the {len(sqlite_ids)} "
                f"SQLite chunk ids in id order{differences(set(bm25_ids.tolist()), set(sqlite_ids.tolist()))}",
                REBUILD,
            )
        )
    orphans = [r[0] for r in db.execute("SELECT id FROM chunks WHERE doc_id NOT IN (SELECT doc_id FROM documents)")]
    if orphans:
        problems.append(Problem(f"{len(orphans)} chunk(s) belong to no document (ids {examples(orphans)})", REBUILD))
    bad = list(_chunks_not_matching_their_document(db))
    if bad:
        problems.append(
            Problem(
                f"{len(bad)} chunk(s) whose offsets do not reproduce their text from the document "
                f"({'; '.join(bad[:MAX_EXAMPLES])})",
                REBUILD,
            )
        )
    return problems + _sentence_problems(db, generation.manifest.get("model", {}).get("dimension"))


def _sentence_problems(db: sqlite3.Connection, dimension: int | None) -> list[Problem]:
    """The sentence vectors `ask` reads: one set per chunk, none orphaned, each a finite unit vector."""
    problems: list[Problem] = []
    bare = [r[0] for r in db.execute("SELECT id FROM chunks WHERE id NOT IN (SELECT chunk_id FROM sentences)")]
    if bare:
        problems.append(Problem(f"{len(bare)} chunk(s) have no sentence vectors (ids {examples(bare)})", REBUILD))
    orphans = [
        r[0]
        for r in db.execute("SELECT DISTINCT chunk_id FROM sentences WHERE chunk_id NOT IN (SELECT id FROM chunks)")
    ]
    if orphans:
        problems.append(
            Problem(f"sentence vectors of {len(orphans)} missing chunk(s) (ids {examples(orphans)})", REBUILD)
        )
    bad: list[int] = []
    # Lengths measured in Python: SQLite's length() stops at the first NUL of a TEXT value (a NUL in a document
    # made every later sentence look damaged), and it counts what Python counts only for NUL-free text.
    lengths = {doc_id: len(text) for doc_id, text in db.execute("SELECT doc_id, text FROM documents")}
    rows = db.execute(
        'SELECT s.chunk_id, s.start, s."end", s.vector, c.start, c."end", c.doc_id FROM sentences s '
        "JOIN chunks c ON c.id = s.chunk_id"
    )
    for chunk_id, start, end, blob, chunk_start, chunk_end, doc_id in rows:
        length = lengths.get(doc_id, -1)
        vector = np.frombuffer(blob, dtype="<f4") if len(blob) % 4 == 0 else np.zeros(0, np.float32)
        shape_ok = len(vector) == dimension if dimension else len(vector) > 0
        unit = shape_ok and bool(np.isfinite(vector).all()) and abs(float(vector @ vector) - 1.0) < 1e-3
        if not (unit and 0 <= start < end <= length and end > chunk_start and start < chunk_end):
            bad.append(chunk_id)
    if bad:
        problems.append(
            Problem(
                f"{len(bad)} sentence vector(s) damaged (wrong size, not finite or not unit length, or a span "
                f"outside its chunk; chunk ids {examples(sorted(set(bad)))})",
                REBUILD,
            )
        )
    return problems


def checksum_problems(generation: Generation) -> list[Problem]:
    """Files whose sha256 is not the one recorded at publish (flipped bytes anywhere: vectors, BM25 arrays)."""
    name = generation.path.name
    recorded = generation.manifest.get(CHECKSUMS)
    if not isinstance(recorded, dict):
        what = f"generation {name} was built before file checksums were recorded; damage inside its files goes unseen"
        return [Problem(what, REBUILD, "info")]
    damaged, missing = [], []
    for file, expected in sorted(recorded.items()):
        try:
            if file_sha256(generation.path / file) != expected:
                damaged.append(file)
        except OSError:
            missing.append(file)
    extra = sorted(set(generation_files(generation.path)) - set(recorded))
    problems = []
    if damaged:
        problems.append(Problem(f"{name}: {', '.join(damaged)} changed since publish (sha256 differs)", REBUILD))
    if missing:
        problems.append(Problem(f"{name}: {', '.join(missing)} missing or unreadable", REBUILD))
    if extra:
        problems.append(Problem(f"{name}: unexpected file(s) {', '.join(extra)} not written by the build", REBUILD))
    return problems


def vector_problems(generation: Generation) -> list[Problem]:
    """Vectors that are not finite or not of unit norm (the model's are normalised): cheap, block by block."""
    from policyqa.index.faiss_sqlite.vector_index import vector_blocks

    bad_ids: list[int] = []
    for ids, block in vector_blocks(generation.vectors):
        norms = np.linalg.norm(block.astype(np.float64), axis=1)
        wrong = ~np.isfinite(block).all(axis=1) | ~(np.abs(norms - 1.0) <= NORM_TOLERANCE)
        bad_ids += ids[wrong].tolist()
    if not bad_ids:
        return []
    what = f"{len(bad_ids)} vector(s) in {generation.path.name}/{VECTORS} are not finite unit vectors"
    return [Problem(f"{what} (chunk ids {examples(sorted(bad_ids))})", REBUILD)]


def faiss_ids(vectors: Any) -> np.ndarray | None:
    """The chunk ids a FAISS index holds (IndexIDMap2 or IVF with its own ids), without reading the vectors."""
    import faiss

    if hasattr(vectors, "id_map"):
        return faiss.vector_to_array(vectors.id_map).astype(np.int64)
    ivf = faiss.try_extract_index_ivf(vectors)
    if ivf is None:
        return None
    lists = ivf.invlists
    if lists is None:
        return None
    parts = [
        faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy() for i in range(ivf.nlist) if lists.list_size(i)
    ]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def _faiss_problems(generation: Generation, sqlite_ids: np.ndarray) -> list[Problem]:
    name = generation.path.name
    vectors = generation.vectors
    found = faiss_ids(vectors)
    if found is None:
        return [Problem(f"{name}/{VECTORS} is a {type(vectors).__name__}, which does not map chunk ids", REBUILD)]
    problems: list[Problem] = []
    dimension = generation.manifest.get("model", {}).get("dimension")
    if dimension is not None and vectors.d != dimension:
        problems.append(
            Problem(f"{name}/{VECTORS} holds {vectors.d}-d vectors but the manifest says {dimension}-d", REBUILD)
        )
    if vectors.ntotal != len(sqlite_ids):
        problems.append(
            Problem(f"FAISS holds {vectors.ntotal} vector(s) but SQLite has {len(sqlite_ids)} chunk(s)", REBUILD)
        )
    faiss_set, sqlite_set = set(found.tolist()), set(sqlite_ids.tolist())
    if len(faiss_set) != len(found):
        problems.append(Problem(f"FAISS holds {len(found) - len(faiss_set)} duplicate chunk id(s)", REBUILD))
    if faiss_set != sqlite_set:
        problems.append(
            Problem(f"the FAISS ids are not the SQLite chunk ids{differences(faiss_set, sqlite_set)}", REBUILD)
        )
    return problems


def _chunks_not_matching_their_document(db: sqlite3.Connection) -> Iterator[str]:
    """One description per chunk whose stored text is not document.text[start:end] (one document in memory)."""
    for doc_id, text in db.execute("SELECT doc_id, text FROM documents ORDER BY doc_id").fetchall():
        rows = db.execute('SELECT id, start, "end", text FROM chunks WHERE doc_id = ? ORDER BY id', [doc_id])
        for chunk_id, start, end, chunk_text in rows:
            if not (0 <= start < end <= len(text)):
                yield f"chunk {chunk_id} of {doc_id}: offsets {start}-{end} outside the text (length {len(text)})"
            elif text[start:end] != chunk_text:
                yield f"chunk {chunk_id} of {doc_id}: text[{start}:{end}] differs from the stored chunk text"


def leftover_problems(index_dir: Path) -> list[Problem]:
    """Unfinished generations and pointer files that interrupted builds left behind: harmless, removed by a build."""
    leftovers = sorted(p.name for p in index_dir.glob("gen-*.tmp"))
    if (index_dir / f"{CURRENT}.tmp").exists():
        leftovers.append(f"{CURRENT}.tmp")
    if not leftovers:
        return []
    return [
        Problem(
            f"an interrupted build left {', '.join(leftovers)} in '{index_dir}' (harmless: never read)",
            "run `policyqa build`, which removes them",
            "info",
        )
    ]
