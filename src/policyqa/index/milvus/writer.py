"""Writes a new index version into fresh collections; `publish` switches the live alias to it in one call.

Rows of the base version are carried over (minus deleted documents) at publish, keeping their chunk ids; new
chunks get ids after the base's highest. Searches keep using the alias's old target until `alter_alias`.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np

from policyqa.index.milvus import schema
from policyqa.index.milvus.client import collection_names
from policyqa.index.milvus.reader import MilvusReader, iterate
from policyqa.index.records import layout_json
from policyqa.ingest.chunking import Chunk
from policyqa.ingest.documents import Document
from policyqa.ingest.terms import tokenize

BATCH = 1000  # rows per insert call
BATCH_CHARS = 8_000_000  # text characters per insert call (at most 32 MB of UTF-8)


class MilvusWriter:
    def __init__(self, client: Any, prefix: str, base: MilvusReader | None, dimension: int):
        self.client, self.prefix, self.base = client, prefix, base
        existing = schema.versions(collection_names(client), prefix)
        number = max((schema.version_number(v) for v in existing), default=0) + 1
        self.version = schema.version_name(prefix, number)
        self.dimension = dimension
        schema.create_version(client, self.version, dimension)
        self.deleted: set[str] = set()
        self._pending: dict[str, list[dict[str, Any]]] = {kind: [] for kind in schema.KINDS}
        self._pending_chars = dict.fromkeys(schema.KINDS, 0)
        self.manifest: dict[str, Any] = {}
        self._next_id = (base.max_chunk_id if base is not None else 0) + 1

    def _name(self, kind: str) -> str:
        return schema.collection(self.version, kind)

    def delete_document(self, doc_id: str) -> None:
        self.deleted.add(doc_id)

    def add_document(
        self,
        doc: Document,
        chunks: list[Chunk],
        vectors: np.ndarray,
        indexed_at: float,
        sentences: list[list[tuple[int, int, np.ndarray]]],
    ) -> None:
        info = {
            "path": str(doc.path),
            "title": doc.title,
            "sha256": doc.sha256,
            "size": doc.size,
            "chunks": len(chunks),
            "page_starts": list(doc.page_starts),
            "headings": [[h.start, h.title, h.level] for h in doc.headings],
            "indexed_at": indexed_at,
            "layout": layout_json(doc),
        }
        texts = [doc.text[i : i + schema.PART_CHARS] for i in range(0, max(len(doc.text), 1), schema.PART_CHARS)]
        # the info JSON (4,000 headings: some 200 KB) is spread over parts too, past the text's when it must
        infos = schema.pieces(json.dumps(info))
        self._insert(
            "documents",
            [
                {
                    "key": f"{n}:{doc.id}",
                    "doc_id": doc.id,
                    "part": n,
                    "text": texts[n] if n < len(texts) else "",
                    "info": infos[n] if n < len(infos) else "",
                    "placeholder": schema.PLACEHOLDER,
                }
                for n in range(max(len(texts), len(infos)))
            ],
        )
        ids = range(self._next_id, self._next_id + len(chunks))
        self._next_id += len(chunks)
        terms = tokenize([c.text for c in chunks]) if chunks else []
        self._insert(
            "chunks",
            [
                {
                    "id": i,
                    "doc_id": doc.id,
                    "title": schema.fit(doc.title),
                    "start": c.start,
                    "end": c.end,
                    "page": -1 if c.page is None else c.page,
                    "page_end": -1 if c.page_end is None else c.page_end,
                    "heading": "\0" if c.heading is None else schema.fit(c.heading),
                    "text": c.text if _fits(c.text) else schema.LONG_TEXT,
                    "terms": _terms(t),
                    "vector": np.asarray(v, dtype=np.float32).tolist(),
                }
                for i, c, t, v in zip(ids, chunks, terms, vectors, strict=True)
            ],
        )
        self._insert(
            "sentences",
            [
                {"key": f"{i}:{a}", "chunk_id": i, "start": a, "end": b, "vector": np.asarray(v, np.float32).tolist()}
                for i, spans in zip(ids, sentences, strict=True)
                for a, b, v in spans
            ],
        )

    def set_manifest(self, manifest: dict[str, Any]) -> None:
        self.manifest = dict(manifest)

    def publish(self) -> str:
        if self.base is not None:
            self._carry_over(self.base)
        self._send()
        chunks, df = 0, Counter[str]()
        for rows in iterate(self.client, self._name("chunks"), "", ["terms"]):
            chunks += len(rows)
            for row in rows:
                df.update(set(row["terms"].split()))
        previous = self.base.name if self.base is not None else _live(self.client, self.prefix)
        manifest = {**self.manifest, "chunks": chunks, "max_chunk_id": self._next_id - 1, "previous_version": previous}
        self._insert(
            "meta",
            [{"key": k, "value": v, "placeholder": schema.PLACEHOLDER} for k, v in schema.manifest_rows(manifest)]
            + [{"key": f"df:{t}", "value": str(n), "placeholder": schema.PLACEHOLDER} for t, n in df.items()],
        )
        self._send()
        for kind in schema.KINDS:
            self.client.flush(self._name(kind))
            self.client.load_collection(self._name(kind))
        alias, target = schema.live_alias(self.prefix), self._name("meta")
        if alias in self.client.list_aliases().get("aliases", []):
            self.client.alter_alias(collection_name=target, alias=alias)
        else:
            self.client.create_alias(collection_name=target, alias=alias)
        return self.version

    def _carry_over(self, base: MilvusReader) -> None:
        keep = f"doc_id not in {schema.expr_list(sorted(self.deleted))}" if self.deleted else ""
        fields = ["id", "doc_id", "title", "start", "end", "page", "page_end", "heading", "text", "terms", "vector"]
        kept: list[int] = []
        for rows in iterate(self.client, base.collection("chunks"), keep, fields):
            self._insert("chunks", [{f: row[f] for f in fields} for row in rows])
            kept += [row["id"] for row in rows]
        for start in range(0, len(kept), 4 * BATCH):
            ids = schema.expr_list(kept[start : start + 4 * BATCH])
            for rows in iterate(
                self.client,
                base.collection("sentences"),
                f"chunk_id in {ids}",
                ["key", "chunk_id", "start", "end", "vector"],
            ):
                self._insert("sentences", [dict(row) for row in rows])
        fields = ["key", "doc_id", "part", "text", "info"]
        for rows in iterate(self.client, base.collection("documents"), keep, fields):
            self._insert(
                "documents", [{**{f: row[f] for f in fields}, "placeholder": schema.PLACEHOLDER} for row in rows]
            )

    def _insert(self, kind: str, rows: list[dict[str, Any]]) -> None:
        """Buffered: one insert call per BATCH rows (a call costs some 6 ms on milvus-lite, whatever its size), or
        sooner when their text passes BATCH_CHARS (a request has a size limit on a server)."""
        self._pending[kind] += rows
        self._pending_chars[kind] += sum(len(r.get("text", "")) + len(r.get("info", "")) for r in rows)
        if len(self._pending[kind]) >= BATCH or self._pending_chars[kind] >= BATCH_CHARS:
            self._send(kind)

    def _send(self, *kinds: str) -> None:
        for kind in kinds or schema.KINDS:
            rows, self._pending[kind], self._pending_chars[kind] = self._pending[kind], [], 0
            batch: list[dict[str, Any]] = []
            chars = 0
            for row in rows:
                batch.append(row)
                chars += len(row.get("text", "")) + len(row.get("info", ""))
                if len(batch) >= BATCH or chars >= BATCH_CHARS:
                    self.client.insert(self._name(kind), batch)
                    batch, chars = [], 0
            if batch:
                self.client.insert(self._name(kind), batch)

    def abandon(self) -> None:
        for kind in schema.KINDS:
            name = self._name(kind)
            if self.client.has_collection(name):
                self.client.drop_collection(name)


def _fits(text: str) -> bool:
    return len(text) * 4 <= schema.MAX_VARCHAR or len(text.encode("utf-8", "surrogatepass")) <= schema.MAX_VARCHAR


def _terms(terms: list[str]) -> str:
    """A chunk's BM25 terms as stored: long ones shortened (schema.stored_term), whole terms within a VARCHAR (a
    chunk of 64 model tokens holds far fewer; the cut only guards the field)."""
    kept, size = [], 0
    for term in map(schema.stored_term, terms):
        size += len(term.encode("utf-8", "surrogatepass")) + 1
        if size > schema.MAX_VARCHAR + 1:
            break
        kept.append(term)
    return " ".join(kept)


def _live(client: Any, prefix: str) -> str | None:
    alias = schema.live_alias(prefix)
    if alias not in client.list_aliases().get("aliases", []):
        return None
    return str(client.describe_alias(alias)["collection_name"]).removesuffix("_meta")
