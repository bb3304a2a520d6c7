"""A LlamaIndex retriever over a policyqa index: `PolicyQALlamaRetriever(open_index("index"), similarity_top_k=5)`."""

from __future__ import annotations

from typing import Any

from policyqa.api import PolicyIndex
from policyqa.integrations import hit_metadata, missing_extra
from policyqa.search.retrieval import Mode

try:
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
except ImportError as exc:  # pragma: no cover - exercised by a subprocess test without the extra
    raise missing_extra("llamaindex", exc) from exc

__all__ = ["PolicyQALlamaRetriever"]


class PolicyQALlamaRetriever(BaseRetriever):
    """Ranked passages as NodeWithScore; node metadata carries doc_id, title, page, start, end, heading, score."""

    def __init__(
        self,
        index: PolicyIndex,
        similarity_top_k: int = 5,
        *,
        mode: Mode = "hybrid",
        doc_ids: list[str] | None = None,
        path: str | None = None,
        where: dict[str, Any] | None = None,
        mmr: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.index = index
        self.options: dict[str, Any] = {
            "k": similarity_top_k,
            "mode": mode,
            "doc_ids": doc_ids,
            "path": path,
            "where": where,
            "mmr": mmr,
        }

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.index.search(query_bundle.query_str, **self.options)
        return [
            NodeWithScore(
                node=TextNode(
                    id_=f"{h.doc_id}#{h.chunk_id}",
                    text=h.text,
                    metadata=hit_metadata(h),
                    start_char_idx=h.start,
                    end_char_idx=h.end,
                ),
                score=h.score,
            )
            for h in hits
        ]
