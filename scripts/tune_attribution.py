"""The speaker check's trade-off on LoCoMo-style questions (assistant/answer/attribution.py).

For each MIN_SHARED_WORDS, the share of false-premise questions (category 5) the
check would withdraw and the share of answerable ones it would withdraw wrongly,
for the conversations tuned on and, apart, for the ones held back (``--check``).
No model is run: the accepted answer stands in for the model's (for a false-premise
question it is what the model says when it follows the premise), and the sources
are those `satchel ask` would give the model.

    SATCHEL_HOME=/tmp/locomo-home .venv/bin/python scripts/tune_attribution.py \
        ../shared/corpora/qa/locomo-dev/qa.jsonl --check 42,43 --json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import assistant.answer.attribution as attribution  # noqa: E402
from assistant.answer.rag import named_in  # noqa: E402
from assistant.core import Satchel  # noqa: E402
from assistant.retrieval.search_types import Filters
from assistant.settings import load_settings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--check", default="", help="conversation ids held back, comma-separated")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    held = set(filter(None, args.check.split(",")))
    answerer = Satchel(load_settings()).answerer()
    cases = []
    for line in Path(args.file).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        query, results, _ = answerer.retrieve(item["question"], Filters())
        chats = [(n, r.text) for n, r in enumerate(results, 1) if r.kind == "chat"]
        group = "check" if str(item.get("conv")) in held else "tune"
        cases.append((group, item.get("category") == 5, item["question"], str(item.get("answer", "")), chats))
    report = {}
    for threshold in (1, 2, 3):
        attribution.MIN_SHARED_WORDS = threshold
        counts: Counter[tuple[str, bool, bool]] = Counter()
        for group, false_premise, question, answer, chats in cases:
            flagged = attribution.misattribution(question, answer, named_in(question), chats) is not None
            counts[(group, false_premise, flagged)] += 1
        row = {}
        for group in ("tune", "check"):
            premise = counts[(group, True, True)] + counts[(group, True, False)]
            answerable = counts[(group, False, True)] + counts[(group, False, False)]
            if premise + answerable:
                row[group] = {
                    "false_premise": premise,
                    "false_premise_withdrawn": round(counts[(group, True, True)] / max(premise, 1), 3),
                    "answerable": answerable,
                    "answerable_withdrawn": round(counts[(group, False, True)] / max(answerable, 1), 3),
                }
        report[threshold] = row
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for threshold, row in report.items():
            for group, figures in row.items():
                print(
                    f"MIN_SHARED_WORDS={threshold} {group:5}: false premises withdrawn "
                    f"{figures['false_premise_withdrawn']:.0%} of {figures['false_premise']}, "
                    f"answerable withdrawn {figures['answerable_withdrawn']:.1%} of {figures['answerable']}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
