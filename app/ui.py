"""The Gradio Blocks layout: header, Ask, Search and Corpus tabs, wired to `Handlers`."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from policyqa.documents import SUPPORTED_SUFFIXES

from .formatting import CITE_JS, history_html
from .handlers import Handlers
from .state import AppState

EXAMPLES = [
    "Where was the peace agreement between the US and the Taliban signed?",
    "When was the online conference held?",
    "Who organized the conference?",
]


def build_app(index_dir: Path, corpus_dir: Path, state: AppState | None = None) -> gr.Blocks:
    """`state`: share one AppState with the REST API (same index, same build lock)."""
    state = state or AppState(Path(index_dir), Path(corpus_dir))
    state.warm_up()
    h = Handlers(state)
    with gr.Blocks(title="policyqa", analytics_enabled=False) as demo:
        gr.Markdown("## policyqa — questions and search over the policy corpus")
        header = gr.HTML(h.header(), elem_id="pqa-header")
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                history = gr.State([])
                with gr.Row():
                    question = gr.Textbox(
                        label="Question", placeholder="Ask a question about the documents…", scale=5, elem_id="question"
                    )
                    ask_btn = gr.Button("Ask", variant="primary", scale=1, elem_id="ask-button")
                gr.Examples(EXAMPLES, inputs=[question], label="Example questions")
                with gr.Row():
                    with gr.Column(scale=4):
                        answer = gr.HTML(elem_id="answer", js_on_load=CITE_JS)
                        sources = gr.HTML(elem_id="sources")
                    with gr.Column(scale=1, min_width=220):
                        gr.Markdown("**This session's questions**")
                        past = gr.HTML(history_html([]), elem_id="history")
            with gr.Tab("Search", id="search"):
                with gr.Row():
                    query = gr.Textbox(label="Search", placeholder="Words or a question…", scale=4, elem_id="query")
                    k = gr.Slider(1, 20, value=5, step=1, label="Number of results", scale=2)
                    doc_filter = gr.Dropdown(
                        choices=[], value=[], multiselect=True, label="Only these documents (optional)", scale=3
                    )
                search_btn = gr.Button("Search", variant="primary", elem_id="search-button")
                results = gr.HTML(elem_id="results")
            with gr.Tab("Corpus", id="corpus"):
                stale = gr.HTML(elem_id="stale")
                docs = gr.HTML(elem_id="documents")
                with gr.Row():
                    with gr.Column():
                        upload = gr.File(
                            label="Add documents (.txt .md .pdf .docx .html, up to 20 MB each)",
                            file_count="multiple",
                            file_types=list(SUPPORTED_SUFFIXES),
                            type="filepath",
                            elem_id="upload",
                        )
                    with gr.Column():
                        to_delete = gr.Dropdown(choices=[], label="Document to delete", elem_id="delete-choice")
                        delete_btn = gr.Button("Delete document", variant="stop", elem_id="delete-button")
                corpus_note = gr.HTML(elem_id="corpus-note")
                rebuild_btn = gr.Button("Rebuild index", variant="primary", elem_id="rebuild-button")
                report = gr.Textbox(label="Build report", lines=6, interactive=False, elem_id="build-report")

        corpus_outputs = [docs, stale, to_delete]
        ask_fn = h.ask_stream if state.llm is not None else h.ask  # streams generated text when a model is set
        ask_io = {"fn": ask_fn, "inputs": [question, history], "outputs": [answer, sources, history, past]}
        ask_io = {**ask_io, "concurrency_limit": 4, "concurrency_id": "ask", "show_progress_on": [answer]}
        ask_btn.click(**ask_io, api_name="ask")
        question.submit(**ask_io, api_visibility="undocumented")
        search_io = {"fn": h.search, "inputs": [query, k, doc_filter], "outputs": [results]}
        search_io = {**search_io, "concurrency_limit": 4, "concurrency_id": "search"}
        search_btn.click(**search_io, api_name="search")
        query.submit(**search_io, api_visibility="undocumented")
        quiet = {"api_visibility": "undocumented", "show_progress_on": [corpus_note]}
        upload.upload(h.upload, [upload], [corpus_note, upload, *corpus_outputs], **quiet)
        delete_btn.click(h.delete, [to_delete], [corpus_note, *corpus_outputs], **quiet)
        rebuild_outputs = [report, header, doc_filter, *corpus_outputs]
        rebuild_btn.click(h.rebuild, None, rebuild_outputs, api_visibility="undocumented", show_progress_on=[report])
        demo.load(h.on_load, None, [header, doc_filter, *corpus_outputs], api_visibility="undocumented")
    return demo
