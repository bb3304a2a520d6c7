"""The Compare tab: the same questions asked of each document, as a grid with CSV and Markdown downloads."""

from __future__ import annotations

from typing import Any

import gradio as gr

from .assets import script
from .compare_html import grid_html
from .evidence import EvidenceHandlers
from .handlers import Handlers

PLACEHOLDER = "How long is CCTV footage kept?\nWho approves an exception?"


def compare_tab(h: Handlers, evidence: EvidenceHandlers, quiet: dict[str, Any]) -> gr.Dropdown:
    """Lays the tab out inside the current gr.Tabs and wires it; returns its document chooser (the caller fills its
    choices when the page loads and after a rebuild)."""
    with gr.Tab("Compare", id="compare"):
        with gr.Row():
            questions = gr.Textbox(
                label="Questions (one a line, up to 20)",
                placeholder=PLACEHOLDER,
                lines=3,
                scale=3,
                min_width=260,
                elem_id="compare-questions",
            )
            documents = gr.Dropdown(
                choices=[],
                value=[],
                multiselect=True,
                label="Documents (all when none is chosen)",
                scale=2,
                min_width=220,
                elem_id="compare-docs",
            )
        run = gr.Button("Compare", variant="primary", elem_id="compare-button")
        with gr.Row(elem_id="compare-downloads"):
            as_csv = gr.DownloadButton("Download CSV", visible=False, size="sm", min_width=120, elem_id="compare-csv")
            as_md = gr.DownloadButton(
                "Download Markdown", visible=False, size="sm", min_width=120, elem_id="compare-markdown"
            )
        grid = gr.HTML(grid_html([]), elem_id="compare-grid", js_on_load=script("view.js"))
        with gr.Column(visible=False, elem_id="compare-doc-panel") as panel:
            close = gr.Button("Close document", size="sm", elem_id="compare-close-document")
            image = gr.Image(visible=False, type="pil", interactive=False, elem_id="compare-page-image")
            view = gr.HTML(elem_id="compare-doc-view", js_on_load=script("document.js"))
    run.click(
        evidence.compare,
        [questions, documents],
        [grid, as_csv, as_md],
        concurrency_limit=2,
        concurrency_id="compare",
        show_progress_on=[grid],
        **quiet,
    )
    grid.click(h.view_document, None, [view, image, panel], **quiet)
    close.click(lambda: gr.Column(visible=False), None, panel, **quiet)
    return documents
