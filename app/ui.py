"""The Gradio Blocks layout: header, Ask, Search and Corpus tabs, wired to `Handlers`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from policyqa import MODES, SUPPORTED_SUFFIXES, Store

from .assets import script
from .compare_tab import compare_tab
from .corpus_files import MAX_UPLOAD_BYTES
from .evidence import EvidenceHandlers
from .formatting import chat_html, history_html
from .handlers import Handlers
from .state import AppState

REFRESH_SECONDS = 2.0  # how often an open page asks whether the watcher changed the corpus or the index
UPLOAD_LABEL = f"Add documents ({' '.join(SUPPORTED_SUFFIXES)}, up to {MAX_UPLOAD_BYTES // 2**20} MB each)"

EXAMPLES = [
    "Where was the peace agreement between the US and the Taliban signed?",
    "When was the online conference held?",
    "Who organized the conference?",
]


def build_app(index_dir: str | Path | Store, corpus_dir: Path, state: AppState | None = None) -> gr.Blocks:
    """`state`: share one AppState with the REST API (same index, same build lock)."""
    state = state or AppState(index_dir, Path(corpus_dir))
    state.warm_up()
    h = Handlers(state)
    evidence = EvidenceHandlers(state)
    quiet: dict[str, Any] = {"api_visibility": "undocumented"}
    with gr.Blocks(title="policyqa", analytics_enabled=False) as demo:
        gr.Markdown("## policyqa — questions and search over the policy corpus")
        header = gr.HTML(h.header(), elem_id="pqa-header")
        saved = gr.BrowserState([], storage_key="policyqa-history")  # this browser's questions, kept across reloads
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                turns = gr.State([])
                pending = gr.State(None)
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300):
                        chat = gr.HTML(chat_html([]), elem_id="chat", js_on_load=script("chat.js"))
                        with gr.Row():
                            question = gr.Textbox(
                                label="Question",
                                placeholder="Ask a question, or a follow-up…",
                                scale=5,
                                min_width=200,
                                elem_id="question",
                            )
                            ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask-button")
                        with gr.Row():
                            new_btn = gr.Button("New conversation", size="sm", elem_id="new-conversation")
                        with gr.Row(elem_id="export-row"):  # shown once there is an answer to export
                            exports = [
                                gr.DownloadButton(
                                    f"Export {kind}", visible=False, size="sm", min_width=80, elem_id=f"export-{ext}"
                                )
                                for kind, ext in (("Markdown", "md"), ("CSV", "csv"), ("JSON", "json"))
                            ]
                        gr.Markdown("**Example questions**")
                        with gr.Row(elem_id="examples"):
                            examples = [gr.Button(text, size="sm", min_width=160) for text in EXAMPLES]
                        with gr.Accordion("Settings", open=False, elem_id="ask-settings"):
                            ask_k = gr.Slider(1, 20, value=5, step=1, label="Passages to consider (k)")
                            ask_mode = gr.Radio(list(MODES), value="hybrid", label="Retrieval mode")
                            ask_docs = gr.Dropdown(
                                choices=[], value=[], multiselect=True, label="Only these documents (optional)"
                            )
                    with gr.Column(scale=2, min_width=300):
                        with gr.Column(visible=False, elem_id="doc-panel") as doc_panel:
                            close_btn = gr.Button("Close document", size="sm", elem_id="close-document")
                            page_image = gr.Image(
                                visible=False, type="pil", interactive=False, elem_id="page-image", show_label=True
                            )
                            doc_view = gr.HTML(elem_id="doc-view", js_on_load=script("document.js"))
                        gr.Markdown("**Your questions** (this browser; click to ask again)")
                        past = gr.HTML(history_html([]), elem_id="history", js_on_load=script("history.js"))
            with gr.Tab("Search", id="search"):
                with gr.Row():
                    query = gr.Textbox(
                        label="Search", placeholder="Words or a question…", scale=4, min_width=200, elem_id="query"
                    )
                    k = gr.Slider(1, 20, value=5, step=1, label="Number of results", scale=2, min_width=200)
                    doc_filter = gr.Dropdown(
                        choices=[],
                        value=[],
                        multiselect=True,
                        label="Only these documents (optional)",
                        scale=3,
                        min_width=200,
                    )
                search_btn = gr.Button("Search", variant="primary", elem_id="search-button")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300):
                        results = gr.HTML(elem_id="results", js_on_load=script("view.js"))
                    with gr.Column(scale=2, min_width=300, visible=False, elem_id="search-doc-panel") as search_panel:
                        search_close = gr.Button("Close document", size="sm", elem_id="search-close-document")
                        search_image = gr.Image(
                            visible=False, type="pil", interactive=False, elem_id="search-page-image", show_label=True
                        )
                        search_doc = gr.HTML(elem_id="search-doc-view", js_on_load=script("document.js"))
            compare_docs = compare_tab(h, evidence, quiet)
            with gr.Tab("Corpus", id="corpus"):
                stale = gr.HTML(elem_id="stale")
                docs = gr.HTML(elem_id="documents")
                with gr.Row():
                    with gr.Column(min_width=260):
                        upload = gr.File(
                            label=UPLOAD_LABEL,
                            file_count="multiple",
                            file_types=list(SUPPORTED_SUFFIXES),
                            type="filepath",
                            elem_id="upload",
                        )
                        auto_rebuild = gr.Checkbox(  # a watched corpus is indexed without it
                            value=False,
                            label="Rebuild the index right after adding files",
                            elem_id="auto-rebuild",
                            visible=state.watcher is None,
                        )
                    with gr.Column(min_width=260):
                        to_delete = gr.Dropdown(choices=[], label="Document to delete", elem_id="delete-choice")
                        delete_btn = gr.Button("Delete document", variant="stop", elem_id="delete-button")
                corpus_note = gr.HTML(elem_id="corpus-note")
                rebuild_btn = gr.Button("Rebuild index", variant="primary", elem_id="rebuild-button")
                report = gr.Textbox(label="Build report", lines=6, interactive=False, elem_id="build-report")

        corpus_outputs = [docs, stale, to_delete]
        ask_io: dict[str, Any] = {
            "fn": h.ask_stream if state.llm is not None else h.ask,  # streams generated text when a model is set
            "inputs": [question, ask_k, ask_mode, ask_docs, turns],
            "outputs": [chat, turns, question, pending],
            "concurrency_limit": 4,
            "concurrency_id": "ask",
            "show_progress_on": [chat],
        }
        remember: dict[str, Any] = {"fn": h.remember, "inputs": [pending, saved], "outputs": [saved, past], **quiet}
        export: dict[str, Any] = {"fn": evidence.export_conversation, "inputs": [turns], "outputs": exports, **quiet}
        ask_btn.click(**ask_io, api_name="ask").then(**remember).then(**export)
        question.submit(**ask_io, **quiet).then(**remember).then(**export)
        for button, text in zip(examples, EXAMPLES, strict=True):
            asked = button.click(lambda text=text: text, None, question, **quiet).then(**ask_io, **quiet)
            asked.then(**remember).then(**export)
        past.click(h.past_question, None, question, **quiet).then(**ask_io, **quiet).then(**remember).then(**export)
        new_btn.click(h.new_conversation, None, [chat, turns, doc_panel], **quiet).then(**export)
        chat.click(h.view_document, None, [doc_view, page_image, doc_panel], **quiet)
        close_btn.click(lambda: gr.Column(visible=False), None, doc_panel, **quiet)
        search_io: dict[str, Any] = {"fn": h.search, "inputs": [query, k, doc_filter], "outputs": [results]}
        search_io = {**search_io, "concurrency_limit": 4, "concurrency_id": "search"}
        search_btn.click(**search_io, api_name="search")
        query.submit(**search_io, **quiet)
        results.click(h.view_document, None, [search_doc, search_image, search_panel], **quiet)
        search_close.click(lambda: gr.Column(visible=False), None, search_panel, **quiet)
        corpus_quiet: dict[str, Any] = {**quiet, "show_progress_on": [corpus_note]}
        rebuild_outputs = [report, header, doc_filter, ask_docs, *corpus_outputs, corpus_note]
        upload.upload(h.upload, [upload], [corpus_note, upload, *corpus_outputs], **corpus_quiet).success(
            h.rebuild_after_upload, [auto_rebuild, corpus_note], rebuild_outputs, show_progress_on=[report], **quiet
        )
        delete_btn.click(h.delete, [to_delete], [corpus_note, *corpus_outputs], **corpus_quiet)
        rebuilt = rebuild_btn.click(
            h.rebuild, None, rebuild_outputs, api_name="rebuild", show_progress_on=[report], **quiet
        )
        shown = gr.State(None)  # the fingerprint of the corpus state this page shows (Handlers.corpus_refresh)
        load_outputs = [shown, header, doc_filter, ask_docs, past, *corpus_outputs]
        demo.load(h.on_load, [saved], load_outputs, **quiet)
        if state.watcher is not None:  # the watcher changes the index without a click: show it as it happens
            filters = [doc_filter, ask_docs, compare_docs]
            gr.Timer(REFRESH_SECONDS).tick(
                h.corpus_refresh,
                [shown, *filters, to_delete, corpus_note],
                [shown, header, *filters, docs, stale, to_delete, corpus_note],
                queue=False,  # one plain request a tick, beside the queue; no answer waits for it
                preprocess=False,  # a chosen document deleted meanwhile is no error (corpus_refresh drops it)
                **quiet,
            )
        demo.load(h.search_choices, None, compare_docs, **quiet)
        rebuilt.then(h.search_choices, None, compare_docs, **quiet)
    return demo
