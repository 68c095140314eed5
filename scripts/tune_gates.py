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

from assistant.answer.qa_eval import load_items  # noqa: E402
from assistant.core import Satchel  # noqa: E402
from assistant.search import Filters  # noqa: E402
from assistant.settings import load_settings  # noqa: E402

THRESHOLDS = [round(0.5 + 0.05 * i, 2) for i in range(25)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="+")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    app = Satchel(load_settings())
    answerer = app.answerer()
    scores: list[tuple[float, bool]] = []  # (relevance, answerable)
    for name in args.file:
        for item in load_items(Path(name)):
            query, results, _ = answerer.retrieve(item.question, Filters())
            scores.append((answerer.relevance(query, results), not item.unanswerable))
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


if __name__ == "__main__":
    sys.exit(main())
