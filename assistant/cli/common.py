"""What every command group of the CLI shares: JSON on stdout and messages on stderr,
the filter flags of search and ask, the progress line, and the exit codes of
`satchel index` (docs/cli.md)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import SatchelError
from connectors.kinds import KINDS

if TYPE_CHECKING:
    from assistant.core import Satchel
    from assistant.retrieval.search_types import Filters

# `satchel index` exit codes, for cron and systemd (docs/cli.md)
EXIT_OK = 0
EXIT_PARTIAL = 10  # some items could not be read; everything else was indexed
JSON_HELP = "print the result as JSON on stdout (docs/cli.md#the-scripting-contract)"


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def err(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def add_filter_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("filters")
    group.add_argument("--kind", action="append", default=[], help=f"document kind: {', '.join(KINDS)} (repeatable)")
    group.add_argument("--source", action="append", default=[], help="a source id or path (repeatable)")
    group.add_argument(
        "--from",
        "--person",
        dest="person",
        action="append",
        default=[],
        help="a sender or participant, by name or address (repeatable)",
    )
    group.add_argument("--after", help="on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)")
    group.add_argument("--before", help="before this date (a YYYY-MM-DD day is excluded)")
    group.add_argument(
        "--no-auto-filters",
        dest="auto_filters",
        action="store_false",
        help='do not read filters from the words of the query ("emails from Anna last March")',
    )


def filters_from_args(app: Satchel, args: argparse.Namespace) -> Filters:
    from assistant.errors import SourceError
    from assistant.retrieval.search_types import Filters, parse_date

    sources: list[int] = []
    for ref in args.source:
        row = app.store.find_source(ref)
        if row is None:
            raise SourceError(f"{ref}: not a registered source (see `satchel sources`)")
        sources.append(int(row["id"]))
    try:
        after = parse_date(args.after) if args.after else None
        before = parse_date(args.before) if args.before else None
    except ValueError as exc:
        raise SatchelError(str(exc)) from exc
    return Filters(kinds=list(args.kind), sources=sources, persons=list(args.person), after=after, before=before)


def files_and_chunks(p: Any) -> str:
    return f"{p.units_done}/{p.units_total} files {p.chunks} chunks"


def reembedded_chunks(p: Any) -> str:
    return f"{p.done}/{p.total} chunks re-embedded"


def ocr_images(p: Any) -> str:
    return f"OCR {p.done}/{p.total} images and scanned pages"


class ProgressPrinter:
    """A progress line with ETA on stderr: redrawn in a terminal, every 10 s otherwise."""

    def __init__(self, describe: Any = files_and_chunks) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.describe = describe

    def __call__(self, p: Any) -> None:
        now = time.monotonic()
        if not self.tty and now - self.last < 10:
            return
        self.last = now
        eta = p.eta_seconds
        eta_text = f" ETA {int(eta) // 60}:{int(eta) % 60:02d}" if eta is not None else ""
        width = 24
        filled = int(width * p.fraction)
        bar = "█" * filled + "░" * (width - filled)
        line = f"{bar} {p.fraction:6.1%} {self.describe(p)}{eta_text}"
        if self.tty:
            sys.stderr.write("\r" + line[: os.get_terminal_size(2).columns - 1])
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def done(self) -> None:
        if self.tty and self.last:
            sys.stderr.write("\n")


def index_summary(report: Any) -> str:
    return (
        f"indexed: {report.added} added, {report.updated} updated, {report.deleted} deleted, "
        f"{report.unchanged} unchanged, {report.embedded_chunks} chunks embedded, "
        f"{report.errors} errors in {report.seconds:.1f}s"
    )


def process_age_s() -> float | None:
    """Seconds since this process started (Linux /proc; None elsewhere)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None
