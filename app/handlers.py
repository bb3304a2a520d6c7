"""Event handlers: plain Python in, HTML or component updates out. None of them lets an exception escape."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

import gradio as gr

from policyqa import (
    MODES,
    ConversationTurn,
    Mode,
    PolicyIndex,
    PolicyQAError,
    StoredDocument,
    answer_threshold,
    corpus_document_ids,
    page_name,
    read_index_status,
    render_page,
)

from . import formatting as fmt
from .chat import ChatTurn, shown_question
from .corpus_files import CorpusFileError, add_uploads, delete_document, remove_uploaded
from .corpus_html import documents_table, stale_html, watch_box
from .generated_html import StreamFrame, generated_answer_html, streaming_html
from .sources_html import Place, hits_html, sources_html, sources_label
from .state import AppState

log = logging.getLogger("policyqa_app")
HISTORY_LENGTH = 20  # questions remembered per browser
MAX_TURNS = 20  # turns kept in one conversation
REBUILD_HINT = " Click “Rebuild index” to index it."
WATCH_HINT = " It is indexed in a few seconds."  # the corpus watcher sees the new file
WATCH_DELETE_HINT = " In a few seconds it leaves the index."
WATCH_DONE = " The corpus watcher has brought the index up to date."  # replaces both once it has


def _mode(value: str) -> Mode:
    if value not in MODES:
        raise PolicyQAError(f"unknown retrieval mode '{value}' (choose one of: {', '.join(MODES)})")
    return value  # type: ignore[return-value]


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
            model = manifest.get("model", {})
            # The precision vectors were computed in is part of what a reader may want to check (bf16 vs f32).
            label = f"{model.get('name')} ({model.get('backend')}, {model.get('precision') or 'unrecorded'})"
            return fmt.header_html(len(index.documents()), len(index), label, manifest.get("built_at"))
        except PolicyQAError as exc:
            return fmt.message_box(str(exc), "warning")
        except Exception as exc:  # noqa: BLE001
            return fmt.message_box(describe(exc))

    def on_load(self, history: list[dict[str, Any]] | None = None) -> tuple[Any, ...]:
        """Page load: pick up a generation published meanwhile (e.g. by the CLI), then show the current state; first
        the fingerprint of what is shown (`corpus_refresh`), taken before it: a change meanwhile shows at the next
        tick."""
        seen = self.state.corpus_fingerprint()
        self.state.reload()
        choices = self.search_choices()
        history_box = fmt.history_html(list(history or []))
        return (seen, self.header(), choices, choices, history_box, *self.corpus_view())

    # --- ask: a conversation -------------------------------------------------------------------
    def ask(
        self,
        question: str,
        k: float = 5,
        mode: str = "hybrid",
        doc_ids: list[str] | None = None,
        turns: list[ChatTurn] | None = None,
    ) -> tuple[str, list[ChatTurn], str, dict[str, str] | None]:
        """(conversation HTML, turns, question box, entry for the browser's history or None)."""
        *_, last = self.ask_stream(question, k, mode, doc_ids, turns, generate=False)
        return last

    def ask_stream(
        self,
        question: str,
        k: float = 5,
        mode: str = "hybrid",
        doc_ids: list[str] | None = None,
        turns: list[ChatTurn] | None = None,
        generate: bool = True,
    ) -> Iterator[tuple[str, list[ChatTurn], str, dict[str, str] | None]]:
        """`ask` as a stream of the same outputs. With a language model configured (and `generate`), the turn shows
        its sources first, then the generated text as it streams, then the checked answer (or the quoted one,
        saying why)."""
        turns = list(turns or [])
        try:
            index = self.state.index
            top_k, chosen, how = int(k or 5), list(doc_ids) if doc_ids else None, _mode(mode)
            previous = turns[-1].asked if turns else None
            asked = index.ask_followup(str(question or ""), previous, top_k, chosen, mode=how)
        except Exception as exc:  # noqa: BLE001
            yield fmt.chat_html(turns) + fail(exc), turns, question, None
            return
        answer = asked.answer
        n = turns[-1].n + 1 if turns else 0  # keeps citation ids unique past MAX_TURNS
        sources = sources_html(answer, n, self._place(index), answer_threshold())
        final, answer_html = answer, fmt.answer_html(answer, n)
        if generate and self.state.llm is not None and not answer.abstained:
            waiting = _chat_turn(n, asked, streaming_html(""), sources)
            frame = StreamFrame(fmt.chat_html([*turns, waiting]))  # updates that only append: Gradio sends the new part
            yield frame.html(""), turns, "", None  # the sources show while the model writes
            try:
                for item in index.stream_generated(answer, self.state.llm):
                    if isinstance(item, str):
                        if frame.due():
                            yield frame.html(item), turns, "", None
                    else:
                        final = item
            except Exception as exc:  # noqa: BLE001 - the quoted answer still stands
                final = answer
                log.warning("generation failed: %s", describe(exc))
            answer_html = generated_answer_html(final, n)
        turn = _chat_turn(n, replace(asked, answer=final), answer_html, sources)
        turns = [*turns, turn][-MAX_TURNS:]
        # a follow-up is saved as searched ("and who organised it? (online conference)"): asked again alone, the
        # question as typed would mean nothing
        yield fmt.chat_html(turns), turns, "", {"question": shown_question(asked.query), "outcome": turn.outcome}

    @staticmethod
    def _place(index: PolicyIndex) -> Place:
        """(doc_id, offset) -> (document title, section path at the offset), one document read per document."""
        documents: dict[str, StoredDocument | None] = {}

        def place(doc_id: str, offset: int) -> tuple[str, list[str]] | None:
            if doc_id not in documents:
                documents[doc_id] = index.document(doc_id)
            doc = documents[doc_id]
            return None if doc is None else (doc.title, doc.heading_path(offset))

        return place

    def remember(
        self, entry: dict[str, str] | None, history: list[dict[str, Any]] | None
    ) -> tuple[list[dict[str, Any]], str]:
        history = list(history or [])
        if entry:
            history = (history + [entry])[-HISTORY_LENGTH:]
        return history, fmt.history_html(history)

    def new_conversation(self) -> tuple[str, list[ChatTurn], Any]:
        return fmt.chat_html([]), [], gr.Column(visible=False)

    @staticmethod
    def past_question(evt: gr.EventData) -> str:
        return str((getattr(evt, "_data", None) or {}).get("question") or "")

    # --- a source in its document ---------------------------------------------------------------
    def view_document(self, evt: gr.EventData) -> tuple[str, Any, Any]:
        """(document HTML scrolled to the span, PDF page image update, panel update)."""
        data = getattr(evt, "_data", None) or {}
        hidden = gr.update(value=None, visible=False)
        try:
            doc_id, start, end = str(data["doc"]), int(data["start"]), int(data["end"])
            doc = self.state.index.document(doc_id)
            if doc is None:
                raise PolicyQAError(f"'{doc_id}' is no longer in the index")
            path = tuple(doc.heading_path(start))
            if not doc.page_starts:
                html = fmt.document_html(doc_id, doc.title, doc.text, start, end, path=path)
                return html, hidden, gr.update(visible=True)
            page = doc.page_at(start) or 1  # 0 for an offset before the first page: show the first
            first, last = doc.page_bounds(page)
            label = doc.page_label(page)
            where = f"{page_name(page, label)} of {len(doc.page_starts)}"
            end = min(end, last)  # a span running onto the next page is marked up to this page's end
            html = fmt.document_html(doc_id, doc.title, doc.text[first:last], start, end, first, where, path)
            if page in doc.ocr_pages:
                ocr_note = "This page has no text layer: its text was read by OCR and may hold recognition errors."
                html = fmt.message_box(ocr_note, "info") + html
            image = hidden
            if doc_id.lower().endswith(".pdf"):
                try:
                    shown = render_page(self._corpus_file(doc_id), page, doc.text[start:end])
                    image = gr.update(value=shown.image, visible=True, label=f"{doc_id} · {page_name(page, label)}")
                    if shown.note:
                        html = fmt.message_box(shown.note, "info") + html
                except Exception as exc:  # noqa: BLE001 - the text is still shown
                    html = fmt.message_box(f"The page image cannot be shown: {describe(exc)}", "warning") + html
            return html, image, gr.update(visible=True)
        except (KeyError, TypeError, ValueError):
            return fmt.message_box("No source chosen."), hidden, gr.update(visible=True)
        except Exception as exc:  # noqa: BLE001
            return fail(exc), hidden, gr.update(visible=True)

    def _corpus_file(self, doc_id: str) -> Path:
        root = self.state.corpus_dir.resolve()
        path = root.joinpath(*PurePosixPath(doc_id).parts).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise PolicyQAError(f"'{doc_id}' is not in the corpus folder any more")
        return path

    # --- search ---------------------------------------------------------------------------------
    def search(self, query: str, k: float, doc_ids: list[str] | None) -> str:
        try:
            index = self.state.index
            hits = index.search(query or "", k=int(k or 5), doc_ids=list(doc_ids) if doc_ids else None)
            return hits_html(hits, str(query or ""), self._place(index))
        except Exception as exc:  # noqa: BLE001
            return fail(exc)

    def search_choices(self) -> Any:
        return gr.Dropdown(choices=self._indexed_ids(), value=[], multiselect=True)  # multiselect: no warning for []

    def _indexed_ids(self) -> list[str]:
        try:
            return [d.doc_id for d in self.state.index.documents()] if self.state.has_index else []
        except Exception:  # noqa: BLE001
            return []

    # --- corpus ---------------------------------------------------------------------------------
    def corpus_view(self, chosen: str | None = None) -> tuple[str, str, Any]:
        """(documents table, staleness box, delete-dropdown update keeping `chosen` while it is still there)."""
        return self._corpus_view(chosen)[:3]

    def _corpus_view(self, chosen: str | None = None) -> tuple[str, str, Any, bool]:
        """`corpus_view` and whether the watcher is idle with the index up to date with the folder."""
        try:
            files = corpus_document_ids(self.state.corpus_dir)
            delete_choices = gr.Dropdown(choices=files, value=chosen if chosen in files else None)
            status = read_index_status(self.state.corpus_dir, self.state.store, settings=self.state.settings)
        except Exception as exc:  # noqa: BLE001
            return fmt.message_box(describe(exc)), "", gr.Dropdown(choices=[], value=None), False
        watch = self.state.watch_status()
        stale = stale_html(status) if watch is None else watch_box(watch) + stale_html(status, watch)
        settled = watch is not None and watch.state == "idle" and status.indexed and not status.stale.is_stale
        return documents_table(status, watched=watch is not None), stale, delete_choices, settled

    def corpus_refresh(
        self, seen: Any, search_docs: Any, ask_docs: Any, compare_docs: Any, to_delete: Any, note: Any = None
    ) -> Any:
        """A timer's tick while the watcher keeps the index: gr.skip() (nothing sent to the page, nothing re-drawn)
        while the state's fingerprint is the one this page shows, else (fingerprint, header, the Search, Ask and
        Compare document filters keeping what is still chosen, table, staleness and watcher box, delete dropdown,
        the upload or delete note saying the watcher is done once it is). Its inputs arrive unprocessed: a chosen
        document deleted meanwhile is dropped here, not an error. An error shows in the staleness box, once (the
        fingerprint is kept), never as a traceback."""
        now = self.state.corpus_fingerprint()
        if now == seen:
            return gr.skip()
        try:
            ids, chosen_filters = self._indexed_ids(), (search_docs, ask_docs, compare_docs)
            filters = [gr.Dropdown(choices=ids, value=_still_chosen(c, ids), multiselect=True) for c in chosen_filters]
            chosen = to_delete if isinstance(to_delete, str) else None
            *view, settled = self._corpus_view(chosen)
            done = _settled(note) if settled else None
            return (now, self.header(), *filters, *view, gr.skip() if done is None else done)
        except Exception as exc:  # noqa: BLE001
            problem = fmt.message_box(f"The Corpus tab could not be refreshed: {describe(exc)}", "warning")
            return (now, *[gr.skip()] * 5, problem, gr.skip(), gr.skip())

    def upload(self, paths: list[str] | str | None) -> tuple[str, None, str, str, Any]:
        if isinstance(paths, str):
            paths = [paths]
        notes = []
        try:
            for saved, message in add_uploads(list(paths or []), self.state.corpus_dir):
                if saved:
                    hint = REBUILD_HINT if self.state.watcher is None else WATCH_HINT
                    notes.append(fmt.message_box(f"{message}{hint}", "ok"))
                else:
                    notes.append(fail(CorpusFileError(message)))
        except Exception as exc:  # noqa: BLE001
            notes.append(fail(exc))
        finally:
            remove_uploaded(paths or [])
        if not notes:
            notes.append(fmt.message_box("Choose one or more files to add.", "info"))
        return ("".join(notes), None, *self.corpus_view())

    def rebuild_after_upload(
        self,
        wanted: bool,
        note: str | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Any:
        """The optional rebuild right after an upload (skipped unless the box is ticked); the upload's notes stay,
        saying the files are indexed now."""
        if not wanted or self.state.watcher is not None:  # a watched corpus is indexed without a click
            return gr.skip()
        built, (*outputs, _) = self._rebuild(progress)
        if built:
            note = (note or "").replace(REBUILD_HINT, " Indexed.")
        return (*outputs, note)

    def delete(self, doc_id: str | None) -> tuple[str, str, str, Any]:
        try:
            delete_document(doc_id or "", self.state.corpus_dir)
            watched = self.state.watcher is not None
            then = WATCH_DELETE_HINT if watched else " Click “Rebuild index” to remove it from the index."
            note = fmt.message_box(f"Deleted {doc_id}.{then}", "ok")
        except Exception as exc:  # noqa: BLE001
            note = fail(exc)
        return (note, *self.corpus_view())

    def rebuild(
        self,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008
    ) -> tuple[str, str, Any, Any, str, str, Any, str]:
        """(report, header, search documents, ask documents, table, staleness, delete choices, cleared note)."""
        return self._rebuild(progress)[1]

    def _rebuild(self, progress: gr.Progress) -> tuple[bool, tuple[str, str, Any, Any, str, str, Any, str]]:
        """(whether the index was rebuilt, `rebuild`'s outputs)."""
        lines: list[str] = []
        built = False

        def say(message: str) -> None:
            lines.extend(message.splitlines())
            progress(None, desc=message)

        try:
            progress(0, desc="Reading the corpus and embedding changed files…")
            report = self.state.rebuild(log=say, progress=True)
            text = "\n".join(_once(lines + report.summary().splitlines()))
            built = True
        except Exception as exc:  # noqa: BLE001
            text = "\n".join(lines + [f"Rebuild failed: {describe(exc)}"])
            gr.Warning(fmt.esc(text.splitlines()[-1]))
        choices = self.search_choices()
        return built, (text, self.header(), choices, choices, *self.corpus_view(), "")


def _settled(note: Any) -> str | None:
    """An upload or delete note whose promise the watcher has kept, saying so; None when it promised nothing."""
    if not isinstance(note, str) or (WATCH_HINT not in note and WATCH_DELETE_HINT not in note):
        return None
    return note.replace(WATCH_HINT, WATCH_DONE).replace(WATCH_DELETE_HINT, WATCH_DONE)


def _still_chosen(chosen: Any, ids: list[str]) -> list[str]:
    """The documents of a filter's raw value that are still indexed."""
    return [c for c in chosen if c in ids] if isinstance(chosen, list) else []


def _once(lines: list[str]) -> list[str]:
    """Lines without repeats: the build log and the summary name the same skipped file."""
    seen: set[str] = set()
    kept = []
    for line in lines:
        key = " ".join(line.split()).lower().removeprefix("warning:").strip()
        if key and key in seen:
            continue
        seen.add(key)
        kept.append(line)
    return kept


def _chat_turn(n: int, asked: ConversationTurn, answer_html: str, sources: str) -> ChatTurn:
    label, opened = sources_label(asked.answer)
    return ChatTurn(n, asked, answer_html, sources, label, opened)
