"""The terminal app and the demo: ``tui`` and ``demo`` (the bundled sample data indexed and
asked about)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.cli.common import ProgressPrinter, err, index_summary
from assistant.cli.reading import cmd_ask
from assistant.errors import SatchelError

if TYPE_CHECKING:
    from assistant.core import Satchel


DEMO_QUESTION = "When is the cabin check-in and what is the door code?"


def register(sub: Any) -> None:
    p = sub.add_parser("tui", help="open the terminal app")
    p.set_defaults(handler=run_tui)

    p = sub.add_parser(
        "demo",
        help="index the bundled sample data and answer a sample question",
        description=(
            "Indexes data/sample/ into a separate demo store (satchel-demo beside the default store, "
            "holding this checkout's sample alone) unless --home or SATCHEL_HOME names one, answers the "
            "question, then opens the terminal app in a terminal."
        ),
    )
    p.add_argument("--question", default=DEMO_QUESTION)
    p.add_argument("--no-tui", action="store_true", help="print the answer and exit, even in a terminal")
    p.set_defaults(own_demo_home=False)  # set by main() when the demo runs in its own store
    p.set_defaults(handler=cmd_demo)


def repo_sample_dir() -> Path:
    return Path(__file__).resolve().parent.parent.parent / "data" / "sample"


def cmd_demo(app: Satchel, args: argparse.Namespace) -> int:
    sample = repo_sample_dir()
    if not sample.is_dir():
        raise SatchelError(f"the sample data folder {sample} is missing")
    if args.own_demo_home:
        # The demo's own store holds this checkout's sample alone: another checkout's
        # copy of the same messages would otherwise keep them (one copy per
        # Message-ID) and the citations would point into that other folder.
        for source in app.sources():
            if Path(source["path"]) != sample:
                app.remove_source(str(source["id"]))
    app.add_source(sample)
    err(f"indexing the sample data in {sample} …")
    printer = ProgressPrinter()
    report = app.sync(progress=printer)
    printer.done()
    err(index_summary(report))
    print(f"Q: {args.question}\n")
    cmd_ask(app, argparse.Namespace(json=False, model=None), question=args.question)
    if sys.stdin.isatty() and sys.stdout.isatty() and not args.no_tui:
        return run_tui(app)
    return 0


def run_tui(app: Satchel, args: argparse.Namespace | None = None) -> int:
    from assistant.store.db import is_encrypted
    from assistant.tui.app import create_app

    if is_encrypted(app.settings.db_path):
        app.store  # noqa: B018 - ask for the passphrase now, before the app takes the terminal
    create_app(app).run()
    return 0
