"""Slow down password guessing: per client address, a failed login costs a delay, and after MAX_FAILURES failures
within WINDOW seconds further attempts are refused (HTTP 429) until the window has passed."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict, deque
from typing import Any

MAX_FAILURES = 5
WINDOW = 300.0  # seconds
FAILURE_DELAY = 1.0  # seconds added to every failed attempt


class LoginThrottle:
    """ASGI middleware in front of Gradio's POST /login (Gradio itself allows any number of attempts)."""

    def __init__(self, app: Any):
        self.app = app
        self.failures: dict[str, deque[float]] = defaultdict(deque)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        is_login = (
            scope["type"] == "http"
            and scope.get("method") == "POST"
            and scope.get("path", "").rstrip("/").endswith("/login")
        )
        if not is_login:
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        recent = self.failures[client]
        now = time.monotonic()
        while recent and now - recent[0] > WINDOW:
            recent.popleft()
        if len(recent) >= MAX_FAILURES:
            await _refuse(send, int(WINDOW - (now - recent[0])) + 1)
            return
        recent.append(now)  # counted as a failure until it succeeds: parallel guesses share the same budget
        succeeded = False

        async def watch(message: dict[str, Any]) -> None:
            nonlocal succeeded
            if message["type"] == "http.response.start":
                succeeded = message["status"] < 300
                if not succeeded:
                    await asyncio.sleep(FAILURE_DELAY)
            await send(message)

        await self.app(scope, receive, watch)
        if succeeded:
            recent.clear()


async def _refuse(send: Any, retry_after: int) -> None:
    body = json.dumps({"detail": f"Too many failed logins; try again in {retry_after} s."}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [(b"content-type", b"application/json"), (b"retry-after", str(retry_after).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
