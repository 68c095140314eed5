"""Answers while other work runs, as a person meets them: a cold `satchel ask` alone,
while `satchel index` embeds new files into the same home, beside a second `satchel
ask`, and while `satchel watch` syncs a burst of new files. Each situation is run
under each policy, in one run on one machine, so the ratios compare like with like:

- ``turns``: Satchel's default (answer_turns = true): answers queue, background
  embedding pauses while one runs (assistant/cpu_budget.py);
- ``none``: every process uses every core at once (answer_turns = false), as before;
- ``share``: no turns, every process on half the cores (n_threads and
  embedding_threads = cores / 2): the other way to stop oversubscription.

Time to first token is what a person waits: from starting the process to the first
byte of the answer on stdout. Generation speed is what the CLI reports.

    .venv/bin/python scripts/bench_contention.py [--files 1500] [--burst 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts" / "bench"))

from synthetic import write_abstracts  # noqa: E402 - after the scripts folder is on sys.path

SATCHEL = [sys.executable, "-m", "assistant.cli"]
QUESTION = "When is the cabin check-in and what is the door code?"
POLICIES = ("turns", "none", "share")
METER = re.compile(r"first token ([\d.]+)s, (\d+) prompt tok/s, ([\d.]+) tok/s")


def policy_env(home: Path, policy: str) -> dict[str, str]:
    env = dict(os.environ, SATCHEL_HOME=str(home), HF_HUB_OFFLINE="1")
    env["SATCHEL_ANSWER_TURNS"] = "true" if policy == "turns" else "false"
    if policy == "share":
        half = str(max(1, len(os.sched_getaffinity(0)) // 2))
        env["SATCHEL_N_THREADS"] = half
        env["SATCHEL_EMBEDDING_THREADS"] = half
    return env


def start_ask(env: dict[str, str]) -> dict[str, Any]:
    """Start `satchel ask`; the returned record fills in as it runs."""
    record: dict[str, Any] = {"started": time.perf_counter()}
    proc = subprocess.Popen(
        [*SATCHEL, "ask", QUESTION], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    record["proc"] = proc

    def read() -> None:
        assert proc.stdout is not None
        while True:
            piece = os.read(proc.stdout.fileno(), 4096)
            if not piece:
                break
            record.setdefault("first_byte", time.perf_counter())
        record["stderr"] = proc.stderr.read().decode() if proc.stderr else ""
        proc.wait()
        record["ended"] = time.perf_counter()

    record["reader"] = threading.Thread(target=read)
    record["reader"].start()
    return record


def finish_ask(record: dict[str, Any]) -> dict[str, float]:
    record["reader"].join()
    if record["proc"].returncode != 0:
        raise SystemExit(f"satchel ask failed:\n{record['stderr']}")
    meter = METER.search(record["stderr"])
    waited = re.search(r"waited ([\d.]+)s for its turn", record["stderr"])
    return {
        "ttft_s": round(record.get("first_byte", record["ended"]) - record["started"], 2),
        "total_s": round(record["ended"] - record["started"], 2),
        "tokens_per_s": float(meter.group(3)) if meter else 0.0,
        "waited_s": float(waited.group(1)) if waited else 0.0,
        "end": record["ended"],
    }


def ask(env: dict[str, str]) -> dict[str, float]:
    return finish_ask(start_ask(env))


def count(home: Path, table: str) -> int:
    """Rows of ``table`` in the home's store, read while another process writes it."""
    try:
        with sqlite3.connect(f"file:{home / 'satchel.db'}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.Error:
        return -1


def chunks(home: Path) -> int:
    return count(home, "chunks")


def documents(home: Path) -> int:
    return count(home, "documents")


def copy_home(base: Path, target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(base, target, ignore=shutil.ignore_patterns("models", "run", "logs"))
    (target / "models").mkdir()
    for model in (base / "models").iterdir():
        os.link(model, target / "models" / model.name)  # 1 GB: linked, not copied
    return target


def during_index(base: Path, work: Path, files: Path, policy: str, with_answer: bool) -> dict[str, Any]:
    home = copy_home(base, work / f"index-{policy}-{int(with_answer)}")
    env = policy_env(home, policy)
    subprocess.run([*SATCHEL, "add", str(files)], cwd=REPO, env=env, check=True, capture_output=True)
    before = chunks(home)
    started = time.perf_counter()
    indexer = subprocess.Popen(
        [*SATCHEL, "index", "--json"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    answer = None
    if with_answer:
        while chunks(home) <= before + 64 and indexer.poll() is None:  # embedding is under way
            time.sleep(0.1)
        time.sleep(2.0)
        answer = ask(env)
    out, _ = indexer.communicate()
    took = time.perf_counter() - started
    report = json.loads(out)
    result: dict[str, Any] = {"index_s": round(took, 1), "embedded_chunks": report["embedded_chunks"]}
    result["paused_for_answers_s"] = report.get("paused_for_answers_s", 0.0)
    if answer is not None:
        answer.pop("end")
        result["answer"] = answer
        result["answer_ended_before_index"] = True
    shutil.rmtree(home)
    return result


def two_asks(env: dict[str, str]) -> dict[str, Any]:
    first, second = start_ask(env), start_ask(env)
    results = sorted([finish_ask(first), finish_ask(second)], key=lambda r: r["end"])
    for r in results:
        r.pop("end")
    return {"first": results[0], "second": results[1]}


def during_watch(base: Path, work: Path, policy: str, burst: int, with_answer: bool) -> dict[str, Any]:
    home = copy_home(base, work / f"watch-{policy}-{int(with_answer)}")
    inbox = work / f"inbox-{policy}-{int(with_answer)}"
    inbox.mkdir()
    env = policy_env(home, policy)
    subprocess.run([*SATCHEL, "add", str(inbox)], cwd=REPO, env=env, check=True, capture_output=True)
    log = (work / f"watch-{policy}-{int(with_answer)}.log").open("w")
    watcher = subprocess.Popen([*SATCHEL, "watch"], cwd=REPO, env=env, stderr=log, stdout=log)
    try:
        deadline = time.time() + 120
        while "ready" not in (work / f"watch-{policy}-{int(with_answer)}.log").read_text() and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        target = documents(home) + burst
        staging = work / f"staging-{policy}-{int(with_answer)}"
        write_abstracts(staging, burst, skip=4000)
        started = time.perf_counter()
        for file in staging.iterdir():
            shutil.move(str(file), inbox / file.name)
        answer = None
        if with_answer:
            while chunks(home) <= 0 or documents(home) < target - burst + 10:
                time.sleep(0.05)
            answer = ask(env)
            answer.pop("end")
        while documents(home) < target and time.perf_counter() - started < 600:
            time.sleep(0.1)
        synced = time.perf_counter() - started
    finally:
        watcher.terminate()
        watcher.wait(30)
        log.close()
    shutil.rmtree(home)
    result: dict[str, Any] = {"burst_synced_s": round(synced, 1)}
    if answer is not None:
        result["answer"] = answer
    return result


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1500, help="new files `satchel index` embeds")
    parser.add_argument("--burst", type=int, default=200, help="files dropped into a watched folder")
    parser.add_argument("--policies", nargs="+", default=list(POLICIES), choices=POLICIES)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="satchel-contention-") as tmp:
        work = Path(tmp)
        base = work / "base"
        env = policy_env(base, "none")
        subprocess.run([*SATCHEL, "add", str(REPO / "data" / "sample")], cwd=REPO, env=env, check=True)
        subprocess.run([*SATCHEL, "index", "--quiet"], cwd=REPO, env=env, check=True, capture_output=True)
        subprocess.run([*SATCHEL, "ask", QUESTION], cwd=REPO, env=env, check=True, capture_output=True)
        files = work / "abstracts"
        write_abstracts(files, args.files)
        results: dict[str, Any] = {"files": args.files, "burst": args.burst, "cores": len(os.sched_getaffinity(0))}
        for policy in args.policies:
            penv = policy_env(base, policy)
            alone = [ask(penv) for _ in range(3)]
            for a in alone:
                a.pop("end")
            ttft = statistics.median(a["ttft_s"] for a in alone)
            total = statistics.median(a["total_s"] for a in alone)
            speed = statistics.median(a["tokens_per_s"] for a in alone)
            index_alone = during_index(base, work, files, policy, with_answer=False)
            index_busy = during_index(base, work, files, policy, with_answer=True)
            pair = two_asks(penv)
            watch_alone = during_watch(base, work, policy, args.burst, with_answer=False)
            watch_busy = during_watch(base, work, policy, args.burst, with_answer=True)
            answer, watch_answer = index_busy["answer"], watch_busy["answer"]
            results[policy] = {
                "alone": {"ttft_s": ttft, "total_s": total, "tokens_per_s": speed, "runs": alone},
                "index_alone": index_alone,
                "index_with_answer": index_busy,
                "two_asks": pair,
                "watch_alone": watch_alone,
                "watch_with_answer": watch_busy,
                "ratios": {
                    "ttft_during_index": ratio(answer["ttft_s"], ttft),
                    "generation_during_index": ratio(answer["tokens_per_s"], speed),
                    "index_slowdown": ratio(index_busy["index_s"], index_alone["index_s"]),
                    "first_of_two": ratio(pair["first"]["total_s"], total),
                    "second_of_two": ratio(pair["second"]["total_s"], total),
                    "ttft_during_watch": ratio(watch_answer["ttft_s"], ttft),
                    "generation_during_watch": ratio(watch_answer["tokens_per_s"], speed),
                    "watch_slowdown": ratio(watch_busy["burst_synced_s"], watch_alone["burst_synced_s"]),
                },
            }
            print(policy, json.dumps(results[policy]["ratios"]), file=sys.stderr, flush=True)
    print(json.dumps(results, indent=2) if args.json else results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
