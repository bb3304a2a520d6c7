"""The LangChain and LlamaIndex retrievers with the real libraries (extras `langchain`, `llamaindex`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from policyqa import open_index
from tests.conftest import BUNDLED_DOC, DOHA_QUESTION

METADATA = {"doc_id", "title", "page", "start", "end", "heading", "score", "rank", "chunk_id"}


@pytest.fixture(scope="module")
def index(bundled_index: Path):
    return open_index(bundled_index)


def test_langchain_retriever_returns_documents_with_locations(index) -> None:
    from langchain_core.documents import Document

    from policyqa.integrations.langchain import PolicyQARetriever

    retriever = PolicyQARetriever(index=index, k=3)
    docs = retriever.invoke(DOHA_QUESTION)
    assert len(docs) == 3 and all(isinstance(d, Document) for d in docs)
    assert "Doha" in docs[0].page_content and set(docs[0].metadata) == METADATA
    text = index.document_text(BUNDLED_DOC)
    for d in docs:
        assert text[d.metadata["start"] : d.metadata["end"]] == d.page_content and d.metadata["doc_id"] == BUNDLED_DOC
    assert [d.metadata["score"] for d in docs] == sorted((d.metadata["score"] for d in docs), reverse=True)
    assert [d.page_content for d in docs] == [h.text for h in index.search(DOHA_QUESTION, k=3)]


def test_langchain_k_and_filters_pass_through(index) -> None:
    from policyqa.errors import QueryError
    from policyqa.integrations.langchain import PolicyQARetriever

    retriever = PolicyQARetriever(index=index, k=5, mode="bm25")
    assert len(retriever.invoke("Afghanistan security", k=2)) == 2
    assert len(retriever.invoke("Afghanistan security", doc_ids=[BUNDLED_DOC])) == 5
    assert retriever.invoke("Taliban Doha", path="nothing/*.pdf") == []
    with pytest.raises(QueryError, match="no such document"):
        retriever.invoke("Taliban", doc_ids=["missing.txt"])
    with pytest.raises(TypeError, match="colour"):
        retriever.invoke("Taliban", colour="red")


def test_a_small_langchain_chain_uses_the_retriever(index) -> None:
    from langchain_core.runnables import RunnableLambda, RunnablePassthrough

    from policyqa.integrations.langchain import PolicyQARetriever

    def cite(docs: list) -> str:
        return "\n".join(f"[{i}] {d.metadata['doc_id']}:{d.metadata['start']}" for i, d in enumerate(docs, 1))

    retriever = PolicyQARetriever(index=index, k=2)
    chain = {"context": retriever | RunnableLambda(cite), "question": RunnablePassthrough()} | RunnableLambda(
        lambda x: f"Q: {x['question']}\n{x['context']}"
    )
    out = chain.invoke(DOHA_QUESTION)
    first = index.search(DOHA_QUESTION, k=1)[0]
    assert out.startswith(f"Q: {DOHA_QUESTION}\n[1] {BUNDLED_DOC}:{first.start}") and "[2]" in out
    assert len(chain.batch([DOHA_QUESTION, "Who organized the conference?"])) == 2


def test_llamaindex_retriever_returns_nodes_with_locations(index) -> None:
    from llama_index.core.schema import NodeWithScore

    from policyqa.integrations.llamaindex import PolicyQALlamaRetriever

    nodes = PolicyQALlamaRetriever(index, similarity_top_k=4).retrieve(DOHA_QUESTION)
    assert len(nodes) == 4 and all(isinstance(n, NodeWithScore) for n in nodes)
    assert "Doha" in nodes[0].node.get_content() and set(nodes[0].node.metadata) == METADATA
    text = index.document_text(BUNDLED_DOC)
    for n in nodes:
        meta = n.node.metadata
        assert text[meta["start"] : meta["end"]] == n.node.text and n.score == meta["score"]
        assert (n.node.start_char_idx, n.node.end_char_idx) == (meta["start"], meta["end"])
    filtered = PolicyQALlamaRetriever(index, similarity_top_k=2, mode="bm25", path="other/*").retrieve("Taliban")
    assert filtered == []


def test_missing_extra_names_it() -> None:
    # A fresh interpreter in which langchain_core cannot be imported (as without the extra).
    code = (
        "import sys; sys.modules['langchain_core'] = None\n"
        "try:\n    import policyqa.integrations.langchain\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert "'langchain' extra" in out and "pip install 'policyqa[langchain]'" in out
