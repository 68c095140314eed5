"""The reading commands: ``search`` and ``ask`` (with ``--compare``)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from assistant.cli.common import JSON_HELP, add_filter_flags, err, filters_from_args, print_json

if TYPE_CHECKING:
    from assistant.core import Satchel


def register(sub: Any) -> None:
    p = sub.add_parser(
        "search",
        help="hybrid keyword + semantic search",
        description=(
            'Filters said in words ("emails from Anna last March") are read off the query unless '
            "--no-auto-filters. Filters are applied inside retrieval, so a filtered query still returns "
            "k results when k exist (docs/retrieval.md)."
        ),
    )
    p.add_argument("query", help='words, a question, or "quoted phrases"; filters may be said in words')
    p.add_argument("-k", "--limit", type=int, help="number of results")
    p.add_argument("--mode", choices=("hybrid", "bm25", "dense"), default="hybrid")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    add_filter_flags(p)
    p.set_defaults(handler=cmd_search)

    p = sub.add_parser(
        "ask",
        help="answer a question from your data, with citations",
        description=(
            "The answer streams with numbered citations of its sources; a question the sources do not "
            "answer is declined (docs/retrieval.md#when-to-decline). --compare answers from the same "
            "sources with both models and shows the answers and token meters side by side."
        ),
    )
    p.add_argument("question", help="the question, in any language")
    p.add_argument("--model", help="a GGUF file to answer with instead of the configured one")
    p.add_argument("--compare", metavar="MODEL", help="also answer from the same sources with this GGUF, side by side")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    add_filter_flags(p)
    p.set_defaults(handler=cmd_ask_or_compare)


def cmd_ask_or_compare(app: Satchel, args: argparse.Namespace) -> int:
    return cmd_compare(app, args) if args.compare else cmd_ask(app, args)


def cmd_search(app: Satchel, args: argparse.Namespace) -> int:
    outcome = app.search(
        args.query, filters_from_args(app, args), args.limit, mode=args.mode, auto_filters=args.auto_filters
    )
    if outcome.applied and not args.json:
        err(f"filters read from your words: {', '.join(outcome.applied)} (--no-auto-filters to turn off)")
    if args.json:
        print_json(
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
        err("no results")
    for n, r in enumerate(outcome.results, 1):
        who = f" · {r.author}" if r.author else ""
        when = f" · {r.timestamp[:10]}" if r.timestamp and r.kind != "chat" else ""
        where = f" · {r.locator}" if r.locator else ""
        print(f"{n:2}. [{r.kind}] {r.title}{who}{when}{where}")
        print(f"    {r.snippet}")
        print(f"    {r.source}")
    return 0


def print_sources(answer: Any) -> None:
    if not answer.sources:
        return
    print("\nSources:")
    for ref in answer.sources:
        mark = "*" if ref.cited else " "
        print(f" {mark}[{ref.n}] {ref.label()}")
        print(f"      {ref.result.source}")


def meter_lines(stats: Any) -> list[str]:
    if stats is None:
        return ["(declined: the model was not called)"]
    return [
        f"prompt tokens     {stats.prompt_tokens}",
        f"generated tokens  {stats.generated_tokens}",
        f"first token       {stats.time_to_first_token_s:.2f} s",
        f"prompt speed      {stats.prompt_tokens_per_s:.0f} tok/s",
        f"generation speed  {stats.generation_tokens_per_s:.1f} tok/s",
    ]


def cmd_compare(app: Satchel, args: argparse.Namespace) -> int:
    import textwrap

    first, second = app.compare(args.question, args.compare, filters_from_args(app, args), origin="cli")
    if args.json:
        print_json({"question": args.question, "answers": [first.as_json(), second.as_json()]})
        return 0
    width = 58
    columns = []
    for answer in (first, second):
        name = answer.stats.model if answer.stats else "model"
        lines = [name[:width], "-" * min(width, len(name))]
        lines += textwrap.wrap(answer.answer, width) + [""] + meter_lines(answer.stats)
        columns.append(lines)
    for left, right in zip(*[c + [""] * (max(map(len, columns)) - len(c)) for c in columns], strict=True):
        print(f"{left:<{width}}  │  {right}")
    print_sources(first)
    return 0


def cmd_ask(app: Satchel, args: argparse.Namespace, question: str | None = None) -> int:
    question = question or args.question
    filters = filters_from_args(app, args) if hasattr(args, "kind") else None
    stream = not getattr(args, "json", False)

    streamed: list[str] = []

    def on_token(text: str) -> None:
        streamed.append(text)
        sys.stdout.write(text)
        sys.stdout.flush()

    def on_status(message: str) -> None:
        err(f"({message}…)")

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
        print_json(answer.as_json())
        return 0
    if answer.applied_filters:
        err(f"(filters read from your words: {', '.join(answer.applied_filters)}; --no-auto-filters to turn off)")
    if not answer.stats:  # declined without calling the model
        print(answer.answer)
    else:
        print()
        if answer.answer != "".join(streamed).strip():
            # citations were checked and attributed after the model finished
            print(f"\n→ {answer.answer}")
    if answer.invalid_citations:
        err(f"(removed citations to sources that do not exist: {answer.invalid_citations})")
    print_sources(answer)
    if answer.stats:
        s = answer.stats
        waited = f", waited {s.waited_s:.1f}s for its turn" if s.waited_s >= 0.1 else ""
        err(
            f"[{s.model}: {s.prompt_tokens} prompt tokens, {s.generated_tokens} generated, "
            f"first token {s.time_to_first_token_s:.2f}s, {s.prompt_tokens_per_s:.0f} prompt tok/s, "
            f"{s.generation_tokens_per_s:.1f} tok/s{waited}]"
        )
    return 0
