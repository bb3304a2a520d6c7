"""The MCP server (policyqa.mcp_server) over streamable HTTP at /mcp in the UI's server, over the same AppState (and
so the same index) as the UI and the REST API, behind the REST API's gate: the same login (HTTP Basic, POLICYQA_AUTH),
checked before a byte of the body is read, and the same body cap."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from policyqa.mcp_server import McpUnavailableError, create_server, require_sdk

from .login_throttle import MCP_PATH  # one place: the throttle counts logins there too
from .rest_gate import MAX_JSON_BODY, RestGate
from .state import AppState


@dataclass(frozen=True)
class McpMount:
    route: Any  # a Starlette Route for Gradio's app (app_kwargs["routes"])
    lifespan: Callable[[Any], AbstractAsyncContextManager[None]]  # runs the SDK's session manager (app_kwargs)


def mcp_mount(state: AppState, auth: tuple[str, str] | None, host: str, port: int) -> McpMount | None:
    """The route and lifespan that serve MCP at MCP_PATH; None (and a line saying so) without the `mcp` extra."""
    try:
        require_sdk()
    except McpUnavailableError as exc:
        print(f"MCP for AI assistants is off ({MCP_PATH} not served): {exc}", flush=True)
        return None
    from mcp.server.transport_security import TransportSecuritySettings
    from starlette.routing import Route

    server = create_server(lambda: state.index, state.corpus_dir, state.settings)
    # Without a login, the SDK's DNS-rebinding check (Host and Origin must name this machine, when it binds 127.0.0.1)
    # keeps web pages in the user's browser out. With one, the login does (a rebound page has no credentials for it),
    # and the check would refuse the Host of a --share link or a reverse proxy.
    security = None if auth is None else TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app = server.streamable_http_app(streamable_http_path=MCP_PATH, host=host, transport_security=security)
    gate = RestGate(app, auth, upload_path=MCP_PATH, upload_limit=MAX_JSON_BODY)
    session_manager = server.session_manager  # made by streamable_http_app; must run for the server's lifetime
    login = "the UI's login as HTTP Basic" if auth else "no login"
    print(f"MCP for AI assistants: http://{host}:{port}{MCP_PATH} (streamable HTTP, {login})", flush=True)
    return McpMount(Route(MCP_PATH, endpoint=gate), lambda _app: session_manager.run())
