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
API_PREFIX = "/api/v1"  # the REST API (app/rest.py), which takes the same credentials as HTTP Basic
MCP_PATH = "/mcp"  # MCP for AI assistants (app/mcp_http.py), the same credentials again


class LoginThrottle:
    """ASGI middleware in front of Gradio's POST /login and the HTTP Basic logins of the REST API and MCP (Gradio
    itself allows any number of attempts)."""

    def __init__(self, app: Any):
        self.app = app
        self.failures: dict[str, deque[float]] = defaultdict(deque)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        is_http = scope["type"] == "http"
        is_login = is_http and scope.get("method") == "POST" and scope.get("path", "").rstrip("/").endswith("/login")
        # A REST call with HTTP Basic credentials is a login attempt too: it fails with 401, and shares the budget.
        is_api_login = (
            is_http
            and scope.get("path", "").startswith((API_PREFIX, MCP_PATH))
            and any(name.lower() == b"authorization" for name, _ in scope.get("headers", []))
        )
        if not (is_login or is_api_login):
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
        # A UI login counts as a failure until it succeeds, so parallel guesses share the budget. A REST call counts
        # only once it failed: an integrator's parallel calls with the right password must all go through.
        if is_login:
            recent.append(now)
        succeeded = False

        async def watch(message: dict[str, Any]) -> None:
            nonlocal succeeded
            if message["type"] == "http.response.start":
                status = message["status"]
                succeeded = status != 401 if is_api_login else status < 300
                if not succeeded:
                    if is_api_login:
                        recent.append(time.monotonic())
                    await asyncio.sleep(FAILURE_DELAY)
            await send(message)

        await self.app(scope, receive, watch)
        if succeeded and is_login:
            recent.clear()


async def _refuse(send: Any, retry_after: int) -> None:
    message = f"Too many failed logins; try again in {retry_after} s."
    body = json.dumps({"message": message, "status": 429}).encode()  # the REST API's error shape
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [(b"content-type", b"application/json"), (b"retry-after", str(retry_after).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
