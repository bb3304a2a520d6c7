"""A LangChain retriever over a policyqa index: `PolicyQARetriever(index=open_index("index"), k=5)`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policyqa.api import PolicyIndex, open_index
from policyqa.integrations import hit_metadata, missing_extra

try:
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
    from pydantic import ConfigDict
except ImportError as exc:  # pragma: no cover - exercised by a subprocess test without the extra
    raise missing_extra("langchain", exc) from exc

__all__ = ["PolicyQARetriever"]


class PolicyQARetriever(BaseRetriever):
    """Ranked passages as LangChain Documents; metadata carries doc_id, title, page, start, end, heading, score.

    The fields are the defaults of `PolicyIndex.search`; any of them can be overridden per call:
    `retriever.invoke("question", k=3, doc_ids=["a.txt"])`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: PolicyIndex
    k: int = 5
    mode: str = "hybrid"
    doc_ids: list[str] | None = None
    path: str | None = None
    where: dict[str, Any] | None = None
    mmr: bool = False

    @classmethod
    def from_index_dir(cls, index_dir: str | Path = "index", **fields: Any) -> PolicyQARetriever:
        return cls(index=open_index(index_dir), **fields)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **overrides: Any
    ) -> list[Document]:
        options = {name: getattr(self, name) for name in ("k", "mode", "doc_ids", "path", "where", "mmr")}
        unknown = set(overrides) - set(options)
        if unknown:
            raise TypeError(f"unknown search option(s): {', '.join(sorted(unknown))}")
        hits = self.index.search(query, **{**options, **overrides})
        return [Document(page_content=h.text, metadata=hit_metadata(h), id=f"{h.doc_id}#{h.chunk_id}") for h in hits]
