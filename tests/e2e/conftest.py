"""A real `python -m policyqa_app` server on a free 127.0.0.1 port, over private copies of the corpus and index."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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


def wait_until_up(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
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
    pytest.fail(f"the server did not answer within {START_TIMEOUT:.0f} s:\n{log.read_text(errors='replace')[-4000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, bundled_index: Path) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("server")
    corpus, index = root / "corpus", root / "index"
    shutil.copytree(BUNDLED_CORPUS, corpus)
    shutil.copytree(bundled_index, index, ignore=shutil.ignore_patterns("lock"))
    port = free_port()
    log = root / "server.log"
    env = {k: v for k, v in os.environ.items() if k != "POLICYQA_AUTH"}
    env.update(HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "policyqa_app", "--index", str(index), "--corpus", str(corpus)]
    with log.open("wb") as out:
        proc = subprocess.Popen([*command, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, proc, log)
        yield Server(url, corpus, index, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
