"""The scriptable command line: ``satchel COMMAND``.

Each command group is a module of this package with its parsers and handlers side by
side (sources, indexing, reading, info, evaluation, demo, ops_commands; ``mcp`` lives
with its server in assistant/mcp/command.py). A group's ``register`` adds its
subcommands and names each one's handler; :func:`dispatch` calls it with the core.

JSON goes to stdout only; progress and diagnostics go to stderr. Errors of the core
(:class:`SatchelError`) become a one-line message and a non-zero exit code here.
The contract of ``--json`` outputs and exit codes is documented in docs/cli.md, which
scripts/gen_cli_docs.py writes from this parser.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.cli import demo, evaluation, indexing, info, ops_commands, reading, sources
from assistant.cli.common import err
from assistant.errors import SatchelError
from assistant.mcp import command as mcp_command
from assistant.settings import Settings, load_settings

if TYPE_CHECKING:
    from assistant.core import Satchel

# The command groups in the order `satchel --help` lists them.
GROUPS = (sources, indexing, reading, info, demo, evaluation, ops_commands, mcp_command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="satchel", description="A private knowledge assistant for your email, chats and files."
    )
    parser.add_argument("--home", help="the data folder (default: $SATCHEL_HOME or the platform data directory)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None, *, make_core: Callable[[Settings], Satchel] | None = None) -> int:
    """Run one command; its exit code. ``make_core`` builds the core from the settings
    (default: ``Satchel(settings)``): tests hand in a core with their own backends."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if sys.stdin.isatty() and sys.stdout.isatty():
            args.command, args.handler = "tui", demo.run_tui
        else:
            parser.print_help()
            return 0
    from assistant.backends.embedder import force_offline
    from assistant.cli.passphrase import use_terminal_prompt

    force_offline()
    use_terminal_prompt()
    try:
        settings = load_settings({"home": args.home})
        if args.command == "demo" and not args.home and "SATCHEL_HOME" not in os.environ:
            # the demo keeps its own store, away from the user's real data, beside the
            # default one in the platform's data folder (Settings.ensure_home makes it)
            settings = load_settings({"home": str(settings.home.parent / "satchel-demo")})
            args.own_demo_home = True
        if make_core is None:
            from assistant.core import Satchel

            make_core = Satchel
        app = make_core(settings)
        try:
            return dispatch(app, args)
        finally:
            app.close()
    except SatchelError as exc:
        err(f"satchel: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        err("satchel: interrupted")
        return 130


def dispatch(app: Satchel, args: argparse.Namespace) -> int:
    """Run the handler the parsed command names."""
    handler = getattr(args, "handler", None)
    if handler is None:
        raise SatchelError(f"unknown command {args.command!r}")
    return int(handler(app, args))


if __name__ == "__main__":
    sys.exit(main())
