"""A real `policyqa_app` server configured with a real LLM server: generated answers through the REST API, and
streamed through the UI's own HTTP API (what the browser uses)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import DOHA_QUESTION
from tests.e2e.conftest import Server, bundled_copy, free_port, running_app
from tests.llm_server import API_KEY, LLMServer, llm_server


@pytest.fixture(scope="module")
def llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LLMServer]:
    with llm_server(tmp_path_factory.mktemp("llm"), free_port()) as running:
        yield running


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory, bundled_index: Path, llm: LLMServer) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("genapp")
    corpus, index = bundled_copy(root, bundled_index)
    log = root / "server.log"
    env = {"POLICYQA_LLM_API_KEY": API_KEY, "POLICYQA_LLM_TIMEOUT": "120"}
    args = ["--llm-url", llm.url, "--llm-model", "gemma-270m"]
    with running_app(corpus, index, log, env, args) as running:
        yield running
    text = log.read_text(errors="replace")
    assert "Traceback" not in text and API_KEY not in text  # the key is never logged


def test_rest_ask_reports_how_the_answer_was_made(app_server: Server) -> None:
    with httpx.Client(base_url=app_server.url + "api/v1", timeout=300) as api:
        assert api.get("/status").json()["llm"].startswith("gemma-270m at http://127.0.0.1:")
        body = api.post("/ask", json={"question": DOHA_QUESTION}).json()
        generation = body["generation"]
        assert body["state"] == "answered" and generation["model"] == "gemma-270m" and generation["sentences"]
        assert generation["source"] in ("generated", "quoted") and "Doha" in generation["quoted_text"]
        if generation["source"] == "quoted":
            assert body["text"] == generation["quoted_text"] and "quoted answer" in generation["fallback"]
        else:
            kept = [s for s in generation["sentences"] if s["supported"]]
            assert kept and all(s["text"] in body["text"] for s in kept)
        assert api.post("/ask", json={"question": DOHA_QUESTION, "generate": False}).json()["generation"] is None
        refused = api.post("/ask", json={"question": "What is the recipe for a chocolate cake?"}).json()
        assert refused["state"] == "refused" and refused["generation"] is None


def test_the_ui_streams_the_generated_text_then_shows_the_check(app_server: Server) -> None:
    from gradio_client import Client

    job = Client(app_server.url, verbose=False).submit(DOHA_QUESTION, 5, "hybrid", [], api_name="/ask")
    final = job.result(timeout=300)
    outputs = job.outputs()
    assert len(outputs) >= 2, outputs  # intermediate states were streamed before the final answer
    assert "generating from quotes" in outputs[0][0] and 'id="cite-0-1"' in outputs[0][0]  # sources show first
    chat_html = final[0]
    assert 'data-origin="generated"' in chat_html or "data-fallback" in chat_html
    assert "Sentence check" in chat_html and 'id="cite-0-1"' in chat_html
