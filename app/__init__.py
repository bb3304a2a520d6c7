"""The policyqa web UI (Gradio): `build_app(index_dir, corpus_dir)` and `serve(...)`."""

from .server import serve
from .ui import build_app

__all__ = ["build_app", "serve"]
