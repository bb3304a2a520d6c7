"""Which FAISS index a generation keeps its vectors in: exact flat search for small corpora, IVF above a threshold.

Every index maps chunk ids to vectors and supports what the writer and the searchers need:
`add_with_ids`, `remove_ids`, `reconstruct(chunk_id)` and `search`.

* Below `ANN_THRESHOLD` vectors: `IndexIDMap2(IndexFlatIP)`, exact (every existing index is of this kind).
* From `ANN_THRESHOLD` on: `IndexIVFFlat` (inner product) holding the chunk ids itself, with a hash-table direct
  map so that `reconstruct(chunk_id)` and `remove_ids` work. It is deliberately *not* wrapped in `IndexIDMap2`:
  `IndexIDMap2.remove_ids` assumes the inner index renumbers its remaining vectors the way a flat index does;
  an IVF does not, so after a removal `IndexIDMap2(IVF)` silently returns wrong ids (checked with faiss 1.15.1,
  see tests/test_vector_index.py). HNSW was not chosen because it cannot remove vectors at all: every edit
  or deletion would mean rebuilding the graph, minutes at a million vectors on this machine.

The IVF stores the exact vectors (no quantisation), so reconstructed vectors are bit-identical to the embedded
ones. Its `nprobe` is calibrated on the corpus' own vectors when it is trained: stored vectors serve as queries
(each query's own id excluded), their recall@10 against exact search must reach `CALIBRATION_RECALL` (0.97, so
that fresh queries get at least `TARGET_RECALL`, 0.95). Threshold, nlist rule
and the recall they give at 10k / 100k / 1M vectors: benchmarks/perf_scale.py and BENCHMARKS.md.

A search restricted to some chunk ids (a document filter) must use `search(...)` below: an IVF rejects the generic
`faiss.SearchParameters`, and a filtered IVF probe would starve (the allowed chunks may sit in unprobed lists);
`search` scans every list with the id selector instead, which is exact.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

# Vectors from which the index is IVF: the first measured size at which exact search costs more than encoding the
# query and the IVF is over twice as fast at recall >= 0.95 (benchmarks/perf_scale.py, BENCHMARKS.md: at 100k,
# flat 16.6 ms vs IVF 4.0 ms at recall 0.978, one-query encode 10.0 ms; at 30k flat was 0.63x the encode).
ANN_THRESHOLD = 100_000
FLAT_BELOW_FRACTION = 0.5  # an IVF index goes back to flat only below half the threshold (no flapping)
RETRAIN_FACTOR = 2.0  # retrain the IVF when the corpus has grown or shrunk by this factor since training
TARGET_RECALL = 0.95  # recall@10 against exact search that real queries must get
# Calibration queries are stored vectors, which are a little easier than real queries: on the synthetic data of
# benchmarks/perf_scale.py their recall ran up to 0.021 above that of fresh queries, hence the margin.
CALIBRATION_RECALL = 0.97
CALIBRATION_QUERIES = 256
TRAIN_POINTS_PER_LIST = 32
RECALL_K = 10


def _faiss() -> Any:
    import faiss

    return faiss


def ivf_nlist(count: int) -> int:
    """Inverted lists for `count` vectors: about 2·sqrt(count), rounded to a power of two (512 at 100k, 2048 at 1M)."""
    nlist = 2 ** round(math.log2(2 * math.sqrt(max(count, 1))))
    return int(max(1, min(nlist, count // TRAIN_POINTS_PER_LIST)))  # tiny (test) corpora: enough points per list


def make_vector_index(dimension: int, expected_count: int, threshold: int | None = None) -> Any:
    """An empty index for about `expected_count` vectors: exact flat below `threshold`, an (untrained) IVF above.

    The IVF needs `train` before `add_with_ids`; `build_vector_index` does both and calibrates nprobe.
    """
    faiss = _faiss()
    threshold = ANN_THRESHOLD if threshold is None else threshold
    if expected_count < threshold:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    nlist = ivf_nlist(expected_count)
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
    index.own_fields = True
    quantizer.this.disown()  # the IVF owns (and frees) its quantizer from now on
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    index.cp.min_points_per_centroid = 8  # we sample TRAIN_POINTS_PER_LIST per list: no "too few points" warning
    index.nprobe = max(1, nlist // 16)  # replaced by calibration once trained
    return index


def describe(index: Any) -> dict[str, Any]:
    """What the manifest records about the vector index: {"type": "flat"} or {"type": "ivf", "nlist", "nprobe"}."""
    faiss = _faiss()
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else index
    if isinstance(inner, faiss.IndexFlat):
        return {"type": "flat", "metric": "inner_product", "vectors": int(index.ntotal)}
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        return {
            "type": "ivf",
            "metric": "inner_product",
            "nlist": int(ivf.nlist),
            "nprobe": int(ivf.nprobe),
            "vectors": int(index.ntotal),
        }
    return {"type": type(index).__name__, "vectors": int(index.ntotal)}


def is_exact(index: Any) -> bool:
    return describe(index)["type"] == "flat"


def all_vectors(index: Any) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of every entry, in the index's internal order."""
    faiss = _faiss()
    d = index.d
    if isinstance(index, faiss.IndexIDMap2):
        ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        vectors = index.index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, d), np.float32)
        return ids, np.ascontiguousarray(vectors, dtype=np.float32)
    ivf = faiss.extract_index_ivf(index)
    invlists = ivf.invlists
    id_parts, vector_parts = [], []
    for list_no in range(ivf.nlist):
        size = invlists.list_size(list_no)
        if not size:
            continue
        id_parts.append(faiss.rev_swig_ptr(invlists.get_ids(list_no), size).copy())
        codes = faiss.rev_swig_ptr(invlists.get_codes(list_no), size * invlists.code_size).copy()
        vector_parts.append(codes.view(np.float32).reshape(size, d))
    if not id_parts:
        return np.zeros(0, np.int64), np.zeros((0, d), np.float32)
    return np.concatenate(id_parts).astype(np.int64), np.concatenate(vector_parts)


def vector_blocks(index: Any, block: int = 65_536) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, vectors) of every entry in blocks, so that a check over all vectors keeps memory small (flat index);
    an IVF yields one block per inverted list."""
    faiss = _faiss()
    if isinstance(index, faiss.IndexIDMap2):
        ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        for start in range(0, int(index.ntotal), block):
            count = min(block, int(index.ntotal) - start)
            yield ids[start : start + count], index.index.reconstruct_n(start, count)
        return
    ivf = faiss.extract_index_ivf(index)
    lists = ivf.invlists
    for list_no in range(ivf.nlist):
        size = lists.list_size(list_no)
        if size:
            ids = faiss.rev_swig_ptr(lists.get_ids(list_no), size).copy().astype(np.int64)
            codes = faiss.rev_swig_ptr(lists.get_codes(list_no), size * lists.code_size).copy()
            yield ids, codes.view(np.float32).reshape(size, index.d)


@dataclass(frozen=True)
class Calibration:
    nprobe: int
    recall: float  # recall@10 against exact search on stored vectors used as queries
    queries: int


def exact_top(queries: np.ndarray, vectors: np.ndarray, ids: np.ndarray, k: int, block: int = 65_536) -> np.ndarray:
    """Ids of the exact top-k inner products (numpy, in blocks so that memory stays small)."""
    k = min(k, len(ids))
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, len(ids), block):
        scores = queries @ vectors[start : start + block].T
        block_ids = np.broadcast_to(ids[start : start + block], scores.shape)
        scores = np.concatenate([best_scores, scores], axis=1)
        cand = np.concatenate([best_ids, block_ids], axis=1)
        top = np.argpartition(-scores, min(k, scores.shape[1]) - 1, axis=1)[:, :k]
        best_scores = np.take_along_axis(scores, top, axis=1)
        best_ids = np.take_along_axis(cand, top, axis=1)
    order = np.argsort(-best_scores, axis=1, kind="stable")
    return np.take_along_axis(best_ids, order, axis=1)


def recall_at(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean fraction of each row of `exact` that appears in the same row of `found`."""
    if not len(exact):
        return 1.0
    hits = [
        len(set(f[f >= 0].tolist()) & set(e[e >= 0].tolist())) / max(int((e >= 0).sum()), 1)
        for f, e in zip(found, exact, strict=True)
    ]
    return float(np.mean(hits))


def calibrate_nprobe(
    index: Any,
    ids: np.ndarray,
    vectors: np.ndarray,
    target: float = CALIBRATION_RECALL,
    queries: int = CALIBRATION_QUERIES,
    k: int = RECALL_K,
    seed: int = 0,
) -> Calibration:
    """Smallest power-of-two nprobe whose recall@k on stored vectors (own id excluded) reaches `target`; sets it."""
    faiss = _faiss()
    ivf = faiss.extract_index_ivf(index)
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(ids), size=min(queries, len(ids)), replace=False)
    q = np.ascontiguousarray(vectors[picked])
    exact = _drop_self(exact_top(q, vectors, ids, k + 1), ids[picked], k)
    nprobe, recall = 1, 0.0
    while True:
        _, found = index.search(q, k + 1, params=faiss.SearchParametersIVF(nprobe=nprobe))
        recall = recall_at(_drop_self(found, ids[picked], k), exact)
        if recall >= target or nprobe >= ivf.nlist:
            break
        nprobe = min(nprobe * 2, ivf.nlist)
    ivf.nprobe = nprobe
    return Calibration(nprobe, round(recall, 4), len(picked))


def _drop_self(found: np.ndarray, own: np.ndarray, k: int) -> np.ndarray:
    rows = [row[row != own_id][:k] for row, own_id in zip(found, own, strict=True)]
    return np.array([np.pad(r, (0, k - len(r)), constant_values=-1) for r in rows], dtype=np.int64)


def build_vector_index(
    ids: np.ndarray, vectors: np.ndarray, dimension: int, threshold: int | None = None, seed: int = 0
) -> tuple[Any, dict[str, Any]]:
    """A new index of the type chosen for len(ids) vectors, filled; the IVF trained and its nprobe calibrated.

    Returns the index and what the manifest should record beyond `describe` (training size, measured recall).
    """
    faiss = _faiss()
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), dimension)
    index = make_vector_index(dimension, len(ids), threshold)
    if isinstance(index, faiss.IndexIDMap2):
        if len(ids):
            index.add_with_ids(vectors, ids)
        return index, {}
    nlist = faiss.extract_index_ivf(index).nlist
    rng = np.random.default_rng(seed)
    sample = rng.choice(len(ids), size=min(len(ids), TRAIN_POINTS_PER_LIST * nlist), replace=False)
    index.train(np.ascontiguousarray(vectors[np.sort(sample)]))
    index.add_with_ids(vectors, ids)
    calibration = calibrate_nprobe(index, ids, vectors, seed=seed)
    return index, {
        "trained_on": len(ids),
        "calibrated_recall_at_10": calibration.recall,
        "calibration_queries": calibration.queries,
    }


def fit_vector_index(
    index: Any, previous: dict[str, Any] | None, threshold: int | None = None
) -> tuple[Any, dict[str, Any]]:
    """The index a generation should publish, given the one the writer filled and the base manifest's record.

    Unchanged when its type still suits its size; otherwise rebuilt from its own vectors (no re-embedding):
    flat → IVF when the size reaches the threshold, IVF → flat below half of it, IVF retrained when the size
    moved by RETRAIN_FACTOR since training. Returns (index, manifest record).
    """
    threshold = ANN_THRESHOLD if threshold is None else threshold
    count = int(index.ntotal)
    previous = previous or {}
    if is_exact(index):
        if count < threshold:
            return index, describe(index)
        want_ann = True
    else:
        want_ann = count >= threshold * FLAT_BELOW_FRACTION
        trained_on = int(previous.get("trained_on") or 0) if previous.get("type") == "ivf" else 0
        drifted = not trained_on or not trained_on / RETRAIN_FACTOR <= count <= trained_on * RETRAIN_FACTOR
        if want_ann and not drifted:
            carried = {key: previous[key] for key in _TRAINING_KEYS if key in previous}
            return index, {**describe(index), **carried}
    ids, vectors = all_vectors(index)
    new, info = build_vector_index(ids, vectors, index.d, threshold=0 if want_ann else count + 1)
    return new, {**describe(new), **info}


_TRAINING_KEYS = ("trained_on", "calibrated_recall_at_10", "calibration_queries")
FEW_QUERIES = 4  # searches of at most this many queries run single-threaded


def search(index: Any, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) of the top-k per query; `allowed` restricts to those chunk ids (exact for every index type)."""
    faiss = _faiss()
    queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, index.d)
    if len(queries) > FEW_QUERIES:
        return _search(faiss, index, queries, k, allowed)
    # A user's query in one thread: FAISS's OpenMP team would only add wake-up latency (p95 12 ms for 9 vectors on a
    # busy 2-core machine, 0.004 ms in one thread) and oversubscribe the cores when a server answers several users
    # at once. The OpenMP thread count is per thread (libgomp), so builds and other threads keep theirs.
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return _search(faiss, index, queries, k, allowed)
    finally:
        faiss.omp_set_num_threads(before)


def _search(faiss: Any, index: Any, queries: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[Any, Any]:
    if allowed is None:
        return index.search(queries, k)
    selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is None:
        return index.search(queries, k, params=faiss.SearchParameters(sel=selector))
    return index.search(queries, k, params=faiss.SearchParametersIVF(sel=selector, nprobe=ivf.nlist))
