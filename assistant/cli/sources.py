"""The sources commands: ``add``, ``remove`` and ``sources``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from assistant.cli.common import JSON_HELP, err, print_json

if TYPE_CHECKING:
    from assistant.core import Satchel


def register(sub: Any) -> None:
    p = sub.add_parser(
        "add",
        help="register a file or folder as a source",
        description=(
            "The connector is chosen per file by its type and content, or forced for the whole source "
            "with --kind (the connectors installed are listed by `satchel status`). Nothing is read "
            "until `satchel index`."
        ),
    )
    p.add_argument("path", help="a file or folder: a mailbox, a chat export, documents")
    p.add_argument("--kind", help="force a connector (see `satchel status` for the list)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(handler=cmd_add)

    p = sub.add_parser("remove", help="forget a source and everything indexed from it")
    p.add_argument("source", help="source id or path")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(handler=cmd_remove)

    p = sub.add_parser("sources", help="list the registered sources")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(handler=cmd_sources)


def cmd_add(app: Satchel, args: argparse.Namespace) -> int:
    added = app.add_source(args.path, args.kind)
    if args.json:
        print_json(added)
    else:
        err(f"added source {added['id']}: {added['path']} (run `satchel index` to index it)")
    return 0


def cmd_remove(app: Satchel, args: argparse.Namespace) -> int:
    removed = app.remove_source(args.source)
    if args.json:
        print_json(removed)
    else:
        err(f"removed source {removed['id']}: {removed['path']} ({removed['documents']} documents)")
    return 0


def cmd_sources(app: Satchel, args: argparse.Namespace) -> int:
    sources = app.sources()
    if args.json:
        print_json(sources)
    else:
        for s in sources:
            print(
                f"{s['id']:3}  {s['path']}  {s['documents']} documents  {s['errors']} errors  "
                f"last sync {s['last_sync'] or 'never'}"
            )
    return 0
