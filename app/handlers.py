"""Event handlers: plain Python in, HTML or component updates out. None of them lets an exception escape."""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from policyqa import PolicyQAError
from policyqa.status import index_status

from . import formatting as fmt
from .corpus_files import CorpusFileError, add_uploads, corpus_file_ids, delete_document, remove_uploaded
from .state import AppState

log = logging.getLogger("policyqa_app")
HISTORY_LENGTH = 10
HISTORY_QUESTION_CHARS = 300  # the history shows the start of a long question, not megabytes of it


def describe(exc: BaseException) -> str:
    if isinstance(exc, PolicyQAError):
        return str(exc)
    log.exception("unexpected error in a UI handler")
    return f"Unexpected error ({type(exc).__name__}): {exc}"


def fail(exc: BaseException) -> str:
    """Tell the user (toast + returned error box); never a traceback page."""
    message = describe(exc)
    gr.Warning(fmt.esc(message))
    return fmt.message_box(message)


class Handlers:
    def __init__(self, state: AppState):
        self.state = state

    # --- header ---------------------------------------------------------------------------------
    def header(self) -> str:
        try:
            index = self.state.index
            manifest = index.manifest
            return fmt.header_html(
                len(index.documents()), len(index), manifest.get("model", {}).get("name"), manifest.get("built_at")
            )
        except PolicyQAError as exc:
            return fmt.message_box(str(exc), "warning")
        except Exception as exc:  # noqa: BLE001
            return fmt.message_box(describe(exc))

    def on_load(self) -> tuple[str, Any, str, str, Any]:
        """Page load: pick up a generation published meanwhile (e.g. by the CLI), then show the current state."""
        self.state.reload()
        return (self.header(), self.search_choices(), *self.corpus_view())

    # --- ask ------------------------------------------------------------------------------------
    def ask(self, question: str, history: list[dict[str, Any]] | None) -> tuple[str, str, list[dict[str, Any]], str]:
        history = list(history or [])
        try:
            answer = self.state.index.ask(question or "", k=5)
        except Exception as exc:  # noqa: BLE001
            return fail(exc), "", history, fmt.history_html(history)
        outcome = "not answered by the corpus" if answer.abstained else f"answered, {len(answer.citations)} source(s)"
        shown = " ".join(str(question)[: HISTORY_QUESTION_CHARS * 2].split())
        shown = shown if len(shown) <= HISTORY_QUESTION_CHARS else shown[:HISTORY_QUESTION_CHARS] + "…"
        history = (history + [{"question": shown, "outcome": outcome}])[-HISTORY_LENGTH:]
        return fmt.answer_html(answer), fmt.sources_html(answer), history, fmt.history_html(history)

    # --- search ---------------------------------------------------------------------------------
    def search(self, query: str, k: float, doc_ids: list[str] | None) -> str:
        try:
            hits = self.state.index.search(query or "", k=int(k or 5), doc_ids=list(doc_ids) if doc_ids else None)
            return fmt.hits_html(hits, f"{len(hits)} passage(s)")
        except Exception as exc:  # noqa: BLE001
            return fail(exc)

    def search_choices(self) -> Any:
        try:
            ids = [d.doc_id for d in self.state.index.documents()] if self.state.has_index else []
        except Exception:  # noqa: BLE001
            ids = []
        return gr.Dropdown(choices=ids, value=[])

    # --- corpus ---------------------------------------------------------------------------------
    def corpus_view(self) -> tuple[str, str, Any]:
        """(documents table, staleness box, delete-dropdown update)."""
        try:
            delete_choices = gr.Dropdown(choices=corpus_file_ids(self.state.corpus_dir), value=None)
            status = index_status(self.state.corpus_dir, self.state.index_dir)
        except Exception as exc:  # noqa: BLE001
            return fmt.message_box(describe(exc)), "", gr.Dropdown(choices=[], value=None)
        return documents_table(status), fmt.stale_html(status), delete_choices

    def upload(self, paths: list[str] | str | None) -> tuple[str, None, str, str, Any]:
        if isinstance(paths, str):
            paths = [paths]
        notes = []
        try:
            for saved, message in add_uploads(list(paths or []), self.state.corpus_dir):
                if saved:
                    notes.append(fmt.message_box(f"{message} Click “Rebuild index” to index it.", "ok"))
                else:
                    notes.append(fail(CorpusFileError(message)))
        except Exception as exc:  # noqa: BLE001
            notes.append(fail(exc))
        finally:
            remove_uploaded(paths or [])
        if not notes:
            notes.append(fmt.message_box("Choose one or more files to add.", "info"))
        return ("".join(notes), None, *self.corpus_view())

    def delete(self, doc_id: str | None) -> tuple[str, str, str, Any]:
        try:
            delete_document(doc_id or "", self.state.corpus_dir)
            note = fmt.message_box(f"Deleted {doc_id}. Click “Rebuild index” to remove it from the index.", "ok")
        except Exception as exc:  # noqa: BLE001
            note = fail(exc)
        return (note, *self.corpus_view())

    def rebuild(self, progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple[str, str, Any, str, str, Any]:  # noqa: B008
        lines: list[str] = []

        def say(message: str) -> None:
            lines.append(message)
            progress(None, desc=message)

        try:
            progress(0, desc="Reading the corpus and embedding changed files…")
            report = self.state.rebuild(log=say, progress=True)
            text = "\n".join(lines + [report.summary()])
        except Exception as exc:  # noqa: BLE001
            text = "\n".join(lines + [f"Rebuild failed: {describe(exc)}"])
            gr.Warning(fmt.esc(text.splitlines()[-1]))
        return (text, self.header(), self.search_choices(), *self.corpus_view())


def documents_table(status: dict[str, Any]) -> str:
    docs = status.get("documents", []) if status.get("indexed") else []
    stale = status.get("stale", {})
    removed = set(stale.get("deleted") or [])
    changed = set(stale.get("modified") or [])
    rows = []
    for d in docs:
        note = " (file removed; rebuild)" if d["doc_id"] in removed else ""
        note = note or (" (changed; rebuild)" if d["doc_id"] in changed else "")
        rows.append((d["title"], d["doc_id"], str(d["chunks"]), fmt.size(d["size"]), fmt.when(d["indexed_at"]) + note))
    rows += [("—", doc_id, "—", "—", "not indexed yet (rebuild)") for doc_id in stale.get("added") or []]
    if not rows:
        return fmt.message_box("No documents indexed.", "info")
    head = "".join(f"<th>{h}</th>" for h in ("Title", "File", "Chunks", "Size", "Indexed"))
    body = "".join("<tr>" + "".join(f"<td>{fmt.esc(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="pqa-docs"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
