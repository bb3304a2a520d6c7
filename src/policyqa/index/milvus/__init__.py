"""A Milvus store (milvus-lite in process, or a Milvus server/cluster) behind the same seam as the folder store."""

from __future__ import annotations

from policyqa.index.store import Store


def open_milvus_store(location: str) -> Store:
    from policyqa.index.milvus.store import MilvusStore

    return MilvusStore(location)
