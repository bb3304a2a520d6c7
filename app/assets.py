"""The UI's stylesheet and scripts, kept as files in app/static/ (package data) rather than in Python strings."""

from __future__ import annotations

from functools import cache
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
STYLESHEET = STATIC / "policyqa.css"  # given to Gradio's launch(css_paths=...), which serves it with the page


@cache
def script(name: str) -> str:
    """A component's js_on_load code (it runs with `element`, `trigger` and `watch` in scope)."""
    return (STATIC / name).read_text("utf-8")
