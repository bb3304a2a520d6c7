"""The REST API's front door (ASGI middleware): the login is checked before a byte of the body is read, and every
body is capped by its Content-Length and again while it streams (chunked requests have no length to check).

FastAPI reads and parses a JSON body before it runs any dependency, the login check included: without this gate an
anonymous 600 MB POST was read into memory (twice) before the 401 (issue 24, item 1). The docs (/docs, /redoc,
/openapi.json) are behind the same login.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from typing import Any

MAX_JSON_BODY = 1024 * 1024  # a question is at most a few thousand characters; filters add little
MISSING_LOGIN = "user and password required (HTTP Basic)"
WRONG_LOGIN = "wrong user or password"


def json_reply(status: int, message: str) -> bytes:
    # ASCII escapes: a lone surrogate echoed from the request must not make the reply itself unencodable
    return json.dumps({"message": message, "status": status}, ensure_ascii=True).encode()


class RestGate:
    """`auth`: (user, password) or None (no login). POSTs to `upload_path` may send `upload_limit` bytes, every other
    request MAX_JSON_BODY."""

    def __init__(self, app: Any, auth: tuple[str, str] | None, upload_path: str, upload_limit: int):
        self.app = app
        self.auth = auth
        self.upload_path = upload_path
        self.upload_limit = upload_limit

    def limit_for(self, method: str, path: str) -> int:
        if method == "POST" and path.rstrip("/") == self.upload_path:
            return self.upload_limit
        return MAX_JSON_BODY

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        refusal = self._login_refusal(headers.get(b"authorization"))
        if refusal:
            await _reply(send, 401, refusal, [(b"www-authenticate", b"Basic")])
            return
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        route = path[len(root) :] if root and path.startswith(root) else path
        limit = self.limit_for(scope.get("method", "GET"), route)
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await _reply(send, 400, "bad request: Content-Length is not a number")
                return
            if length > limit:
                await _reply(send, 413, _too_large(length, limit))
                return
        await self._capped(scope, receive, send, limit)

    def _login_refusal(self, header: bytes | None) -> str | None:
        if self.auth is None:
            return None
        if not header:
            return MISSING_LOGIN
        scheme, _, value = header.partition(b" ")
        if scheme.lower() != b"basic":
            return MISSING_LOGIN
        try:
            user, sep, password = base64.b64decode(value.strip(), validate=True).partition(b":")
        except (binascii.Error, ValueError):
            return WRONG_LOGIN
        ok = all(
            [
                bool(sep),
                secrets.compare_digest(user, self.auth[0].encode()),
                secrets.compare_digest(password, self.auth[1].encode()),
            ]
        )
        return None if ok else WRONG_LOGIN

    async def _capped(self, scope: dict[str, Any], receive: Any, send: Any, limit: int) -> None:
        received = 0
        over = False
        started = False

        async def counted() -> dict[str, Any]:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True  # the app sees a disconnect and stops reading; the gate answers 413
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: dict[str, Any]) -> None:
            nonlocal started
            if over:
                return  # the app's own reply to the cut-off body is replaced by the 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not over:
                raise
        if over and not started:
            await _reply(send, 413, _too_large(received, limit, streaming=True), [(b"connection", b"close")])


def _too_large(size: int, limit: int, streaming: bool = False) -> str:
    more = "more than " if streaming else ""
    return f"the request body is {more}{size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit of this route"


async def _reply(send: Any, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json_reply(status, message)
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})
