"""The collections of one index version and how they are named.

A version `<prefix>_gNNNNNN` is four collections: `_chunks` (dense vector + BM25 sparse vector computed by Milvus'
BM25 function from `terms`, the chunk's BM25 terms as this project tokenises them, joined by spaces, so Milvus and
the folder store score the same terms), `_sentences` (sentence vectors for `ask`), `_documents` (texts in parts:
a VARCHAR holds at most 65,535 bytes) and `_meta` (manifest and the BM25 document frequencies `idf` needs). The
alias `<prefix>_live` names the live version's `_meta` collection; `<prefix>_lease` holds the build lease.
Milvus wants a vector field in every collection: those without one get a 2-d placeholder.
"""

from __future__ import annotations

import re
from typing import Any

KINDS = ("chunks", "sentences", "documents", "meta")
PART_CHARS = 16_000  # characters per document part: ≤ 64,000 bytes of UTF-8, under VARCHAR's 65,535
MAX_VARCHAR = 65_535
PLACEHOLDER_DIM = 2
PLACEHOLDER = [0.0, 1.0]


def version_name(prefix: str, number: int) -> str:
    return f"{prefix}_g{number:06d}"


def collection(version: str, kind: str) -> str:
    return f"{version}_{kind}"


def live_alias(prefix: str) -> str:
    return f"{prefix}_live"


def lease_collection(prefix: str) -> str:
    return f"{prefix}_lease"


def versions(names: list[str], prefix: str) -> dict[str, set[str]]:
    """Version name → the kinds of its collections present, from a list of collection names."""
    found: dict[str, set[str]] = {}
    pattern = re.compile(re.escape(prefix) + r"_(g\d{6,12})_(" + "|".join(KINDS) + r")")
    for name in names:
        if match := pattern.fullmatch(name):
            found.setdefault(f"{prefix}_{match[1]}", set()).add(match[2])
    return found


def version_number(version: str) -> int:
    return int(version.rsplit("_g", 1)[1])


def create_version(client: Any, version: str, dimension: int) -> None:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    def schema() -> Any:
        return MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)

    def index(*specs: tuple[str, str, str]) -> Any:
        params = client.prepare_index_params()
        for field, kind, metric in specs:
            params.add_index(field_name=field, index_type=kind, metric_type=metric)
        return params

    def create(name: str, fields: Any, params: Any) -> None:
        # the index without waiting for it (pymilvus polls every 0.5 s): publish loads, which waits for it
        client.create_collection(name, schema=fields)
        client.create_index(name, params, sync=False)

    chunks = schema()
    chunks.add_field("id", DataType.INT64, is_primary=True)
    chunks.add_field("doc_id", DataType.VARCHAR, max_length=MAX_VARCHAR)
    chunks.add_field("title", DataType.VARCHAR, max_length=MAX_VARCHAR)
    for name in ("start", "end", "page", "page_end"):
        chunks.add_field(name, DataType.INT64)  # page -1: none
    chunks.add_field("heading", DataType.VARCHAR, max_length=MAX_VARCHAR)  # "\0": none
    chunks.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
    chunks.add_field("terms", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True)
    chunks.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    chunks.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    chunks.add_function(
        Function(
            name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"], output_field_names=["sparse"]
        )
    )
    create(
        collection(version, "chunks"),
        chunks,
        index(("vector", "FLAT", "IP"), ("sparse", "SPARSE_INVERTED_INDEX", "BM25")),
    )
    sentences = schema()
    sentences.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)  # "chunk:start"
    sentences.add_field("chunk_id", DataType.INT64)
    sentences.add_field("start", DataType.INT64)
    sentences.add_field("end", DataType.INT64)
    sentences.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    create(collection(version, "sentences"), sentences, index(("vector", "FLAT", "IP")))
    documents = schema()
    documents.add_field("key", DataType.VARCHAR, is_primary=True, max_length=MAX_VARCHAR)  # "part:doc_id"
    documents.add_field("doc_id", DataType.VARCHAR, max_length=MAX_VARCHAR)
    documents.add_field("part", DataType.INT64)
    documents.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
    documents.add_field("info", DataType.VARCHAR, max_length=MAX_VARCHAR)  # part 0: JSON of path, title, sha256, …
    documents.add_field("placeholder", DataType.FLOAT_VECTOR, dim=PLACEHOLDER_DIM)
    create(collection(version, "documents"), documents, index(("placeholder", "FLAT", "L2")))
    meta = schema()
    meta.add_field("key", DataType.VARCHAR, is_primary=True, max_length=1024)  # "manifest", "df:<term>"
    meta.add_field("value", DataType.VARCHAR, max_length=MAX_VARCHAR)
    meta.add_field("placeholder", DataType.FLOAT_VECTOR, dim=PLACEHOLDER_DIM)
    create(collection(version, "meta"), meta, index(("placeholder", "FLAT", "L2")))


def create_lease_collection(client: Any, name: str) -> None:
    from pymilvus import DataType, MilvusClient

    lease = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    lease.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)
    lease.add_field("owner", DataType.VARCHAR, max_length=1024)
    lease.add_field("token", DataType.VARCHAR, max_length=64)
    lease.add_field("expires", DataType.DOUBLE)
    lease.add_field("placeholder", DataType.FLOAT_VECTOR, dim=PLACEHOLDER_DIM)
    params = client.prepare_index_params()
    params.add_index(field_name="placeholder", index_type="FLAT", metric_type="L2")
    client.create_collection(name, schema=lease, index_params=params, consistency_level="Strong")


def expr_list(values: list[Any]) -> str:
    """A Milvus expression list literal (strings in double quotes; milvus-lite knows no \\u escapes)."""
    import json

    return json.dumps(values, ensure_ascii=False)
