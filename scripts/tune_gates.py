"""The relevance gate's trade-off on a question file: for each threshold, how many
answerable questions it would decline (false declines) and how many unanswerable
ones it would let through to the model. No model is run: the gate is decided before.

    SATCHEL_HOME=/tmp/locomo-home .venv/bin/python scripts/tune_gates.py \
        ../shared/corpora/qa/locomo-dev/qa.jsonl --json

The relevance of a question is what `Answerer.relevance` computes on the sources
`satchel ask` would use (top ``answer_sources`` after filters said in words).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.core import Satchel  # noqa: E402
from assistant.evaluation.qa import load_items  # noqa: E402
from assistant.retrieval.search_types import Filters
from assistant.settings import load_settings  # noqa: E402

THRESHOLDS = [round(0.5 + 0.05 * i, 2) for i in range(25)]
# with --model-check: relevance gates tried together with each answerability threshold
PAIRED_RELEVANCE = [0.0, 0.5, 0.65, 0.8, 0.95]
ANSWERABLE_THRESHOLDS = [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="+")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--model-check",
        action="store_true",
        help="also ask the model whether the sources hold the answer (Answerer.answerable_probability)",
    )
    parser.add_argument("--rows", type=Path, help="write each question's figures to this JSON file")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions of each file")
    args = parser.parse_args()
    app = Satchel(load_settings())
    answerer = app.answerer()
    answerer.min_answerable = 1.0  # asked for every question, whatever the setting
    model = app.model() if args.model_check else None
    scores: list[tuple[float, bool]] = []  # (relevance, answerable)
    rows_out: list[dict[str, object]] = []
    for name in args.file:
        items = load_items(Path(name))
        for item in items[: args.limit or len(items)]:
            query, results, _ = answerer.retrieve(item.question, Filters())
            relevance = answerer.relevance(query, results)
            scores.append((relevance, not item.unanswerable))
            row: dict[str, object] = {
                "file": name,
                "question": item.question,
                "type": item.type,
                "answerable": not item.unanswerable,
                "relevance": round(relevance, 4),
            }
            if model is not None and results:
                messages, _ = answerer.build_messages(model, item.question, results)
                row["yes"] = answerer.answerable_probability(model, messages)
            rows_out.append(row)
    if args.rows:
        args.rows.write_text(json.dumps(rows_out, indent=1), encoding="utf-8")
    if model is not None:
        print_paired(rows_out)
    answerable = sum(1 for _, a in scores if a)
    unanswerable = len(scores) - answerable
    rows = []
    for threshold in THRESHOLDS:
        false_declines = sum(1 for r, a in scores if a and r < threshold)
        let_through = sum(1 for r, a in scores if not a and r >= threshold)
        rows.append({"threshold": threshold, "false_declines": false_declines, "unanswerable_let_through": let_through})
    report = {"answerable": answerable, "unanswerable": unanswerable, "rows": rows}
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{answerable} answerable, {unanswerable} unanswerable")
        print(f"{'threshold':>9} {'false declines':>15} {'unanswerable passed':>20}")
        for row in rows:
            print(f"{row['threshold']:>9} {row['false_declines']:>15} {row['unanswerable_let_through']:>20}")
    return 0


def print_paired(rows: list[dict[str, object]]) -> None:
    """False declines / unanswerable let through, for a relevance gate and an
    answerability threshold together."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    print(
        "relevance gate and answerability check: false declines of "
        f"{len(answerable)} / unanswerable let through of {len(unanswerable)}"
    )
    print("relevance  " + "  ".join(f"yes>={t:<5}" for t in ANSWERABLE_THRESHOLDS))

    def passes(row: dict[str, object], gate: float, yes: float) -> bool:
        return float(row["relevance"]) >= gate and float(row.get("yes", 0.0)) >= yes  # type: ignore[arg-type]

    for gate in PAIRED_RELEVANCE:
        cells = []
        for yes in ANSWERABLE_THRESHOLDS:
            declined = sum(1 for r in answerable if not passes(r, gate, yes))
            through = sum(1 for r in unanswerable if passes(r, gate, yes))
            cells.append(f"{declined:>3} /{through:>3}")
        print(f"{gate:<9}  " + "  ".join(f"{c:<9}" for c in cells))


if __name__ == "__main__":
    sys.exit(main())
