"""A real `python -m policyqa_app` server on a free 127.0.0.1 port, over private copies of the corpus and index."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BUNDLED_CORPUS

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
START_TIMEOUT = 180.0


@dataclass
class Server:
    url: str
    corpus: Path
    index: Path
    log: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(
    url: str | urllib.request.Request, proc: subprocess.Popen, log: Path, timeout: float = START_TIMEOUT
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with code {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"the server did not answer within {timeout:.0f} s:\n{log.read_text(errors='replace')[-4000:]}")


@contextmanager
def running_app(
    corpus: Path,
    index: Path,
    log: Path,
    env: dict[str, str] | None = None,
    args: Sequence[str] = (),
    ready: str = "",
    watch: bool = False,
) -> Iterator[Server]:
    """`python -m policyqa_app` on a free port of 127.0.0.1 (env: the test's own, less POLICYQA_AUTH, plus `env`),
    up once `ready` (a path below the root URL) answers 200; stopped on exit. Without `watch` it runs with
    --no-watch: the tests of uploads, deletes and builds by hand must not race the corpus watcher."""
    port = free_port()
    args = [*args] if watch else ["--no-watch", *args]
    full_env = {k: v for k, v in os.environ.items() if k != "POLICYQA_AUTH"}
    full_env.update(HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1", **(env or {}))
    command = [sys.executable, "-m", "policyqa_app", "--index", str(index), "--corpus", str(corpus)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*command, "--port", str(port), *args], stdout=out, stderr=subprocess.STDOUT, env=full_env
        )
    url = f"http://127.0.0.1:{port}/"
    with stopped_at_exit(proc):
        wait_until_up(url + ready, proc, log)
        yield Server(url, corpus, index, log)


@contextmanager
def stopped_at_exit(proc: subprocess.Popen) -> Iterator[subprocess.Popen]:
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def bundled_copy(root: Path, bundled_index: Path) -> tuple[Path, Path]:
    """A private copy of the bundled corpus and its built index under `root`: a server may change both."""
    corpus, index = root / "corpus", root / "index"
    shutil.copytree(BUNDLED_CORPUS, corpus)
    shutil.copytree(bundled_index, index, ignore=shutil.ignore_patterns("lock"))
    return corpus, index


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, bundled_index: Path) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("server")
    corpus, index = bundled_copy(root, bundled_index)
    with running_app(corpus, index, root / "server.log") as running:
        yield running


@contextmanager
def api_with_login(root: Path, bundled_index: Path, auth: tuple[str, str]) -> Iterator[Server]:
    """A server over a private bundled copy that requires `auth`; its URL without the trailing slash. Its log must
    hold no traceback when it stops."""
    corpus, index = bundled_copy(root, bundled_index)
    log = root / "server.log"
    with running_app(corpus, index, log, {"POLICYQA_AUTH": ":".join(auth)}) as running:
        yield Server(running.url.rstrip("/"), corpus, index, log)
    assert "Traceback" not in log.read_text(errors="replace")


def login_api_fixtures(name: str, auth: tuple[str, str]) -> tuple[Any, Any]:
    """A module's `api_server` (one server with a login for the whole module) and `api` (an httpx client of its
    /api/v1 with that login): `api_server, api = login_api_fixtures("rest", AUTH)` at the top of a test module."""

    @pytest.fixture(scope="module")
    def api_server(tmp_path_factory: pytest.TempPathFactory, bundled_index: Path) -> Iterator[Server]:
        with api_with_login(tmp_path_factory.mktemp(name), bundled_index, auth) as running:
            yield running

    @pytest.fixture
    def api(api_server: Server) -> Iterator[Any]:
        import httpx

        with httpx.Client(base_url=f"{api_server.url}/api/v1", auth=auth, timeout=120) as client:
            yield client

    return api_server, api


def error_of(response: Any, *statuses: int) -> str:
    """The message of a REST error response whose status is one of `statuses`, checked to be well formed."""
    assert response.status_code in statuses, response.text
    body = response.json()
    assert body["status"] == response.status_code and body["message"], body
    return body["message"]
