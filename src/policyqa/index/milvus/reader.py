"""One published Milvus index version, read-only: the `IndexReader` of the Milvus store."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import cached_property
from typing import Any

import numpy as np

from policyqa.index.layout import PAGE_MAPS, ChunkLayouts, LayoutRow, LoadingCache
from policyqa.index.milvus import schema
from policyqa.index.milvus.checks import version_problems
from policyqa.index.problems import Problem
from policyqa.index.records import (
    ChunkRecord,
    DocumentRecord,
    PageMap,
    SentenceRecord,
    StoredDocument,
    layout_fields,
)
from policyqa.ingest.documents import Heading
from policyqa.ingest.terms import tokenize

_CHUNK_FIELDS = ["id", "doc_id", "title", "start", "end", "page", "page_end", "heading", "text"]
BM25_K1 = 1.5  # Milvus' and bm25s' default
PARTS_KEPT = 64  # document text parts kept in memory by a reader (a version never changes)
PAGE = 1000  # rows per query page (a server caps a plain query at 16,384)


QUERY_LIMIT = 16_384  # what a server returns at most from one plain query


def iterate(client: Any, name: str, expr: str, fields: list[str]) -> Iterator[list[dict[str, Any]]]:
    """All rows matching `expr`: one plain query when they fit in it (most calls: one document's rows, a search's
    filter), else pages of an iterator (which costs some 25 ms to set up on milvus-lite)."""
    rows = client.query(name, filter=expr, output_fields=fields, limit=QUERY_LIMIT)
    if len(rows) < QUERY_LIMIT:
        yield list(rows)
        return
    it = client.query_iterator(name, batch_size=PAGE, filter=expr, output_fields=fields)
    try:
        while rows := it.next():
            yield rows
    finally:
        it.close()


def _chunk(row: dict[str, Any]) -> ChunkRecord:
    page, page_end, heading = row["page"], row["page_end"], row["heading"]
    return ChunkRecord(
        int(row["id"]),
        row["doc_id"],
        row["title"],
        int(row["start"]),
        int(row["end"]),
        None if page < 0 else int(page),
        None if page_end < 0 else int(page_end),
        None if heading == "\0" else heading,
        row["text"],
    )


def _info(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """A document's info JSON from its rows (part 0, and later parts when it was too long for one)."""
    return json.loads("".join(p["info"] for p in sorted(parts, key=lambda p: p["part"])))


class MilvusReader:
    def __init__(self, client: Any, version: str, manifest: dict[str, Any]):
        self.client, self.version, self.manifest = client, version, manifest
        # the last PARTS_KEPT document text parts read: a passage's text without a query per result
        self.part_texts: LoadingCache[tuple[str, int], str] = LoadingCache(self._load_part, PARTS_KEPT)

    @property
    def name(self) -> str:
        return self.version

    @property
    def max_chunk_id(self) -> int:
        return int(self.manifest.get("max_chunk_id", 0))

    def collection(self, kind: str) -> str:
        return schema.collection(self.version, kind)

    def __len__(self) -> int:
        return int(self.manifest.get("chunks", 0))

    def _all(self, kind: str, expr: str, fields: list[str]) -> list[dict[str, Any]]:
        return [row for rows in iterate(self.client, self.collection(kind), expr, fields) for row in rows]

    def documents(self) -> list[DocumentRecord]:
        rows = self._all("documents", 'info != ""', ["doc_id", "part", "info"])
        by_doc: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_doc.setdefault(row["doc_id"], []).append(row)
        out = []
        for doc_id, parts in sorted(by_doc.items()):
            info = _info(parts)
            out.append(
                DocumentRecord(
                    doc_id,
                    info["path"],
                    info["title"],
                    info["sha256"],
                    info["size"],
                    info["chunks"],
                    info["indexed_at"],
                    layout_fields(info.get("layout", {}))["notes"],
                )
            )
        return out

    def _parts(self, doc_id: str, first: int | None = None, last: int | None = None) -> list[dict[str, Any]]:
        expr = f"doc_id == {schema.quote(doc_id)}"
        if first is not None:
            expr += f" and part >= {first} and part <= {last}"
        return sorted(self._all("documents", expr, ["part", "text", "info"]), key=lambda r: r["part"])

    def _load_part(self, key: tuple[str, int]) -> str:
        doc_id, part = key
        rows = self._all("documents", f"doc_id == {schema.quote(doc_id)} and part == {part}", ["text"])
        return rows[0]["text"] if rows else ""

    def document(self, doc_id: str) -> StoredDocument | None:
        parts = self._parts(doc_id)
        if not parts:
            return None
        info = _info(parts)
        headings = tuple(Heading(*item) for item in info["headings"])
        text = "".join(p["text"] for p in parts)
        layout = layout_fields(info.get("layout", {}))
        return StoredDocument(doc_id, info["path"], info["title"], text, tuple(info["page_starts"]), headings, **layout)

    def page_map(self, doc_id: str) -> PageMap:
        return self._page_maps.get(doc_id)

    @cached_property
    def _page_maps(self) -> LoadingCache[str, PageMap]:
        def load(doc_id: str) -> PageMap:
            expr = f'doc_id == {schema.quote(doc_id)} and info != ""'
            rows = self._all("documents", expr, ["part", "info"])
            if not rows:
                return PageMap(())
            info = _info(rows)
            return PageMap(tuple(info["page_starts"]), layout_fields(info.get("layout", {}))["page_labels"])

        return LoadingCache(load, PAGE_MAPS)

    def document_text(self, doc_id: str) -> str | None:
        parts = self._parts(doc_id)
        return "".join(p["text"] for p in parts) if parts else None

    def document_slice(self, doc_id: str, start: int, end: int) -> str:
        if end <= start:
            return ""
        first, last = start // schema.PART_CHARS, (end - 1) // schema.PART_CHARS
        text = "".join(self.part_texts.get((doc_id, part)) for part in range(first, last + 1))
        offset = first * schema.PART_CHARS
        return text[start - offset : end - offset]

    def chunk_records(self, ids: Iterable[int]) -> dict[int, ChunkRecord]:
        ids = [int(i) for i in ids]
        if not ids:
            return {}
        rows = self.client.get(self.collection("chunks"), ids=ids, output_fields=_CHUNK_FIELDS)
        return {int(row["id"]): self._whole(_chunk(row)) for row in rows}

    def iter_chunks(self, doc_id: str | None = None) -> Iterator[ChunkRecord]:
        expr = f"doc_id == {schema.quote(doc_id)}" if doc_id else ""
        rows = self._all("chunks", expr, _CHUNK_FIELDS)
        yield from sorted((self._whole(_chunk(r)) for r in rows), key=lambda c: c.id)

    def _whole(self, record: ChunkRecord) -> ChunkRecord:
        """`record` with its text, read from the document when it was too long for the chunk row (schema.LONG_TEXT)."""
        if record.text != schema.LONG_TEXT:
            return record
        return replace(record, text=self.document_slice(record.doc_id, record.start, record.end))

    def chunk_ids_for(self, doc_ids: Iterable[str]) -> np.ndarray:
        doc_ids = list(doc_ids)
        if not doc_ids:
            return np.zeros(0, dtype=np.int64)
        rows = self._all("chunks", f"doc_id in {schema.expr_list(doc_ids)}", ["id"])
        return np.array(sorted(int(r["id"]) for r in rows), dtype=np.int64)

    def chunk_vectors(self, ids: Iterable[int]) -> np.ndarray:
        ids = [int(i) for i in ids]
        dimension = int(self.manifest["model"]["dimension"])
        if not ids:
            return np.zeros((0, dimension), dtype=np.float32)
        rows = self.client.get(self.collection("chunks"), ids=ids, output_fields=["id", "vector"])
        by_id = {int(r["id"]): r["vector"] for r in rows}
        return np.array([by_id[i] for i in ids], dtype=np.float32).reshape(len(ids), dimension)

    def neighbours(self, record: ChunkRecord, reach: int) -> list[ChunkRecord]:
        return self.layouts.neighbours(record, reach)

    @cached_property
    def layouts(self) -> ChunkLayouts:
        def load(doc_id: str) -> list[LayoutRow]:
            expr = f"doc_id == {schema.quote(doc_id)}"
            rows = self._all("chunks", expr, _CHUNK_FIELDS[:8])
            found = sorted((_chunk({**r, "text": ""}) for r in rows), key=lambda c: c.id)
            return [(c.id, c.start, c.end, c.page, c.page_end, c.heading) for c in found]

        return ChunkLayouts(load)

    def sentences(self, chunk_ids: Iterable[int]) -> list[SentenceRecord]:
        ids = [int(i) for i in chunk_ids]
        if not ids:
            return []
        rows = self._all("sentences", f"chunk_id in {schema.expr_list(ids)}", ["chunk_id", "start", "end", "vector"])
        rows.sort(key=lambda r: (r["chunk_id"], r["start"]))
        return [
            SentenceRecord(
                int(r["chunk_id"]), int(r["start"]), int(r["end"]), np.asarray(r["vector"], dtype=np.float32)
            )
            for r in rows
        ]

    def _search(self, data: list[Any], field: str, k: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        if k <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        expr = f"id in {schema.expr_list([int(i) for i in allowed])}" if allowed is not None else ""
        hits = self.client.search(
            self.collection("chunks"),
            data=data,
            anns_field=field,
            limit=min(k, 16_384),
            filter=expr,
            output_fields=["id"],
        )[0]
        return [(int(h["id"]), float(h["distance"])) for h in hits]

    def dense_top(self, query_vector: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        vector = np.asarray(query_vector, dtype=np.float32).reshape(-1).tolist()
        return self._search([vector], "vector", k, allowed)

    def sparse_top(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        terms = " ".join(schema.stored_term(t) for t in tokenize([query])[0])
        if not terms:
            return []
        # milvus-lite reports BM25 as a distance (-score), a server as the score: the magnitude is the score. Milvus
        # scores with the classic (k1 + 1) numerator, bm25s (the folder store) without: divided, both give one score
        hits = [(i, abs(s) / (BM25_K1 + 1)) for i, s in self._search([terms], "sparse", k, allowed)]
        return [(i, s) for i, s in hits if s > 0]

    def idf(self, words: list[str]) -> list[tuple[float, bool]]:
        """BM25 (Lucene) IDF as the folder store computes it, from the document frequencies stored at publish."""
        n = len(self)
        if not words:
            return []
        tokenized = [[schema.stored_term(t) for t in tokens] for tokens in tokenize(words)]
        wanted = sorted({t for tokens in tokenized for t in tokens})
        df: dict[str, int] = {}
        if wanted:
            keys = schema.expr_list([f"df:{t}" for t in wanted])
            rows = self.client.query(self.collection("meta"), filter=f"key in {keys}", output_fields=["key", "value"])
            df = {r["key"][3:]: int(r["value"]) for r in rows}
        out = []
        for tokens in tokenized:
            if not tokens:
                out.append((0.0, True))
                continue
            low = min(df.get(t, 0) for t in tokens)
            out.append((float(np.log1p((n - low + 0.5) / (low + 0.5))), low > 0))
        return out

    def problems(self) -> list[Problem]:
        return version_problems(self)

    def close(self) -> None:
        pass  # the client is shared by the process; a version's collections are dropped by a later build's tidy
