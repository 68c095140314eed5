"""A large mbox through the whole pipeline: time and peak memory (issue 3).

Generates an mbox of the given size from the real email corpus with
scripts/make_big_mbox.py (fresh Message-IDs per round, so every message is indexed),
then runs `satchel add` + `satchel index --json` on it in a fresh SATCHEL_HOME and
reports the indexing process's peak RSS (from the kernel's rusage of the child),
wall time, and what was indexed. Repeated rounds have the same text as the first,
so their chunks take their vectors from the store (the per-chunk embedded-text hash)
and the run measures streaming parse, chunking and writing rather than the encoder.

    .venv/bin/python scripts/bench_big_mbox.py [--size 1G] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1G", help="mbox size (1G, 200M, ...)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="satchel-bigmbox-") as tmp:
        mbox = Path(tmp) / "big.mbox"
        subprocess.run(
            [sys.executable, str(REPO / "scripts" / "make_big_mbox.py"), str(mbox), "--size", args.size],
            check=True,
            capture_output=True,
        )
        env = dict(os.environ, SATCHEL_HOME=str(Path(tmp) / "home"), HF_HUB_OFFLINE="1")
        cli = [sys.executable, "-m", "assistant.cli"]
        subprocess.run([*cli, "add", str(mbox)], env=env, cwd=REPO, check=True, capture_output=True)
        started = time.perf_counter()
        done = subprocess.run([*cli, "index", "--json"], env=env, cwd=REPO, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if done.returncode not in (0, 10):  # 10: some items failed, the rest indexed
            print(done.stderr[-2000:], file=sys.stderr)
            return done.returncode
        report = json.loads(done.stdout)
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        result = {
            "mbox_bytes": mbox.stat().st_size,
            "index_seconds": round(seconds, 1),
            "mb_per_second": round(mbox.stat().st_size / 2**20 / seconds, 2),
            "peak_rss_mb": round(peak_kb / 1024),
            "exit_code": done.returncode,
            "report": report,
        }
    print(json.dumps(result, indent=2) if args.json else "\n".join(f"{k:16} {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
