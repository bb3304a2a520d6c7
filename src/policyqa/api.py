"""The facade: build_index, open_index → PolicyIndex (search, ask, chunks, len, documents, refresh)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from policyqa.answer import REFUSAL_THRESHOLD, compose_answer
from policyqa.answer_types import Answer
from policyqa.embedding import Embedder
from policyqa.errors import ModelMismatchError
from policyqa.retrieval import Hit, Mode, check_k, clean_query, retrieve
from policyqa.store import ChunkRecord, DocumentRecord, Generation, current_generation_name
from policyqa.sync import build_index

__all__ = ["PolicyIndex", "build_index", "open_index"]


class PolicyIndex:
    """A searchable index. Holds one generation; `refresh()` switches to a newer published one."""

    def __init__(self, index_dir: Path, embedder: Embedder):
        self.index_dir = index_dir
        self.embedder = embedder
        self._encode_lock = threading.Lock()
        self.generation = self._open_checked()

    def _open_checked(self) -> Generation:
        generation = Generation.open_current(self.index_dir)
        built_with = generation.manifest.get("model", {})
        if built_with != self.embedder.identity:
            generation.close()
            raise ModelMismatchError(
                f"the index in '{self.index_dir}' was built with model '{built_with.get('name')}' "
                f"({built_with.get('dimension')}-d), but the configured model is "
                f"'{self.embedder.identity['name']}' ({self.embedder.identity['dimension']}-d); "
                f"run `policyqa build --index {self.index_dir}` to rebuild it with the configured model"
            )
        return generation

    def __len__(self) -> int:
        return len(self.generation)

    @property
    def manifest(self) -> dict[str, Any]:
        return self.generation.manifest

    def search(self, query: str, k: int = 5, doc_ids: list[str] | None = None, mode: Mode = "hybrid") -> list[Hit]:
        """Ranked chunks: `mode` is "hybrid" (dense + BM25, fused), "dense" or "bm25"."""
        text = clean_query(query)
        k = check_k(k)
        generation = self.generation  # one consistent generation for the whole call
        vector = None if mode == "bm25" else self.encode_query(text)
        return retrieve(generation, text, vector, k, doc_ids, mode)

    def ask(
        self,
        question: str,
        k: int = 5,
        doc_ids: list[str] | None = None,
        *,
        mode: Mode = "hybrid",
        threshold: float | None = None,
    ) -> Answer:
        """An extractive answer with verbatim citations, or a refusal with the nearest material.

        `threshold` overrides the calibrated minimum evidence score (REFUSAL_THRESHOLD) below which it refuses.
        """
        started = time.perf_counter()
        text = clean_query(question)
        k = check_k(k)
        generation = self.generation
        vector = self.encode_query(text)
        hits = retrieve(generation, text, vector, k, doc_ids, mode)
        limit = REFUSAL_THRESHOLD if threshold is None else threshold
        answer = compose_answer(text, vector, hits, generation, self.encode_texts, limit)
        return replace(answer, seconds=time.perf_counter() - started)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_texts([text])[0]

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        with self._encode_lock:
            return self.embedder.encode(texts)

    def chunks(self) -> Iterator[ChunkRecord]:
        yield from self.generation.iter_chunks()

    def documents(self) -> list[DocumentRecord]:
        return self.generation.documents()

    def document_text(self, doc_id: str) -> str | None:
        return self.generation.document_text(doc_id)

    def refresh(self) -> bool:
        """Switch to the newest published generation if it changed; True when it did."""
        if current_generation_name(self.index_dir) == self.generation.path.name:
            return False
        self.generation = self._open_checked()  # the old one stays valid for searches still running
        return True


def open_index(index_dir: str | Path = "index", *, model: str | Path | None = None) -> PolicyIndex:
    return PolicyIndex(Path(index_dir), Embedder(model))
