"""`satchel eval qa` on the LoCoMo development set (../shared/corpora/qa/locomo-dev):
its WhatsApp and Telegram exports indexed into a fresh store, evidence recall@10 of
all questions, and answers to a seeded sample (the whole set takes hours on 2 cores).

    .venv/bin/python scripts/eval_qa_locomo.py --sample 60 --json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCOMO = REPO.parent / "shared" / "corpora" / "qa" / "locomo-dev"
SATCHEL = [sys.executable, "-m", "assistant.cli"]


def satchel(home: Path, *args: str) -> str:
    env = dict(os.environ, SATCHEL_HOME=str(home), HF_HUB_OFFLINE="1")
    return subprocess.run([*SATCHEL, *args], cwd=REPO, env=env, check=True, capture_output=True, text=True).stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=60, help="questions answered (seeded sample)")
    parser.add_argument("--model", help="a GGUF file (default: the configured model)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="satchel-locomo-") as tmp:
        home = Path(tmp)
        satchel(home, "add", str(LOCOMO / "exports"))
        index = json.loads(satchel(home, "index", "--json"))
        questions = str(LOCOMO / "qa.jsonl")
        retrieval = json.loads(satchel(home, "eval", "qa", questions, "--retrieval-only", "--json"))
        extra = ["--model", args.model] if args.model else []
        answers = json.loads(satchel(home, "eval", "qa", questions, "--sample", str(args.sample), "--json", *extra))
    result = {
        "documents": index["added"],
        "chunks": index["embedded_chunks"],
        "questions": retrieval["overall"]["questions"],
        "evidence_recall_all": retrieval["overall"]["evidence_recall"],
        "evidence_recall_by_type": {t: m["evidence_recall"] for t, m in retrieval["by_type"].items()},
        "sample": args.sample,
        "answers": {"overall": answers["overall"], "by_type": answers["by_type"]},
    }
    print(json.dumps(result, indent=2) if args.json else result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
