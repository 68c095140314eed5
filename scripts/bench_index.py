"""FAISS index kinds compared: exact inner product vs HNSW vs IVF-SQ8 (what Satchel
switches to past EXACT_LIMIT), for recall@10 against exact search, single-query
latency and size.

Two kinds of vectors: real all-MiniLM-L6-v2 embeddings of SciFact text windows (what
the probe share is tuned on; embedding them costs a minute or two), and bag-of-words
random projections of the same kind of text at 100k and 1M (scripts/bench/synthetic.py;
a harder, structureless case that bounds recall from below). Queries are SciFact's
claims, embedded or projected the same way.

    .venv/bin/python scripts/bench_index.py [--real 20000] [--sizes 100000 1000000] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts" / "bench"))

from synthetic import DIMENSION, Projector, scifact_queries, windows  # noqa: E402

PROBE_SHARES = (0.05, 0.1, 0.2, 0.3)


def latency(search: Callable[[np.ndarray], Any], queries: np.ndarray) -> tuple[float, float]:
    times = []
    for q in queries:
        started = time.perf_counter()
        search(q.reshape(1, -1))
        times.append((time.perf_counter() - started) * 1000)
    return round(float(np.percentile(times, 50)), 2), round(float(np.percentile(times, 95)), 2)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return round(float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])), 4)


def measure(vectors: np.ndarray, queries: np.ndarray, with_hnsw: bool) -> dict:
    import faiss

    from assistant.store.vector_index import _TRAINING_PER_LIST, IVF_PROBE_FRACTION, ivf_lists

    size = len(vectors)
    ids = np.arange(size, dtype=np.int64)
    faiss.omp_set_num_threads(1)  # Satchel searches one query at a time on one thread
    exact = faiss.IndexIDMap2(faiss.IndexFlatIP(DIMENSION))
    exact.add_with_ids(vectors, ids)
    _, truth = exact.search(queries, 10)
    p50, p95 = latency(lambda q, index=exact: index.search(q, 100), queries)
    report: dict = {"vectors": size, "exact": {"p50_ms": p50, "p95_ms": p95, "mb": _mb(exact)}}
    del exact

    lists = ivf_lists(size)
    ivf = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(DIMENSION), DIMENSION, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    faiss.omp_set_num_threads(2)
    started = time.perf_counter()
    step = max(1, size // (lists * _TRAINING_PER_LIST))
    ivf.train(np.ascontiguousarray(vectors[::step][: lists * _TRAINING_PER_LIST]))
    ivf.add_with_ids(vectors, ids)
    built = time.perf_counter() - started
    faiss.omp_set_num_threads(1)
    sweep = {}
    for share in PROBE_SHARES:
        ivf.nprobe = max(1, int(np.ceil(lists * share)))
        _, found = ivf.search(queries, 10)
        p50, p95 = latency(lambda q, index=ivf: index.search(q, 100), queries)
        sweep[str(share)] = {"nprobe": int(ivf.nprobe), "recall@10": recall(found, truth), "p50_ms": p50, "p95_ms": p95}
    report["ivf_sq8"] = {
        "lists": lists,
        "build_seconds": round(built, 1),
        "mb": _mb(ivf),
        "default_share": IVF_PROBE_FRACTION,
        "by_probe_share": sweep,
    }
    del ivf

    if with_hnsw:
        hnsw = faiss.IndexHNSWFlat(DIMENSION, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        faiss.omp_set_num_threads(2)
        started = time.perf_counter()
        hnsw.add(vectors)
        built = time.perf_counter() - started
        faiss.omp_set_num_threads(1)
        sweep = {}
        for ef in (100, 200):  # k = 100 candidates needs efSearch >= 100
            hnsw.hnsw.efSearch = ef
            _, found = hnsw.search(queries, 10)
            p50, p95 = latency(lambda q, index=hnsw: index.search(q, 100), queries)
            sweep[str(ef)] = {"recall@10": recall(found, truth), "p50_ms": p50, "p95_ms": p95}
        report["hnsw_flat_m32"] = {"build_seconds": round(built, 1), "mb": _mb(hnsw), "by_ef_search": sweep}
    return report


def _mb(index: Any) -> float:
    import faiss

    return round(int(faiss.serialize_index(index).nbytes) / 2**20, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=int, default=20_000, help="real embedded windows (0: skip)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--hnsw-limit", type=int, default=100_000, help="skip HNSW above this size (slow build)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    claims = scifact_queries()[: args.queries]
    results: dict[str, Any] = {}
    if args.real:
        from assistant.backends.embedder import SentenceTransformerEmbedder, force_offline
        from assistant.settings import load_settings

        force_offline()
        embedder = SentenceTransformerEmbedder(load_settings())
        started = time.perf_counter()
        real = embedder.encode(windows(args.real, seed=3))
        embedded = time.perf_counter() - started
        results["real_minilm"] = measure(real, embedder.encode(claims), with_hnsw=True)
        results["real_minilm"]["embed_seconds"] = round(embedded, 1)
        del real, embedder
    projector = Projector()
    projected_queries = projector.vectors(claims)
    for size in args.sizes:
        started = time.perf_counter()
        batches = [projector.vectors(windows(min(100_000, size - s), seed=s)) for s in range(0, size, 100_000)]
        vectors = np.concatenate(batches)
        made = time.perf_counter() - started
        results[f"projected_{size}"] = measure(vectors, projected_queries, with_hnsw=size <= args.hnsw_limit)
        results[f"projected_{size}"]["make_seconds"] = round(made, 1)
        del vectors, batches
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
