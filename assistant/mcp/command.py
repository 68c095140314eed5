"""`satchel mcp`: the subcommand's flags and its start-up.

``assistant/cli/app.py`` calls :func:`register` while building its parser, and its
dispatch calls :func:`run` through the subcommand's handler; Satchel's errors raised here reach the CLI's boundary
(a one-line message, an exit code). This module imports only argparse at import
time: the MCP SDK is loaded when the server starts.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from assistant.settings import Settings
from connectors.kinds import KINDS

HELP = "serve your data to MCP clients (AI apps, agents) over stdio, read-only by default"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "mcp",
        help=HELP,
        description=(
            "Run Satchel as a Model Context Protocol server: tools search, fetch_document, ask, "
            "list_sources and status over stdio (or streamable HTTP on loopback with --http). Whatever "
            "model the client runs sees what these tools return: restrict it with --source, --kind, "
            "--exclude-person and --exclude-folder. See docs/mcp.md."
        ),
    )
    view = p.add_argument_group("what the client may see (enforced for every tool)")
    view.add_argument("--source", action="append", default=[], metavar="ID|PATH", help="only this source (repeatable)")
    view.add_argument("--kind", action="append", default=[], help=f"only this kind: {', '.join(KINDS)} (repeatable)")
    view.add_argument(
        "--exclude-person",
        action="append",
        default=[],
        metavar="NAME",
        help="hide everything this person wrote or took part in, as `forget --person` selects it (repeatable)",
    )
    view.add_argument(
        "--exclude-folder",
        action="append",
        default=[],
        metavar="PATH",
        help="hide everything read from this folder or file (repeatable)",
    )
    p.add_argument(
        "--allow-writes",
        action="store_true",
        help="also offer add_source, sync and forget (marked destructive); without it the store is never changed",
    )
    web = p.add_argument_group("streamable HTTP instead of stdio")
    web.add_argument("--http", type=int, metavar="PORT", help="serve on this port (0: any free port) instead of stdio")
    web.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; ::1 also loopback)")
    web.add_argument(
        "--allow-non-loopback",
        action="store_true",
        help="let --host be an address other machines can reach (the token is still required)",
    )
    web.add_argument("--new-token", action="store_true", help="replace the stored bearer token with a new one")
    p.add_argument("--verbose", action="store_true", help="log each failed call on stderr")
    p.set_defaults(handler=lambda app, args: run(app.settings, args))


def run(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.mcp.scope import Scope, ScopedSatchel, resolve_folder
    from assistant.ops.logs import logged_run

    scope = Scope(
        kinds=tuple(dict.fromkeys(k.strip().lower() for k in args.kind if k.strip())),
        sources=tuple(args.source),
        exclude_persons=tuple(args.exclude_person),
        exclude_folders=tuple(resolve_folder(f) for f in args.exclude_folder),
    )
    sock = None
    token = ""
    if args.http is not None:
        # checked before anything is loaded: a refused address costs nothing
        from assistant.mcp.http_server import bind, check_host, load_token, token_path

        host = check_host(args.host, allow_non_loopback=args.allow_non_loopback)
        token, created = load_token(settings, rotate=args.new_token)
        sock = bind(host, args.http)
        if created:
            _err(f"satchel mcp: a new access token, stored in {token_path(settings)} (readable by you only):")
            _err(f"  {token}")
            _err("clients send it as the header  Authorization: Bearer <token>")
        else:
            _err(f"satchel mcp: the access token is in {token_path(settings)}")

    from assistant.mcp.server import build_server, configure_logging, warm_up_in_background
    from assistant.mcp.tools import SatchelTools

    app = ScopedSatchel(settings, scope)
    tools = SatchelTools(app, allow_writes=args.allow_writes)
    try:
        # Opened here, before the transport takes stdin and stdout: an encrypted store
        # asks for its passphrase now (on a terminal) or fails with a message.
        app.store  # noqa: B018
        app.guard.check()
        configure_logging(args.verbose)
        with logged_run(settings, "mcp"):
            server = build_server(tools)
            warm_up_in_background(tools)
            if sock is not None:
                from assistant.mcp.http_server import serve_http

                serve_http(server, sock, token)
            else:
                server.run("stdio")
    finally:
        tools.close()
    return 0


def _err(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
