"""Memory bandwidth, the decode ceiling it sets, and the decode rate measured against it.

The seed formula: generating one token reads every weight of the model once, so a
machine decodes at most memory bandwidth ÷ model size tokens per second. This script
measures this machine's read bandwidth (one thread, as `satchel models` measures it,
and every core together), then answers questions from data/sample with the default
model through Satchel, each answer recorded in the usage ledger, and reports the
decode rate the ledger holds as a fraction of the ceiling, with the energy estimate
and the prices `satchel usage` shows.

    .venv/bin/python scripts/bench_bandwidth.py [--questions 6] [--json]

The machines here are shared: every bandwidth figure is the best of many passes (the
pass least disturbed by other work), and the load average is recorded beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

BUFFER_MB = 512  # well above the last-level cache
PASSES = 15


def _best(fn: Callable[[], object], passes: int = PASSES) -> float:
    best = float("inf")
    for _ in range(passes):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def read_bandwidth(threads: int) -> float:
    """GB/s read by ``threads`` threads each summing its share of one buffer (NumPy
    releases the GIL in its reductions)."""
    import numpy as np

    data = np.ones(BUFFER_MB * (1 << 20) // 8, dtype=np.float64)
    data.sum()  # touch the pages
    parts = np.array_split(data, threads)

    def run() -> None:
        workers = [threading.Thread(target=np.sum, args=(part,)) for part in parts]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    return data.nbytes / (_best(data.sum) if threads == 1 else _best(run)) / 1e9


def copy_bandwidth() -> float:
    """GB/s copied by one thread (memcpy: each byte read once and written once)."""
    import numpy as np

    src = np.ones(BUFFER_MB * (1 << 20) // 8, dtype=np.float64)
    dst = np.zeros_like(src)
    return src.nbytes / _best(lambda: np.copyto(dst, src)) / 1e9


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def decode_run(questions: int, bandwidths: dict[str, float]) -> dict[str, Any]:
    """Answer ``questions`` sample questions with the default model; the ledger's report."""
    from assistant.backends.llm import DEFAULT_MODEL
    from assistant.core import Satchel
    from assistant.settings import load_settings, platform_home

    lines = (REPO / "data" / "questions.jsonl").read_text().splitlines()
    asked = [json.loads(line)["question"] for line in lines[:questions]]
    with tempfile.TemporaryDirectory(prefix="satchel-bandwidth-") as tmp:
        overrides: dict[str, Any] = {"home": tmp, "memory_bandwidth_gbs": bandwidths["all_cores"]}
        assembled = platform_home() / "models" / DEFAULT_MODEL.file
        if assembled.is_file():  # not assembled again (1.1 GB) into the temporary home
            overrides["llm_model"] = str(assembled)
        app = Satchel(load_settings(overrides))
        try:
            app.add_source(REPO / "data" / "sample")
            app.sync()
            app.model().load()
            app.ask("warm up: what is in my notes?", save=False, origin="api")  # the TUI's state
            app.store.conn.execute("DELETE FROM usage_ledger")
            started = time.perf_counter()
            loads = []
            for question in asked:
                app.ask(question, save=False, origin="api")
                loads.append(_load())
            seconds = time.perf_counter() - started
            rows = app.store.query("SELECT * FROM usage_ledger ORDER BY id")
            report = app.usage()
        finally:
            app.close()
    per_answer = [r["generated_tokens"] / r["generation_s"] for r in rows if r["generation_s"] > 0]
    row = report["rows"][0]
    total = report["total"]
    model_bytes = int(row["model_bytes"])
    ceilings = {name: gbs * 1e9 / model_bytes for name, gbs in bandwidths.items()}
    decode = float(row["decode_tokens_per_s"])
    joules = [float(r["energy_j"]) for r in rows]
    return {
        "model": row["model"],
        "model_bytes": model_bytes,
        "questions": len(asked),
        "answers_generated": len(rows),
        "seconds": round(seconds, 1),
        "load_average_during": round(statistics.mean(loads), 2) if loads else None,
        "decode_tokens_per_s": decode,
        "decode_tokens_per_s_median_answer": round(statistics.median(per_answer), 2) if per_answer else None,
        "mean_time_to_first_token_s": row["mean_time_to_first_token_s"],
        "ceiling_tokens_per_s": {name: round(c, 1) for name, c in ceilings.items()},
        "fraction_of_ceiling": {name: round(decode / c, 3) for name, c in ceilings.items()},
        "prompt_tokens": total["prompt_tokens"],
        "generated_tokens": total["generated_tokens"],
        "energy_method": sorted(row["energy_methods"]),
        "energy_j_per_answer": round(statistics.mean(joules), 1) if joules else None,
        "energy_wh": total["energy_wh"],
        "wh_per_1000_generated_tokens": round(total["energy_wh"] / total["generated_tokens"] * 1000, 3),
        "electricity_cost": total["electricity_cost"],
        "cloud_equivalent_cost": total["cloud_equivalent_cost"],
        "prices": report["prices"],
        "currency": report["currency"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=6, help="sample questions answered (0: bandwidth only)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from assistant.answer.models import memory_bandwidth_gbs

    cores = os.cpu_count() or 1
    before = _load()
    bandwidths = {
        "one_thread": round(read_bandwidth(1), 2),
        "all_cores": round(read_bandwidth(cores), 2),
    }
    result: dict[str, Any] = {
        "cores": cores,
        "buffer_mb": BUFFER_MB,
        "passes": PASSES,
        "read_gbs": bandwidths,
        "copy_gbs_one_thread": round(copy_bandwidth(), 2),
        # what `satchel models` and `satchel usage` measure when memory_bandwidth_gbs = 0
        "satchel_models_gbs": round(memory_bandwidth_gbs(), 2),
        "load_average_before": before,
    }
    if args.questions:
        result["decode"] = decode_run(args.questions, bandwidths)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
