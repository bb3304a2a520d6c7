"""Retrievers for other frameworks: `langchain.PolicyQARetriever`, `llamaindex.PolicyQALlamaRetriever`.

Each needs its extra (`pip install 'policyqa[langchain]'` or `'policyqa[llamaindex]'`); importing one without it
raises MissingExtraError naming the extra.
"""

from __future__ import annotations

from typing import Any

from policyqa.errors import MissingExtraError
from policyqa.search.retrieval import Hit


def missing_extra(extra: str, exc: ImportError) -> MissingExtraError:
    return MissingExtraError(
        f"this integration needs the '{extra}' extra ({exc.name} is not installed): pip install 'policyqa[{extra}]'"
    )


def hit_metadata(hit: Hit) -> dict[str, Any]:
    """What a framework document carries besides the text: where the passage is and how it scored."""
    return {
        "doc_id": hit.doc_id,
        "title": hit.title,
        "page": hit.page,
        "start": hit.start,
        "end": hit.end,
        "heading": hit.heading,
        "score": hit.score,
        "rank": hit.rank,
        "chunk_id": hit.chunk_id,
    }
