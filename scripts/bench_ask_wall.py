"""Wall time of `satchel ask` as a person meets it: a cold process per question
(start-up, store, encoder and model loaded anew, as a script or a shell user has it)
and TUI-warm (one process that has everything loaded, as the terminal app has it),
then TUI-warm again with the KV cache emptied before each question (no reuse of the
system prompt's evaluated prefix), for what that reuse buys.

    .venv/bin/python scripts/bench_ask_wall.py --questions 10 --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
SATCHEL = [sys.executable, "-m", "assistant.cli"]

from assistant.evaluation.beir import percentile  # noqa: E402 - after the repository is on sys.path


def first_token_s(answer: object) -> float:
    """Seconds from the start of the model's work to its first token: the
    answerability check's prompt and the answer's, as the meter counts them."""
    stats = getattr(answer, "stats", None)
    return float(stats.time_to_first_token_s) if stats is not None else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in (REPO / "data" / "questions.jsonl").read_text().splitlines()][
        : args.questions
    ]
    with tempfile.TemporaryDirectory(prefix="satchel-ask-") as tmp:
        env = dict(os.environ, SATCHEL_HOME=tmp, HF_HUB_OFFLINE="1")
        subprocess.run(
            [*SATCHEL, "add", str(REPO / "data" / "sample")], cwd=REPO, env=env, check=True, capture_output=True
        )
        subprocess.run([*SATCHEL, "index", "--quiet"], cwd=REPO, env=env, check=True, capture_output=True)
        subprocess.run([*SATCHEL, "ask", "warm the disk cache"], cwd=REPO, env=env, capture_output=True)
        cold = []
        for question in questions:
            started = time.perf_counter()
            subprocess.run([*SATCHEL, "ask", question, "--json"], cwd=REPO, env=env, check=True, capture_output=True)
            cold.append(time.perf_counter() - started)
        from assistant.core import Satchel
        from assistant.settings import load_settings

        app = Satchel(load_settings({"home": tmp}))
        app.ask("warm up", save=False)  # what the TUI has done before the person's first question
        warm, warm_ttft, fresh, fresh_ttft = [], [], [], []
        for question in questions:
            started = time.perf_counter()
            answer = app.ask(question, save=False)
            warm.append(time.perf_counter() - started)
            warm_ttft.append(first_token_s(answer))
        # the same warm process without the KV cache's prefix reuse: every prompt is
        # evaluated from its first token, the system prompt included
        llm = app.model().load()
        for question in questions:
            llm.reset()
            started = time.perf_counter()
            answer = app.ask(question, save=False)
            fresh.append(time.perf_counter() - started)
            fresh_ttft.append(first_token_s(answer))
        app.close()
    result = {
        "questions": len(questions),
        "cold_p50_s": round(percentile(cold, 0.5), 2),
        "cold_p95_s": round(percentile(cold, 0.95), 2),
        "cold_mean_s": round(statistics.fmean(cold), 2),
        "warm_p50_s": round(percentile(warm, 0.5), 2),
        "warm_p95_s": round(percentile(warm, 0.95), 2),
        "warm_mean_s": round(statistics.fmean(warm), 2),
        "warm_ttft_p50_s": round(percentile(warm_ttft, 0.5), 2),
        "warm_no_prefix_reuse_p50_s": round(percentile(fresh, 0.5), 2),
        "warm_no_prefix_reuse_p95_s": round(percentile(fresh, 0.95), 2),
        "warm_no_prefix_reuse_ttft_p50_s": round(percentile(fresh_ttft, 0.5), 2),
    }
    print(json.dumps(result, indent=2) if args.json else result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
