"""Latency of the MCP `search` tool: a client's call over stdio, answered by a warm
`satchel mcp` server, on a synthetic store of N chunks.

The store is the one scripts/bench_search.py builds (SciFact text windows with
bag-of-words random-projection vectors; IVF-SQ8 past 100k chunks) and the queries are
SciFact's. The client is the MCP SDK's own (stdio_client): each figure is the wall
time of one `tools/call` seen by the client, JSON-RPC framing, argument validation,
the search itself and the structured result included. The same queries then run
in process through `Satchel.search` (bench_search.py's measurement), so the
protocol's share of the time shows beside the CLI path without process start-up.
The target is a p95 of 60 ms at 100k chunks.

    .venv/bin/python scripts/bench_mcp.py [--chunks 100000] [--queries 200] [--keep DIR] [--kind KIND] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "scripts" / "bench"))

from bench_search import build_store  # noqa: E402
from synthetic import scifact_queries  # noqa: E402


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2)


async def measure_mcp(home: Path, queries: list[str], server_args: list[str]) -> dict[str, Any]:
    import psutil
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "assistant.cli", "mcp", *server_args],
        env={"SATCHEL_HOME": str(home), "HF_HUB_OFFLINE": "1"},
        cwd=str(REPO),
    )
    started = time.perf_counter()
    with open(home / "bench-mcp-server.log", "w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            connected = time.perf_counter() - started
            first = await client.call_tool("search", {"query": "warm up"})  # waits for the warm-up
            if first.is_error:
                raise SystemExit(f"search failed: {first.content[0].text}")
            first_s = time.perf_counter() - started
            walls: list[float] = []
            counts: list[int] = []
            for query in queries:
                t0 = time.perf_counter()
                result = await client.call_tool("search", {"query": query, "k": 10})
                walls.append((time.perf_counter() - t0) * 1000)
                if result.is_error:
                    raise SystemExit(f"search {query!r} failed: {result.content[0].text}")
                counts.append(len(result.structured_content["results"]))
            servers = [p for p in psutil.Process().children(recursive=True) if "mcp" in " ".join(p.cmdline())]
            rss = max((p.memory_info().rss for p in servers), default=0)
    return {
        "connect_seconds": round(connected, 2),
        "first_search_seconds": round(first_s, 2),
        "mcp_search_p50_ms": pct(walls, 50),
        "mcp_search_p95_ms": pct(walls, 95),
        "mcp_search_max_ms": round(max(walls), 2),
        "results_per_query_min": min(counts),
        "server_rss_mb": round(rss / 2**20),
    }


def measure_in_process(home: Path, queries: int) -> dict[str, Any]:
    """bench_search.py's in-process figures on the same store, in a child process."""
    env = dict(os.environ, SATCHEL_HOME=str(home), HF_HUB_OFFLINE="1")
    child = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench_search.py"), "--measure", str(home), "--queries", str(queries)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    return {
        "index": measured["index"],
        "in_process_p50_ms": measured["p50_ms"],
        "in_process_p95_ms": measured["p95_ms"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="build the store here once and reuse it on later runs")
    parser.add_argument(
        "--kind", action="append", default=[], help="start the server with --kind KIND (the restricted path)"
    )
    parser.add_argument("--no-compare", action="store_true", help="skip the in-process measurement")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import anyio

    from assistant.backends.embedder import force_offline

    force_offline()
    queries = scifact_queries()[: args.queries]
    server_args = [f"--kind={k}" for k in args.kind]
    with tempfile.TemporaryDirectory(prefix="satchel-mcp-bench-") as tmp:
        home = args.keep or Path(tmp) / "home"
        started = time.perf_counter()
        if not (home / "satchel.db").exists():
            build_store(home, args.chunks)
        build_s = time.perf_counter() - started
        result: dict[str, Any] = {"chunks": args.chunks, "queries": len(queries), "server_args": server_args}
        result["store_build_seconds"] = round(build_s, 1)
        result.update(anyio.run(measure_mcp, home, queries, server_args))
        if not args.no_compare:
            result.update(measure_in_process(home, args.queries))
    result["target_p95_ms"] = 60
    print(json.dumps(result, indent=2) if args.json else "\n".join(f"{k:28} {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
