"""Streamable HTTP for clients that cannot start a process: loopback and a token.

Whatever can reach the port can read the person's data, so the server binds
127.0.0.1 (or ::1) unless told otherwise in so many words (``--allow-non-loopback``),
and every request must carry the bearer token kept in ``$SATCHEL_HOME/mcp-token``
(0600). A browser page cannot read that file, and the SDK's DNS-rebinding check
(Host and Origin headers) stays on for loopback binds.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import socket
import sys
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError, NetworkPolicyError
from assistant.settings import Settings
from assistant.store.fileio import atomic_file

TOKEN_FILE = "mcp-token"
PATH = "/mcp"


def token_path(settings: Settings) -> Path:
    return settings.home / TOKEN_FILE


def load_token(settings: Settings, *, rotate: bool = False) -> tuple[str, bool]:
    """The bearer token and whether it was made now. Made on first use (or with
    ``rotate``) and kept 0600 in the home, so clients can be configured once."""
    path = token_path(settings)
    if path.exists() and not rotate:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)  # a copied home may have lost its modes
        token = path.read_text(encoding="utf-8").strip()
        if len(token) >= 32:
            return token, False
    settings.ensure_home()
    token = secrets.token_urlsafe(32)
    with atomic_file(path, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token, True


def check_host(host: str, *, allow_non_loopback: bool) -> str:
    """The address to bind: loopback, or anything only when explicitly allowed."""
    name = "127.0.0.1" if host == "localhost" else host
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        raise ConfigError(f"--host {host}: give an IP address (127.0.0.1, ::1)") from None
    if not address.is_loopback and not allow_non_loopback:
        raise NetworkPolicyError(
            f"--host {host} is not a loopback address: anyone who can reach it could query your data. "
            "Add --allow-non-loopback if that is really what you want (the token is still required)."
        )
    return str(address)


class BearerAuth:
    """ASGI middleware: a request without ``Authorization: Bearer <token>`` gets 401
    and never reaches the MCP app. Compared in constant time."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = token.encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):  # lifespan: start the session manager
            await self.app(scope, receive, send)
            return
        header = b""
        for name, value in scope.get("headers", []):
            if name.lower() == b"authorization":
                header = value
                break
        scheme, _, given = header.partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(given.strip(), self.expected):
            body = b'{"error": "unauthorized: send Authorization: Bearer <token> (the token is in mcp-token)"}'
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"www-authenticate", b'Bearer realm="satchel"'),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here rather than by uvicorn so that port 0 (any
    free port) can be reported and the address bound is exactly the one checked."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def serve_http(mcp_app: Any, sock: socket.socket, token: str) -> None:
    """Serve the SDK's streamable HTTP app behind the token until interrupted."""
    import uvicorn

    host, port = sock.getsockname()[:2]
    app = BearerAuth(mcp_app.streamable_http_app(streamable_http_path=PATH, host=host), token)
    shown = f"[{host}]" if ":" in host else host
    sys.stderr.write(f"satchel mcp: serving http://{shown}:{port}{PATH} (bearer token required)\n")
    sys.stderr.flush()
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
