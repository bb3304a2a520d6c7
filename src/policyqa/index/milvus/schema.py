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
MAX_VARCHAR = 65_535  # bytes (a server counts UTF-8 bytes, milvus-lite characters: bytes hold for both)
MAX_KEY = 1024  # bytes of a meta key ("df:<term>")
MAX_TERM = 200  # bytes of a BM25 term as stored; a longer one is stored as its prefix and a digest
LONG_TEXT = ""  # a chunk's `text` when it does not fit a VARCHAR: read from the document's parts (never empty else)
MARKER = "…"  # ends a value cut to fit its field
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


# Both milvus-lite and a server read \\ \" \n \r \t in a string literal and any other character as itself; neither
# takes a raw line break, and milvus-lite knows no \u escapes (JSON's, for a control character in a file name).
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def quote(value: str) -> str:
    """A Milvus expression string literal holding exactly `value`."""
    return '"' + value.translate(_ESCAPES) + '"'


def expr_list(values: list[Any]) -> str:
    """A Milvus expression list literal of strings or integers."""
    return "[" + ", ".join(quote(v) if isinstance(v, str) else str(int(v)) for v in values) + "]"


def fit(value: str, limit: int = MAX_VARCHAR) -> str:
    """`value`, cut to at most `limit` UTF-8 bytes and ended with MARKER when it was cut."""
    data = value.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return value
    room = limit - len(MARKER.encode())
    return data[:room].decode("utf-8", "ignore") + MARKER


def stored_term(term: str) -> str:
    """A BM25 term as the Milvus store keeps it: itself, or (over MAX_TERM bytes: a meta key holds 1,024) its first
    40 characters and a digest, a word for any analyzer. Queries map their terms the same way, so they still match."""
    if len(term.encode("utf-8", "surrogatepass")) <= MAX_TERM:
        return term
    import hashlib

    return term[:40] + "x" + hashlib.sha256(term.encode("utf-8", "surrogatepass")).hexdigest()[:32]


MANIFEST = "manifest"  # meta key of the manifest; a long one is in pieces "manifest:1", "manifest:2", …


def manifest_rows(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, value) meta rows holding `manifest` (hundreds of skipped files' reasons pass a VARCHAR)."""
    import json

    value = json.dumps(manifest)
    parts = pieces(value)
    if len(parts) == 1:
        return [(MANIFEST, value)]
    return [(MANIFEST, json.dumps({"manifest_parts": len(parts)}))] + [
        (f"{MANIFEST}:{n}", part) for n, part in enumerate(parts, 1)
    ]


def read_manifest(client: Any, meta: str) -> dict[str, Any] | None:
    """The manifest in a version's meta collection (None when it has none)."""
    import json

    rows = client.get(meta, ids=[MANIFEST], output_fields=["value"])
    if not rows:
        return None
    manifest = json.loads(rows[0]["value"])
    if set(manifest) == {"manifest_parts"}:
        keys = [f"{MANIFEST}:{n}" for n in range(1, int(manifest["manifest_parts"]) + 1)]
        found = {r["key"]: r["value"] for r in client.get(meta, ids=keys, output_fields=["key", "value"])}
        manifest = json.loads("".join(found[k] for k in keys))
    return manifest


def pieces(value: str, limit: int = MAX_VARCHAR) -> list[str]:
    """ASCII `value` (JSON with ensure_ascii) in pieces of at most `limit` bytes; at least one."""
    return [value[i : i + limit] for i in range(0, max(len(value), 1), limit)]
