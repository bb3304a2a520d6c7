"""Evidence you can paste: the Compare tab's grid and its downloads, and the Ask tab's export of the conversation.
The library writes every format (policyqa.answer.export); this module only asks it and offers the files."""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr

from policyqa import (
    answer_json,
    answer_markdown,
    answers_csv,
    comparison_csv,
    comparison_markdown,
    conversation_json,
    conversation_markdown,
)
from policyqa.errors import QueryError

from .chat import ChatTurn
from .compare_html import grid_html
from .handlers import fail
from .state import AppState

EXPORT_LIFETIME = 3600.0  # seconds an export file is kept for its download (Gradio copies it into its cache)


class ExportFolder:
    """A private folder for export files: each written under a fresh name, files older than an hour removed, the
    folder when the server stops."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="policyqa-exports-"))
        atexit.register(shutil.rmtree, self.path, True)  # copies of what the index holds: nothing is lost
        self._lock = threading.Lock()
        self._count = 0

    def write(self, stem: str, suffix: str, text: str) -> str:
        with self._lock:
            self._prune()
            self._count += 1
            moment = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            path = self.path / f"{stem}-{moment}-{self._count}.{suffix}"
            path.write_text(text, "utf-8")
            return str(path)

    def _prune(self) -> None:
        cutoff = time.time() - EXPORT_LIFETIME
        for old in self.path.glob("*"):
            try:
                if old.stat().st_mtime < cutoff:
                    old.unlink()
            except OSError:
                pass


def questions_from(text: str | None) -> list[str]:
    """One question a line; blank lines and list bullets ("- ", "1. ") dropped."""
    lines = (re.sub(r"^\s*(?:[-*•]|\d+[.)])\s+", "", line).strip() for line in str(text or "").splitlines())
    return [line for line in lines if line]


def _hidden() -> Any:
    return gr.DownloadButton(value=None, visible=False)


def _offer(path: str) -> Any:
    return gr.DownloadButton(value=path, visible=True)


class EvidenceHandlers:
    def __init__(self, state: AppState, folder: ExportFolder | None = None):
        self.state = state
        self.folder = folder or ExportFolder()

    # --- compare --------------------------------------------------------------------------------
    def compare(self, questions: str | None, doc_ids: list[str] | None) -> tuple[str, Any, Any]:
        """(grid HTML, CSV download, Markdown download)."""
        try:
            asked = questions_from(questions)
            if not asked:
                return fail(QueryError("write one or more questions, one a line")), _hidden(), _hidden()
            index = self.state.index
            rows = index.compare(asked, list(doc_ids) if doc_ids else None)
            context = index.export_context()
            csv_path = self.folder.write("policyqa-comparison", "csv", comparison_csv(rows, context))
            md_path = self.folder.write("policyqa-comparison", "md", comparison_markdown(rows, context))
            return grid_html(rows), _offer(csv_path), _offer(md_path)
        except Exception as exc:  # noqa: BLE001
            return fail(exc), _hidden(), _hidden()

    # --- export of the conversation -------------------------------------------------------------
    def export_conversation(self, turns: list[ChatTurn] | None) -> tuple[Any, Any, Any]:
        """(Markdown, CSV, JSON downloads) of the conversation's answers; hidden while there is none."""
        answers = [t.answer for t in turns or []]
        if not answers:
            return _hidden(), _hidden(), _hidden()
        try:
            context = self.state.index.export_context()
            if len(answers) == 1:
                md, js = answer_markdown(answers[0], context), answer_json(answers[0], context)
            else:
                md, js = conversation_markdown(answers, context), conversation_json(answers, context)
            stem = "policyqa-answer" if len(answers) == 1 else "policyqa-conversation"
            return (
                _offer(self.folder.write(stem, "md", md)),
                _offer(self.folder.write(stem, "csv", answers_csv(answers, context))),
                _offer(self.folder.write(stem, "json", js)),
            )
        except Exception as exc:  # noqa: BLE001 - the conversation stays; only its export is missing
            fail(exc)
            return _hidden(), _hidden(), _hidden()
