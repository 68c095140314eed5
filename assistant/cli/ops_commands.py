"""The operations commands of the CLI: ``forget``, ``export``, ``backup``, ``doctor``,
``encrypt`` and ``decrypt``.

``assistant/cli/app.py`` calls :func:`register` while building its parser; each
subcommand names its handler. JSON goes to stdout only, messages to stderr, as
everywhere in the CLI (docs/cli.md, docs/operations.md).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.cli.common import JSON_HELP, err, print_json

if TYPE_CHECKING:
    from assistant.core import Satchel

EXIT_DOCTOR_FAILED = 1


def register(sub: Any) -> None:
    """Add the operations subcommands to the CLI's subparsers."""
    p = sub.add_parser(
        "forget",
        help="erase a source, a document or a person from the store, the index and the free pages",
        description=(
            "Erase for good: rows, full-text entries, stored and FAISS vectors, stored answers that "
            "quoted them, then VACUUM and a truncated WAL so no copy survives in the files. "
            "For chats the unit is the chat-month: a month a person wrote in is erased whole."
        ),
    )
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--source", metavar="ID|PATH", help="a registered source and everything from it")
    target.add_argument("--document", type=int, metavar="ID", help="one document (ids: `satchel search --json`)")
    target.add_argument(
        "--person",
        metavar="NAME",
        help="everything a person wrote or took part in (whole-word match of a name or address)",
    )
    p.add_argument("--dry-run", action="store_true", help="count what would be erased; erase nothing")
    p.add_argument("--wait", action="store_true", help="wait for a running indexer instead of exiting")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(handler=cmd_forget)

    p = sub.add_parser("export", help="write every document and its metadata as JSON Lines")
    p.add_argument("--output", "-o", metavar="FILE", help="write here (created 0600) instead of stdout")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("backup", help="a consistent copy of the store while it is in use")
    p.add_argument("dest", metavar="DEST", help="a folder; it can be used as SATCHEL_HOME to restore")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(handler=cmd_backup)

    p = sub.add_parser(
        "doctor",
        help="check the installation and the store, and say what to fix",
        description="Exit code 1 when a check fails (docs/operations.md).",
    )
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(handler=cmd_doctor)

    p = sub.add_parser(
        "encrypt",
        help="encrypt the store (SQLCipher) and the index file with a passphrase",
        description=(
            "Encrypt the store and seal the FAISS file with a passphrase, from SATCHEL_PASSPHRASE or "
            "asked twice on the terminal; creates an empty encrypted store when there is none. Close "
            "the TUI and `satchel watch` first. On an encrypted store: checks the passphrase and seals "
            "an index file left plain. See docs/operations.md for what this protects."
        ),
    )
    p.add_argument("--keyring", action="store_true", help="also save the passphrase in the OS keyring")
    p.add_argument("--wait", action="store_true", help="wait for a running indexer instead of exiting")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(handler=cmd_encrypt)

    p = sub.add_parser("decrypt", help="turn an encrypted store back into plain SQLite")
    p.add_argument("--wait", action="store_true", help="wait for a running indexer instead of exiting")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(handler=cmd_decrypt)


def cmd_forget(app: Satchel, args: argparse.Namespace) -> int:
    from assistant.ops.forget import forget

    report = forget(
        app,
        source=args.source,
        document=args.document,
        person=args.person,
        dry_run=args.dry_run,
        wait=args.wait,
    )
    if args.json:
        print_json(report.as_json())
        return 0
    what = "would erase" if report.dry_run else "erased"
    err(
        f"{what} {report.documents} documents, {report.chunks} chunks, {report.turns} stored answers"
        + (f" ({report.usage_rows} usage ledger rows)" if report.usage_rows else "")
        + (f" and source {args.source}" if report.sources else "")
    )
    if report.persons_matched:
        err("matched: " + "; ".join(report.persons_matched))
    if not report.dry_run:
        if report.wal_cleared:
            err("store compacted (VACUUM), free pages cleared, WAL truncated; index saved")
        else:
            err(
                "store compacted, but another process (an open TUI?) kept the WAL file from being "
                "truncated: close it, and SQLite deletes the WAL when the last one closes the store"
            )
    return 0


def cmd_export(app: Satchel, args: argparse.Namespace) -> int:
    from assistant.ops.backup import export_documents, export_to_file

    if args.output:
        count = export_to_file(app.store, Path(args.output))
        err(f"exported {count} documents to {args.output}")
    else:
        try:
            export_documents(app.store, sys.stdout)
            sys.stdout.flush()
        except BrokenPipeError:
            # the reader went away (`satchel export | head`): not an error; keep
            # Python from complaining again when it flushes stdout at exit
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
    return 0


def cmd_backup(app: Satchel, args: argparse.Namespace) -> int:
    from assistant.ops.backup import backup

    result = backup(app.settings, Path(args.dest))
    if args.json:
        print_json(result)
    else:
        index = (
            "index copied"
            if result["index_current"]
            else ("index copied (stale: rebuilt when opened)" if result["index_copied"] else "no index")
        )
        err(
            f"backed up {result['documents']} documents to {result['database']} "
            f"({result['bytes'] / 1e6:.1f} MB, {index}) in {result['seconds']:.1f}s"
        )
    return 0


def cmd_encrypt(app: Satchel, args: argparse.Namespace) -> int:
    from assistant.ops.encryption import encrypt_store

    result = encrypt_store(app, keyring=args.keyring, wait=args.wait)
    if args.json:
        print_json(result)
    else:
        store = {
            "created": "created an empty encrypted store",
            "encrypted": "store encrypted",
            "already encrypted": "the store was already encrypted; passphrase checked",
        }[result["store"]]
        sealed = {"sealed": "; index file sealed", "removed": "; damaged index file removed (rebuilt)"}
        err(store + sealed.get(result["index"], ""))
        if result["keyring"]:
            err(f"passphrase saved in the OS keyring ({result['keyring']})")
    return 0


def cmd_decrypt(app: Satchel, args: argparse.Namespace) -> int:
    from assistant.ops.encryption import decrypt_store

    result = decrypt_store(app, wait=args.wait)
    if args.json:
        print_json(result)
    elif result["store"] == "decrypted":
        err(
            "store decrypted: it is plain SQLite again"
            + ("; passphrase removed from the OS keyring" if result["keyring_removed"] else "")
        )
    else:
        err("the store is not encrypted; nothing to do")
    return 0


def cmd_doctor(app: Satchel, args: argparse.Namespace) -> int:
    from assistant.ops.doctor import FAIL, OK, run_doctor

    checks = run_doctor(app)
    failed = any(c.status == FAIL for c in checks)
    if args.json:
        print_json({"ok": not failed, "checks": [c.as_json() for c in checks]})
    else:
        for c in checks:
            print(f"{c.status:4}  {c.name:11} {c.detail}")
            if c.fix and c.status != OK:
                print(f"{'':17}fix: {c.fix}")
    return EXIT_DOCTOR_FAILED if failed else 0
