"""The public surface: what `import policyqa` offers the interfaces (CLI, web app, REST, MCP) and other callers.

A name joins or leaves it on purpose: the list below says exactly what is public, and each name is a real object.
"""

from __future__ import annotations

import dataclasses

import policyqa

PUBLIC = [
    "BACKENDS",
    "MAX_K",
    "MAX_QUERY_CHARS",
    "MAX_QUESTIONS",
    "MODES",
    "PRECISIONS",
    "REFUSAL_TEXT",
    "SUPPORTED_SUFFIXES",
    "UNSURE_TEXT",
    "Answer",
    "BuildPriority",
    "BuildProcess",
    "BuildReport",
    "Citation",
    "CompareRow",
    "ConversationTurn",
    "CorpusWatcher",
    "DocumentRow",
    "GeneratedAnswer",
    "Hit",
    "IndexStatus",
    "LLMSettings",
    "Mode",
    "PolicyIndex",
    "PolicyQAError",
    "Settings",
    "Store",
    "StoredDocument",
    "WatchSettings",
    "WatchStatus",
    "answer_json",
    "answer_markdown",
    "answer_threshold",
    "answers_csv",
    "any_close_match",
    "build_index",
    "check_index",
    "close_match",
    "comparison_csv",
    "comparison_json",
    "comparison_markdown",
    "content_words",
    "conversation_json",
    "conversation_markdown",
    "corpus_document_ids",
    "default_second_stage",
    "evaluate_retrieval",
    "evaluation_table",
    "load_questions",
    "open_index",
    "open_store",
    "page_name",
    "read_index_status",
    "render_page",
    "verify_export",
]
TYPES = ["Answer", "Citation", "CompareRow", "ConversationTurn", "DocumentRow", "IndexStatus", "StoredDocument"]


def test_the_public_names_are_exactly_these() -> None:
    assert policyqa.__all__ == PUBLIC


def test_the_list_is_sorted_constants_then_classes_then_functions() -> None:
    def kind(name: str) -> int:
        return 0 if name.isupper() else 1 if name[0].isupper() else 2

    assert sorted(PUBLIC, key=lambda name: (kind(name), name)) == PUBLIC


def test_each_public_name_resolves() -> None:
    missing = [name for name in PUBLIC if getattr(policyqa, name, None) is None]
    assert not missing
    namespace: dict[str, object] = {}
    exec("from policyqa import *", namespace)  # noqa: S102 - `import *` honours __all__
    assert set(PUBLIC) <= set(namespace)


def test_the_typed_reads_are_frozen_dataclasses() -> None:
    for name in TYPES:
        cls = getattr(policyqa, name)
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, name  # type: ignore[attr-defined]
