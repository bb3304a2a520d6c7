"""The facade: build_index, open_index → PolicyIndex (search, ask, chunks, len, documents, refresh)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from policyqa.answer.compare import COMPARE_K, CompareRow, check_questions, compare_documents
from policyqa.answer.compose import LIMITS, Analysis, Limits, analyse, score_passages
from policyqa.answer.conversation import ConversationTurn, next_turn
from policyqa.answer.decision import decide
from policyqa.answer.export import ExportContext
from policyqa.answer.generate import LLMSettings, generate_answer, generate_stream
from policyqa.answer.pages import with_quote_pages
from policyqa.answer.types import Answer
from policyqa.build.sync import build_index
from policyqa.embed.embedder import Backend, Embedder, same_model
from policyqa.embed.openvino_backend import Precision
from policyqa.errors import ModelMismatchError, ModelNotFoundError, PolicyQAError, QueryError
from policyqa.index.records import ChunkRecord, DocumentRecord, StoredDocument
from policyqa.index.store import IndexReader, Store, open_store
from policyqa.search import rerank as rerank_model
from policyqa.search.filters import DocumentFilter, matching_documents
from policyqa.search.pages import with_page_labels
from policyqa.search.rerank import Reranker
from policyqa.search.retrieval import (
    MMR_POOL_FACTOR,
    Hit,
    Mode,
    check_k,
    clean_query,
    diversify,
    required_vector,
    retrieve,
)
from policyqa.settings import DEFAULT_RERANK, RERANK_ENV, RerankSetting, Settings

__all__ = ["PolicyIndex", "build_index", "open_index"]


def default_second_stage(settings: Settings | None = None) -> str:
    """Whether search/ask re-score with the second-stage model by default (`settings.rerank`), and whether it is
    installed (status)."""
    chosen = settings or Settings()
    if not rerank_model.available(chosen.cache_dir):
        return f"not installed ({rerank_model.INSTALL_HINT})"
    setting = chosen.rerank
    if setting == "off":
        return f"{rerank_model.MODEL_NAME} installed, not used by default (--rerank on, or {RERANK_ENV}=auto)"
    return f"{rerank_model.MODEL_NAME} ({RERANK_ENV}={setting})"


class PolicyIndex:
    """A searchable index. Holds one generation; `refresh()` switches to a newer published one.

    `rerank`: "auto" re-scores the top candidates with all-mpnet-base-v2 when that extra is installed, "on"
    requires it, "off" never uses it.
    """

    def __init__(self, store: Store, embedder: Embedder, rerank: RerankSetting = DEFAULT_RERANK):
        if rerank not in ("auto", "on", "off"):
            raise PolicyQAError(f"rerank must be auto, on or off, got {rerank!r}")
        self.store = store
        self.embedder = embedder
        embedder.require_backend()
        self.rerank_setting = rerank
        self._encode_lock = threading.Lock()
        self._reranker: Reranker | None = None
        self.generation = self._open_checked()

    @property
    def second_stage(self) -> str:
        """What re-scores results, said plainly (shown by the CLI and UI)."""
        if self.rerank_setting == "off":
            return "off"
        if not rerank_model.available(self.embedder.cache_dir):
            return f"off ({rerank_model.MODEL_NAME} not installed: {rerank_model.INSTALL_HINT})"
        return rerank_model.MODEL_NAME

    def _second_stage_model(self, rerank: bool | None) -> Reranker | None:
        wanted = self.rerank_setting != "off" if rerank is None else rerank
        if not wanted:
            return None
        if not rerank_model.available(self.embedder.cache_dir):
            if rerank or self.rerank_setting == "on":
                raise ModelNotFoundError(
                    f"re-ranking needs {rerank_model.MODEL_NAME}; install it with {rerank_model.INSTALL_HINT}"
                )
            return None
        with self._encode_lock:
            if self._reranker is None:
                self._reranker = Reranker(self.embedder.cache_dir)
            return self._reranker

    def _retrieve(
        self,
        text: str,
        k: int,
        doc_ids: list[str] | None,
        mode: Mode,
        filters: DocumentFilter,
        mmr: bool,
        rerank: bool | None,
    ) -> tuple[IndexReader, np.ndarray | None, list[Hit]]:
        generation = self.generation  # one consistent generation for the whole call
        reranker = self._second_stage_model(rerank)
        vector = None if mode == "bm25" and not mmr and reranker is None else self.encode_query(text)
        if reranker is None:
            return generation, vector, retrieve(generation, text, vector, k, doc_ids, mode, filters=filters, mmr=mmr)
        pool = max(k * MMR_POOL_FACTOR, rerank_model.CANDIDATES) if mmr else max(k, rerank_model.CANDIDATES)
        hits = retrieve(generation, text, vector, pool, doc_ids, mode, filters=filters)
        with self._encode_lock:
            hits = reranker.rescore(text, hits)
        return generation, vector, diversify(generation, required_vector(vector), hits, k) if mmr else hits[:k]

    def _open_checked(self) -> IndexReader:
        generation = self.store.open_current()
        built_with = generation.manifest.get("model", {})
        if not same_model(built_with, self.embedder.identity):
            generation.close()
            configured = self.embedder.identity
            raise ModelMismatchError(
                f"the index in '{self.store.location}' was built with model '{built_with.get('name')}' "
                f"({built_with.get('dimension')}-d, {built_with.get('backend')} backend), but the configured model is "
                f"'{configured['name']}' ({configured['dimension']}-d, {configured['backend']} backend); "
                f"run `policyqa build --index {self.store.location}` to rebuild it with the configured model"
            )
        return generation

    def __len__(self) -> int:
        return len(self.generation)

    @property
    def manifest(self) -> dict[str, Any]:
        return self.generation.manifest

    def search(
        self,
        query: str,
        k: int = 5,
        doc_ids: list[str] | None = None,
        mode: Mode = "hybrid",
        *,
        path: str | None = None,
        where: dict[str, Any] | None = None,
        mmr: bool = False,
        rerank: bool | None = None,
    ) -> list[Hit]:
        """Ranked chunks, each scored by P(a close match) (`scorer.close_match()` and above reads as one). `mode`:
        "hybrid" (dense + BM25, fused), "dense" or "bm25". Filters: `doc_ids`, a `path`
        glob on document ids ("policies/*.pdf"), `where` on document fields (doc_id, title, type, folder, size,
        sha256). `mmr` re-orders for diversity (maximal marginal relevance). `rerank` overrides the index's
        second-stage setting for this call."""
        text = clean_query(query)
        k = check_k(k)
        filters = DocumentFilter(None, path, where or {})
        generation, vector, hits = self._retrieve(text, k, doc_ids, mode, filters, mmr, rerank)
        if hits:  # the score shown is P(a close match), the same calibrated meaning as an answer's (not rank-fused)
            vector = self.encode_query(text) if vector is None else vector
            hits = score_passages(text, vector, hits, generation, self.encode_texts)
        return with_page_labels(hits, generation)

    def ask(
        self,
        question: str,
        k: int = 5,
        doc_ids: list[str] | None = None,
        *,
        mode: Mode = "hybrid",
        path: str | None = None,
        where: dict[str, Any] | None = None,
        rerank: bool | None = None,
        threshold: float | None = None,
        limits: Limits | None = None,
        llm: LLMSettings | None = None,
    ) -> Answer:
        """An extractive answer with verbatim citations (state "answered" or "partial"), or a refusal (state
        "refused") with the nearest material; `reason` says why in one line.

        `threshold` overrides the calibrated least P of an answered quote; `limits` all calibrated limits.
        `llm`: also generate an answer from the quotes with this OpenAI-compatible endpoint, checked sentence by
        sentence (`answer.generated`); a refusal or an unsure answer is never sent to it.
        """
        started = time.perf_counter()
        analysis = self.analyse(question, k, doc_ids, mode=mode, path=path, where=where, rerank=rerank)
        chosen = limits or LIMITS
        if threshold is not None:
            chosen = replace(chosen, threshold=threshold)
        answer = with_quote_pages(decide(analysis, chosen), self.generation)
        answer = replace(answer, seconds=time.perf_counter() - started)
        answered = answer.state in ("answered", "partial")  # "unsure" evidence is shown as it is, never rewritten
        return answer if llm is None or not answered else generate_answer(answer, llm, self.encode_texts)

    def ask_followup(
        self,
        question: str,
        previous: ConversationTurn | None = None,
        k: int = 5,
        doc_ids: list[str] | None = None,
        *,
        mode: Mode = "hybrid",
    ) -> ConversationTurn:
        """`ask` as the next turn of a conversation: a question that leans on `previous` ("and who chaired it?")
        is searched with its subject, and also as asked; the answer with the stronger evidence is kept."""
        return next_turn(lambda text: self.ask(text, k, doc_ids, mode=mode), question, previous)

    def stream_generated(self, answer: Answer, llm: LLMSettings) -> Iterator[str | Answer]:
        """`ask(llm=...)` as a stream, from the quoted `answer`: the generated text so far (str) as it arrives, then
        the checked Answer (last, exactly once; the quoted one, saying why, when generation fails)."""
        return generate_stream(answer, llm, self.encode_texts)

    def analyse(
        self,
        question: str,
        k: int = 5,
        doc_ids: list[str] | None = None,
        *,
        mode: Mode = "hybrid",
        path: str | None = None,
        where: dict[str, Any] | None = None,
        rerank: bool | None = None,
    ) -> Analysis:
        """What `ask` decides on: the scored sentences and what each part of the question finds (for calibration)."""
        text = clean_query(question)
        k = check_k(k)
        filters = DocumentFilter(None, path, where or {})
        generation, vector, hits = self._retrieve(text, k, doc_ids, mode, filters, False, rerank)
        if vector is None:
            vector = self.encode_query(text)
        return analyse(text, vector, hits, generation, self.encode_texts)

    def compare(
        self,
        questions: list[str],
        doc_ids: list[str] | None = None,
        *,
        path: str | None = None,
        k: int = COMPARE_K,
        mode: Mode = "hybrid",
        limits: Limits | None = None,
    ) -> list[CompareRow]:
        """Each question asked of each document (all, those in `doc_ids`, or those whose id matches the `path`
        glob): one row per (question, document), question by question, documents in index order. A row is what
        `ask(question, doc_ids=[doc_id])` decides, with its most probable quote and the document's sha256."""
        texts = check_questions(questions)
        k = check_k(k)
        generation = self.generation  # one consistent generation for the whole grid
        indexed = generation.documents()
        chosen = set(matching_documents(indexed, DocumentFilter(doc_ids, path)))
        documents = [d for d in indexed if d.doc_id in chosen]
        if not documents:
            raise QueryError(
                f"no chosen document matches the path '{path}'" if path
                else "choose at least one document to compare" if doc_ids is not None
                else "the index has no documents; add files to the corpus and run `policyqa build`"
            )
        vectors = self.encode_texts(texts)
        return compare_documents(generation, texts, vectors, documents, self.encode_texts, k=k, mode=mode,
                                 limits=limits or LIMITS)

    def export_context(self) -> ExportContext:
        """What an export of this index's answers names: index version, model, date, each document's sha256."""
        generation = self.generation
        hashes = {d.doc_id: d.sha256 for d in generation.documents()}
        return ExportContext.from_manifest(generation.manifest, generation.name, hashes)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_texts([text])[0]

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        with self._encode_lock:
            return self.embedder.encode_queries(texts)

    def warm_up(self) -> None:
        """Load the model now, so the first question is not slow (a server calls this at start)."""
        with self._encode_lock:
            self.embedder.warm_up()

    def chunks(self) -> Iterator[ChunkRecord]:
        yield from self.generation.iter_chunks()

    def documents(self) -> list[DocumentRecord]:
        return self.generation.documents()

    def document_text(self, doc_id: str) -> str | None:
        return self.generation.document_text(doc_id)

    def document(self, doc_id: str) -> StoredDocument | None:
        """The indexed document: full text, title, page starts and headings (with levels)."""
        return self.generation.document(doc_id)

    def refresh(self) -> bool:
        """Switch to the newest published generation if it changed; True when it did."""
        if self.store.current_name() == self.generation.name:
            return False
        self.generation = self._open_checked()  # the old one stays valid for searches still running
        return True


def open_index(
    index_dir: str | Path | None = None,
    *,
    store: str | Store | None = None,
    model: str | Path | None = None,
    rerank: RerankSetting | None = None,
    backend: Backend | None = None,
    precision: Precision | None = None,
    settings: Settings | None = None,
) -> PolicyIndex:
    """Open a built index. Each argument given wins over `settings` (`policyqa.Settings`; None: `Settings()`, the
    defaults: nothing is read from the environment), which supplies the rest: the store (`index_dir` or `store`,
    else `settings.store`: a folder, `milvus:///path/file.db` (milvus-lite) or `http(s)://host:19530` (a Milvus
    server; docs/scale-out.md)), the model, `rerank` (default off), `backend` (default: the one the index was built
    with: queries must be embedded the same way) and `precision` (openvino; default the index's; one this CPU cannot
    run falls back to f32, which finds the same passages: BENCHMARKS.md, "Embedding backends")."""
    chosen = (settings or Settings()).with_arguments(model=model, rerank=rerank, backend=backend, precision=precision)
    location = store if store is not None else index_dir if index_dir is not None else chosen.store
    opened = open_store(location, chosen.milvus)
    return PolicyIndex(opened, chosen.embedder(opened.current_manifest(), queries_only=True), chosen.rerank)
