"""Compare answer prompts on a question file, in one process, on an existing store.

    SATCHEL_HOME=/tmp/locomo-home .venv/bin/python scripts/tune_prompt.py \
        ../shared/corpora/qa/locomo-dev/qa.jsonl --sample 40 --variant current --variant v2

Each variant replaces the system prompt (assistant/answer/rag.py) and answers the same
seeded sample through `satchel eval qa`'s scoring; one JSON line per variant.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.answer import rag  # noqa: E402
from assistant.core import Satchel  # noqa: E402
from assistant.evaluation.qa import load_items, run_qa  # noqa: E402
from assistant.settings import load_settings  # noqa: E402

VARIANTS = {"current": rag.SYSTEM_PROMPT}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--type", dest="types", action="append")
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--prompt-file", help="a JSON object of extra variants: name -> system prompt")
    parser.add_argument("--model")
    parser.add_argument("--rows", action="store_true", help="print every answer")
    args = parser.parse_args()
    variants = dict(VARIANTS)
    if args.prompt_file:
        variants.update(json.loads(Path(args.prompt_file).read_text()))
    items = load_items(Path(args.file))
    if args.types:
        items = [i for i in items if i.type in args.types]
    items = random.Random(0).sample(items, min(args.sample, len(items)))
    app = Satchel(load_settings())
    for name in args.variant or ["current"]:
        rag.SYSTEM_PROMPT = variants[name]
        report = run_qa(app, items, model=args.model)
        o = report["overall"]
        line = {
            "variant": name,
            "right": o["right"],
            "answerable": o["answerable"],
            "declined": o["declined"],
            "unanswerable": o["unanswerable"],
            "false_declines": o["false_declines"],
            "f1": o["token_f1"],
            "p50": o["latency_p50_s"],
            "by_type": {
                t: (m["right"], m["answerable"], m["declined"], m["unanswerable"]) for t, m in report["by_type"].items()
            },
        }
        print(json.dumps(line), flush=True)
        if args.rows:
            for row in report["rows"]:
                print("  ", row["right"], "|", row["question"][:60], "|", row["answer"][:140].replace("\n", " "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
