"""The evaluation commands: ``eval beir`` (retrieval on a BEIR data set) and ``eval qa``
(answers on the current store; docs/evaluation.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.cli.common import JSON_HELP, err, print_json
from assistant.errors import SatchelError

if TYPE_CHECKING:
    from assistant.core import Satchel


def register(sub: Any) -> None:
    p = sub.add_parser("eval", help="measure retrieval and answer quality")
    eval_sub = p.add_subparsers(dest="eval_command", metavar="SUITE", required=True)
    e = eval_sub.add_parser("beir", help="a BEIR data set: nDCG@10, recall@10/100, MRR for BM25, dense and hybrid")
    e.add_argument("dir", help="folder with corpus.jsonl and queries.jsonl")
    e.add_argument("--qrels", required=True, help="judgements TSV (query-id, corpus-id, score)")
    e.add_argument("--json", action="store_true", help=JSON_HELP)
    e.set_defaults(handler=cmd_eval_beir)
    e = eval_sub.add_parser(
        "qa",
        help="answer quality on the current store: a JSON Lines question file (docs/evaluation.md)",
        description=(
            "Per question type: right with the right source cited, unanswerable questions declined, "
            "false declines, token F1, evidence recall@k, latency and tokens (docs/evaluation.md)."
        ),
    )
    e.add_argument("file", help="questions, one JSON object a line")
    e.add_argument("--model", help="answer with this GGUF instead of the configured model")
    e.add_argument("--k", type=int, default=10, help="results searched for evidence recall@k (default 10)")
    e.add_argument("--limit", type=int, help="only the first N questions (after --sample)")
    e.add_argument("--sample", type=int, help="a random sample of N questions (seeded: the same N each time)")
    e.add_argument("--type", dest="types", action="append", help="only questions of this type (repeatable)")
    e.add_argument("--retrieval-only", action="store_true", help="evidence recall only, no answers (fast)")
    e.add_argument("--json", action="store_true", help=JSON_HELP)
    e.set_defaults(handler=cmd_eval_qa)


def cmd_eval_beir(app: Satchel, args: argparse.Namespace) -> int:
    from assistant.evaluation.beir import run_beir

    scores = run_beir(app.settings, Path(args.dir), Path(args.qrels))
    if args.json:
        print_json(scores)
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


def cmd_eval_qa(app: Satchel, args: argparse.Namespace) -> int:
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
            err(f"{done:4}/{total} {mark}[{outcome.item.type}] {outcome.item.question[:70]}")

    report = run_qa(app, items, k=args.k, answer=not args.retrieval_only, model=args.model, progress=progress)
    if args.json:
        print_json(report)
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
