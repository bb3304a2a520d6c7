"""Starting the web UI: local-only by default, optional basic auth from POLICYQA_AUTH="user:password"."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from policyqa.errors import PolicyQAError

from .corpus_files import MAX_UPLOAD_BYTES
from .formatting import CSS
from .ui import build_app

AUTH_ENV = "POLICYQA_AUTH"


def auth_from_env(value: str | None = None) -> tuple[str, str] | None:
    """("user", "password") from POLICYQA_AUTH, None when unset; a malformed value is an error, not open access."""
    value = os.environ.get(AUTH_ENV) if value is None else value
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise PolicyQAError(f'{AUTH_ENV} must look like "user:password"')
    return user, password


def check_port(host: str, port: int) -> None:
    """Fail before the slow start-up, with the way out, when another program holds the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise PolicyQAError(
                f"port {port} is in use; run ./scripts/run.sh --port {port + 1} (or stop the program using it)"
            ) from exc


def serve(
    index_dir: str | Path,
    corpus_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    auth: tuple[str, str] | None = None,
) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    auth = auth or auth_from_env()
    if share and auth is None:  # a share link would let anyone upload, delete and rebuild
        raise PolicyQAError(f"--share opens the UI to the internet; set {AUTH_ENV}=user:password to require a login")
    check_port(host, port)
    demo = build_app(Path(index_dir), Path(corpus_dir))
    demo.queue(default_concurrency_limit=1)
    demo.launch(
        server_name=host,
        server_port=port,
        share=share,
        auth=auth,
        css=CSS,
        max_file_size=MAX_UPLOAD_BYTES,
        show_error=False,
        footer_links=["api", "settings"],
    )
