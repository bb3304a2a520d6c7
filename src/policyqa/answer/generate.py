"""Generated answers from an OpenAI-compatible chat endpoint (Ollama, vLLM, llama.cpp's server), then verified.

Off unless configured (`Settings.llm`: `--llm-url`, POLICYQA_LLM_URL). The extractive answer comes first: a refusal
stays a refusal and nothing is generated. Otherwise the model gets the quotes as numbered evidence and must cite [n]
in every sentence; each sentence is checked against the quotes it cites (policyqa.answer.claims) and unsupported ones
are dropped.
When none survives, or the endpoint fails or times out, the quoted answer is shown and the Answer says why.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import numpy as np

from policyqa.answer.claims import check_answer
from policyqa.answer.types import Answer, GeneratedAnswer
from policyqa.errors import LLMError
from policyqa.settings import LLMSettings

log = logging.getLogger("policyqa.llm")
# One to three short sentences are asked for; a model that ignores max_tokens is cut here (issue 24, item 9).
MAX_GENERATED_CHARS = 2_000
MAX_LINE_BYTES = 1024 * 1024  # one server-sent event line
SYSTEM_PROMPT = (
    "You answer questions using only the numbered evidence quotes you are given. Write one to three short "
    "sentences. End every sentence with the number of the quote it comes from, in square brackets, like [1]. "
    "Copy names, numbers and dates exactly as they appear in the quotes. Do not add anything that the quotes "
    "do not say."
)


def evidence_messages(answer: Answer) -> list[dict[str, str]]:
    evidence = "\n".join(f"[{c.marker}] {' '.join(c.quote.split())}" for c in answer.citations)
    user = f"Evidence:\n{evidence}\n\nQuestion: {answer.question}\nAnswer, citing [n] after every sentence:"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def stream_chat(settings: LLMSettings, messages: list[dict[str, str]]) -> Iterator[str]:
    """The reply's text pieces as they arrive (server-sent events); LLMError on any failure or past the timeout.

    The timeout is a deadline for the whole reply: the socket is shut when it passes (_Deadline), and the body is read
    in pieces of whatever arrived (a reply that drips one byte at a time without a newline is cut there). At most
    `settings.max_tokens` pieces and MAX_GENERATED_CHARS characters are read, whatever the model does with
    max_tokens. Errors name no URL and quote no reply: users see them; the details go to the log."""
    body = {"model": settings.model, "messages": messages, "stream": True, "temperature": 0}
    body["max_tokens"] = settings.max_tokens
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if settings.api_key:
        headers["Authorization"] = f"Bearer {settings.api_key}"
    request = urllib.request.Request(settings.endpoint, json.dumps(body).encode(), headers, method="POST")
    deadline = time.monotonic() + settings.timeout
    late = f"the language model did not answer within {settings.timeout:g} s"
    watch = _Deadline(deadline)
    try:
        with watch.opener().open(request, timeout=settings.timeout) as response:
            pieces, chars = 0, 0
            for line in _lines_until(response, watch, late):
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                piece = _delta(json.loads(data))
                if not piece:
                    continue
                pieces += 1
                piece = piece[: MAX_GENERATED_CHARS - chars]
                chars += len(piece)
                if piece:
                    yield piece
                if pieces >= settings.max_tokens or chars >= MAX_GENERATED_CHARS:
                    cap = "the language model at %s reached the cap (%d pieces, %d characters); the rest is not read"
                    log.warning(cap, settings.url, pieces, chars)
                    return
    except LLMError:
        raise
    except Exception as exc:
        plain = _plain_error(exc, settings, late, watch.fired)
        if plain is None:
            raise
        raise plain from exc
    finally:
        watch.cancel()


def _plain_error(exc: Exception, settings: LLMSettings, late: str, cut: bool) -> LLMError | None:
    """What happened, in words a user can be shown (no URL, no reply text: those go to the log); None for an error
    that is not the endpoint's."""
    if cut or isinstance(exc, TimeoutError) or isinstance(getattr(exc, "reason", None), TimeoutError):
        log.warning("the language model at %s: %s", settings.endpoint, late)
        return LLMError(late)  # `cut`: the socket was shut at the deadline, mid-reply
    if isinstance(exc, urllib.error.HTTPError):
        detail = exc.read(300).decode("utf-8", "replace").strip()
        log.warning("the language model at %s answered HTTP %s: %s", settings.endpoint, exc.code, detail or exc.reason)
        return LLMError(f"the language model answered HTTP {exc.code}")
    if isinstance(exc, urllib.error.URLError):
        log.warning("the language model at %s cannot be reached: %s", settings.endpoint, exc.reason)
        return LLMError("the language model cannot be reached")
    if isinstance(exc, OSError | ValueError):  # a dropped connection, a reply that is not the OpenAI format
        log.warning("the language model at %s failed: %s: %s", settings.endpoint, type(exc).__name__, exc)
        return LLMError(f"the language model's reply broke off or is not in the OpenAI format ({type(exc).__name__})")
    return None


class _Deadline:
    """Shuts the connection's socket at the deadline, wherever the reply is: a status line or headers sent one byte
    at a time are cut as surely as a dripping body (a socket timeout only bounds each read)."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.fired = False
        self._timer: threading.Timer | None = None

    def arm(self, sock: socket.socket) -> None:
        def fire() -> None:
            self.fired = True
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

        self._timer = threading.Timer(max(0.0, self.deadline - time.monotonic()), fire)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def opener(self) -> urllib.request.OpenerDirector:
        watch = self

        class Http(http.client.HTTPConnection):
            def connect(self) -> None:
                super().connect()
                watch.arm(self.sock)

        class Https(http.client.HTTPSConnection):
            def connect(self) -> None:
                super().connect()
                watch.arm(self.sock)

        class HttpHandler(urllib.request.HTTPHandler):
            def http_open(self, req: urllib.request.Request) -> Any:
                return self.do_open(Http, req)

        class HttpsHandler(urllib.request.HTTPSHandler):
            def https_open(self, req: urllib.request.Request) -> Any:
                return self.do_open(Https, req, context=getattr(self, "_context", None))

        return urllib.request.build_opener(HttpHandler, HttpsHandler)  # proxies and the rest as urlopen's


def _lines_until(response: Any, watch: _Deadline, late: str) -> Iterator[str]:
    """The reply's lines, read in pieces of whatever has arrived, none of them waiting past the deadline."""
    sock = _socket_of(response)
    pending = b""
    while True:
        left = watch.deadline - time.monotonic()
        if left <= 0 or watch.fired:
            raise LLMError(late)
        if sock is not None:
            sock.settimeout(left)
        chunk = response.read1(65536) if hasattr(response, "read1") else response.read(1)
        if not chunk:
            if watch.fired:
                raise LLMError(late)
            if pending.strip():
                yield pending.decode("utf-8", "replace").strip()
            return
        pending += chunk
        if len(pending) > MAX_LINE_BYTES:
            raise LLMError("the language model sent a line longer than any reply piece")
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            yield raw.decode("utf-8", "replace").strip()


def _socket_of(response: Any) -> socket.socket | None:
    try:
        return response.fp.raw._sock  # http.client's socket (plain or TLS)
    except AttributeError:
        return None


def _delta(event: dict) -> str:
    if "error" in event:
        log.warning("the language model reported an error: %s", str(event["error"])[:300])
        raise LLMError("the language model reported an error")
    choices = event.get("choices") or [{}]
    return (choices[0].get("delta") or {}).get("content") or ""


def generate_stream(
    answer: Answer, settings: LLMSettings, encode: Callable[[list[str]], np.ndarray]
) -> Iterator[str | Answer]:
    """The generated text so far as it streams (str), then the checked Answer (always last, exactly once)."""
    if answer.abstained or getattr(answer, "state", "answered") == "refused" or not answer.citations:
        yield answer  # the extractive refusal stands; nothing is generated over evidence that does not answer
        return
    quoted = answer.text
    text = ""
    try:
        for piece in stream_chat(settings, evidence_messages(answer)):
            text += piece
            yield text
    except LLMError as exc:
        yield _quoted(answer, settings, [], f"{exc}; showing the quoted answer")
        return
    quotes = {c.marker: c.quote for c in answer.citations}
    checks = check_answer(text, quotes, encode)
    kept = [c for c in checks if c.supported]
    if not kept:
        why = "the language model wrote nothing" if not checks else "no generated sentence was supported by its quotes"
        yield _quoted(answer, settings, checks, f"{why}; showing the quoted answer")
        return
    shown = " ".join(f"{c.text} " + "".join(f"[{n}]" for n in c.markers) for c in kept)
    generated = GeneratedAnswer("generated", settings.model, checks, quoted)
    yield replace(answer, text=shown, generated=generated)


def generate_answer(answer: Answer, settings: LLMSettings, encode: Callable[[list[str]], np.ndarray]) -> Answer:
    started = time.perf_counter()
    final = answer
    for item in generate_stream(answer, settings, encode):
        if isinstance(item, Answer):
            final = item
    return replace(final, seconds=answer.seconds + time.perf_counter() - started)


def _quoted(answer: Answer, settings: LLMSettings, checks: list, why: str) -> Answer:
    return replace(answer, generated=GeneratedAnswer("quoted", settings.model, checks, answer.text, why))
