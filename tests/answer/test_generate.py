"""Generated answers against a real OpenAI-compatible server (llama.cpp's, Gemma 3 270M): protocol, streaming,
per-sentence checks, fallbacks, timeouts, and that refusals stay refusals. Not answer quality."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from policyqa import open_index
from policyqa.answer.claims import check_answer
from policyqa.answer.compose import REFUSAL_TEXT
from policyqa.answer.generate import LLMError, LLMSettings, generate_stream, stream_chat
from tests.conftest import DOHA_QUESTION
from tests.e2e.conftest import free_port
from tests.llm_server import API_KEY, LLMServer, llm_server

OFF_TOPIC = "What is the recipe for a chocolate cake?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LLMServer]:
    with llm_server(tmp_path_factory.mktemp("llm"), free_port()) as running:
        yield running


@pytest.fixture(scope="module")
def llm(server: LLMServer) -> LLMSettings:
    return LLMSettings(server.url, "gemma-270m", timeout=120, max_tokens=120, api_key=API_KEY)


@pytest.fixture(scope="module")
def index(bundled_index: Path):
    return open_index(bundled_index)


def test_settings_name_the_endpoint_and_hide_the_key() -> None:
    """Where they come from (flags, then POLICYQA_LLM_*): tests/test_settings.py."""
    settings = LLMSettings("http://127.0.0.1:9/v1", "m", 7, api_key="k-123")
    assert settings.endpoint == "http://127.0.0.1:9/v1/chat/completions" and "k-123" not in repr(settings)
    with pytest.raises(Exception, match="http"):
        LLMSettings("ftp://x")


def test_stream_chat_streams_pieces_over_the_openai_protocol(llm: LLMSettings) -> None:
    pieces = list(stream_chat(llm, [{"role": "user", "content": "Say hello to the river."}]))
    assert len(pieces) > 1 and "".join(pieces).strip()


def test_the_key_is_sent_and_a_wrong_one_is_reported(llm: LLMSettings) -> None:
    with pytest.raises(LLMError, match="HTTP 401"):
        list(stream_chat(dataclasses.replace(llm, api_key=None), [{"role": "user", "content": "Hi"}]))


def test_generated_answer_is_streamed_then_checked_sentence_by_sentence(index, llm: LLMSettings) -> None:
    quoted = index.ask(DOHA_QUESTION)
    items = list(generate_stream(quoted, llm, index.encode_texts))
    *streamed, final = items
    assert streamed and all(isinstance(s, str) for s in streamed)
    assert all(b.startswith(a) for a, b in zip(streamed, streamed[1:], strict=False))  # text grows as it streams
    generated = final.generated
    assert generated is not None and generated.model == "gemma-270m" and generated.quoted_text == quoted.text
    assert final.citations == quoted.citations  # the quotes themselves are untouched, still verbatim
    assert len(generated.sentences) >= 1
    quotes = {c.marker: c.quote for c in quoted.citations}
    if generated.source == "generated":
        shown = check_answer(final.text, quotes, index.encode_texts)
        assert shown and all(c.supported for c in shown)  # only supported sentences are shown
        assert [c.text for c in shown] == [c.text for c in generated.sentences if c.supported]
    else:
        assert final.text == quoted.text and "showing the quoted answer" in generated.fallback
        assert not any(c.supported for c in generated.sentences)
    for check in generated.sentences:
        assert check.supported == (not check.problems)


def test_refusals_stay_refusals_and_the_model_is_not_asked(index, llm: LLMSettings, server: LLMServer) -> None:
    before = server.requests_seen()
    answer = index.ask(OFF_TOPIC, llm=llm)
    assert answer.abstained and answer.text == REFUSAL_TEXT and answer.generated is None and not answer.citations
    assert server.requests_seen() == before


def test_unreachable_endpoint_falls_back_to_the_quotes(index) -> None:
    llm = LLMSettings(f"http://127.0.0.1:{free_port()}/v1", "none", timeout=5)
    answer = index.ask(DOHA_QUESTION, llm=llm)
    assert not answer.abstained and "Doha" in answer.text and answer.generated.source == "quoted"
    assert "cannot be reached" in answer.generated.fallback and answer.text == answer.generated.quoted_text


def test_timeout_falls_back_to_the_quotes(index, llm: LLMSettings) -> None:
    answer = index.ask(DOHA_QUESTION, llm=dataclasses.replace(llm, timeout=0.05))
    assert answer.generated.source == "quoted" and "within 0.05 s" in answer.generated.fallback
    assert "Doha" in answer.text


def test_http_error_falls_back_to_the_quotes(index, llm: LLMSettings, server: LLMServer) -> None:
    answer = index.ask(DOHA_QUESTION, llm=dataclasses.replace(llm, url=server.url + "/no-such-route"))
    assert answer.generated.source == "quoted" and "HTTP 404" in answer.generated.fallback


def test_nothing_supported_falls_back_to_the_quotes(index, llm: LLMSettings) -> None:
    # One token cannot be a sentence with a citation, so no sentence survives the check.
    answer = index.ask(DOHA_QUESTION, llm=dataclasses.replace(llm, max_tokens=1))
    generated = answer.generated
    assert generated.source == "quoted" and answer.text == generated.quoted_text
    assert "no generated sentence was supported" in generated.fallback or "wrote nothing" in generated.fallback


def test_cli_ask_says_where_the_answer_came_from(bundled_index: Path, capsys: pytest.CaptureFixture) -> None:
    from policyqa.cli import main

    url = f"http://127.0.0.1:{free_port()}/v1"
    assert main(["ask", DOHA_QUESTION, "--index", str(bundled_index), "--llm-url", url, "--llm-timeout", "5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("answered: ") and "Doha" in out
    # the reason, not the endpoint's address: the same message reaches REST and UI users (issue 24, item 21)
    assert out.splitlines()[1].startswith("(quoted; the language model cannot be reached") and url not in out
    assert main(["ask", DOHA_QUESTION, "--index", str(bundled_index), "--llm-url", "ftp://x"]) == 2
