"""policyqa: semantic search and extractive question answering with verbatim citations."""

from policyqa.answer.compare import MAX_QUESTIONS, CompareRow
from policyqa.answer.compose import REFUSAL_TEXT, UNSURE_TEXT
from policyqa.answer.conversation import ConversationTurn
from policyqa.answer.decision import answer_threshold
from policyqa.answer.export import (
    answer_json,
    answer_markdown,
    answers_csv,
    comparison_csv,
    comparison_json,
    comparison_markdown,
    conversation_json,
    conversation_markdown,
)
from policyqa.answer.page_image import render_page
from policyqa.answer.scorer import any_close_match, close_match
from policyqa.answer.types import Answer, Citation, GeneratedAnswer
from policyqa.answer.verify import verify_export
from policyqa.api import PolicyIndex, build_index, default_second_stage, open_index
from policyqa.build.background_build import BuildPriority, BuildProcess
from policyqa.build.doctor import check_index
from policyqa.build.status import DocumentRow, IndexStatus, corpus_document_ids, read_index_status
from policyqa.build.sync import BuildReport
from policyqa.build.watch import CorpusWatcher, WatchSettings, WatchStatus
from policyqa.embed.embedder import BACKENDS
from policyqa.embed.openvino_backend import PRECISIONS
from policyqa.errors import PolicyQAError
from policyqa.index.records import StoredDocument
from policyqa.index.store import Store, open_store
from policyqa.ingest.documents import SUPPORTED_SUFFIXES
from policyqa.search.evaluation import evaluate as evaluate_retrieval
from policyqa.search.evaluation import format_table as evaluation_table
from policyqa.search.evaluation import load_questions
from policyqa.search.followup import content_words
from policyqa.search.pages import page_name
from policyqa.search.retrieval import MAX_K, MAX_QUERY_CHARS, MODES, Hit, Mode
from policyqa.settings import LLMSettings, Settings

__all__ = [
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
__version__ = "0.1.0"
