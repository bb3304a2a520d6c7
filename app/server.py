"""Starting the web UI: local-only by default, optional basic auth from POLICYQA_AUTH="user:password"."""

from __future__ import annotations

import ipaddress
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from policyqa.errors import PolicyQAError
from policyqa.sync import check_separate_folders

from .corpus_files import MAX_UPLOAD_BYTES
from .formatting import CSS
from .login_throttle import LoginThrottle
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
    if not is_loopback(host) and auth is None:  # the same holds for anyone on the network
        raise PolicyQAError(
            f"--host {host} opens the UI to other machines, and anyone who reaches it can upload, delete and rebuild; "
            f"set {AUTH_ENV}=user:password to require a login, or bind 127.0.0.1"
        )
    check_separate_folders(Path(corpus_dir), Path(index_dir))
    # Uploads land in a private folder of this server, removed when it stops; handled files are deleted at once
    # (handlers.upload) and anything left over after an hour by Gradio's cache cleaner.
    upload_dir = tempfile.mkdtemp(prefix="policyqa-uploads-")
    os.environ["GRADIO_TEMP_DIR"] = upload_dir
    demo = build_app(Path(index_dir), Path(corpus_dir))
    demo.delete_cache = (600, 3600)
    demo.queue(default_concurrency_limit=1)
    try:
        _launch(demo, host, port, share, auth)
    finally:
        shutil.rmtree(upload_dir, ignore_errors=True)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _launch(demo: Any, host: str, port: int, share: bool, auth: tuple[str, str] | None) -> None:
    from starlette.middleware import Middleware

    demo.launch(
        server_name=host,
        server_port=port,
        share=share,
        auth=auth,
        css=CSS,
        max_file_size=MAX_UPLOAD_BYTES,
        show_error=False,
        footer_links=["api", "settings"],
        app_kwargs={"middleware": [Middleware(LoginThrottle)]},
    )
