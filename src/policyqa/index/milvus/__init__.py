"""A Milvus store (milvus-lite in process, or a Milvus server/cluster) behind the same seam as the folder store."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the seam names this store only when it opens one; no import back at run time
    from policyqa.index.credentials import StoreCredentials
    from policyqa.index.store import Store


def open_milvus_store(location: str, credentials: StoreCredentials) -> Store:
    from policyqa.index.milvus.store import MilvusStore

    return MilvusStore(location, credentials)
