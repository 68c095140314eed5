"""Retrieval evaluation on BEIR-format data sets (``satchel eval beir``).

The corpus goes through the normal pipeline (connector, chunker, embedder, store,
FAISS) into a fresh store; every judged query is then run through BM25 alone, dense
alone and the hybrid, and scored with nDCG@10, recall@10, recall@100 and MRR.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.core import Satchel
from assistant.settings import Settings

MODES = ("bm25", "dense", "hybrid")


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        for row in reader:
            if len(row) < 3 or row[0] == "query-id":
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


def load_queries(path: Path) -> dict[str, str]:
    queries: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                queries[str(row["_id"])] = str(row["text"])
    return queries


def ndcg_at(ranking: list[str], relevant: dict[str, int], k: int) -> float:
    dcg = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranking[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(rel / math.log2(i + 2) for i, rel in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranking: list[str], relevant: dict[str, int], k: int) -> float:
    positives = {d for d, r in relevant.items() if r > 0}
    return len(positives & set(ranking[:k])) / len(positives) if positives else 0.0


def reciprocal_rank(ranking: list[str], relevant: dict[str, int]) -> float:
    for i, doc in enumerate(ranking):
        if relevant.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[index]


def ingest_beir(app: Satchel, corpus: Path) -> dict[str, Any]:
    app.add_source(corpus, "beir")
    report = app.sync()
    return report.as_json()


def evaluate(
    app: Satchel, queries: dict[str, str], qrels: dict[str, dict[str, int]], depth: int = 100
) -> dict[str, Any]:
    """Scores of each mode over the judged queries, and hybrid latency."""
    searcher = app.searcher()
    key_of = app.store.document_keys()
    judged = [q for q in qrels if q in queries]
    out: dict[str, Any] = {}
    latencies: list[float] = []
    for mode in MODES:
        sums = {"ndcg@10": 0.0, "recall@10": 0.0, "recall@100": 0.0, "mrr": 0.0}
        for qid in judged:
            started = time.perf_counter()
            results = searcher.search(queries[qid], None, k=depth, mode=mode).results
            if mode == "hybrid":
                latencies.append((time.perf_counter() - started) * 1000)
            ranking: list[str] = []
            for r in results:
                key = key_of.get(r.document_id)
                if key is not None and key not in ranking:
                    ranking.append(key)
            relevant = qrels[qid]
            sums["ndcg@10"] += ndcg_at(ranking, relevant, 10)
            sums["recall@10"] += recall_at(ranking, relevant, 10)
            sums["recall@100"] += recall_at(ranking, relevant, 100)
            sums["mrr"] += reciprocal_rank(ranking, relevant)
        out[mode] = {k: round(v / max(len(judged), 1), 4) for k, v in sums.items()}
    out["latency_ms"] = {
        "p50": round(percentile(latencies, 0.5), 2),
        "p95": round(percentile(latencies, 0.95), 2),
        "mean": round(statistics.fmean(latencies), 2) if latencies else 0.0,
    }
    out["queries"] = len(judged)
    return out


def run_beir(settings: Settings, data_dir: Path, qrels_file: Path, home: Path | None = None) -> dict[str, Any]:
    """Ingest ``data_dir/corpus.jsonl`` into a fresh store and evaluate the queries
    judged in ``qrels_file``."""
    import tempfile

    corpus = data_dir / "corpus.jsonl"
    queries_file = data_dir / "queries.jsonl"
    for needed in (corpus, queries_file, qrels_file):
        if not needed.is_file():
            from assistant.errors import SourceError

            raise SourceError(f"{needed}: missing (a BEIR folder has corpus.jsonl and queries.jsonl)")
    with tempfile.TemporaryDirectory(prefix="satchel-eval-") as tmp:
        eval_settings = replace(settings, home=home or Path(tmp))
        app = Satchel(eval_settings)
        # every chunk of a document may count for retrieval evaluation
        app.settings = replace(eval_settings, max_chunks_per_document=1000)
        try:
            started = time.perf_counter()
            ingest = ingest_beir(app, corpus)
            ingest_s = time.perf_counter() - started
            scores = evaluate(app, load_queries(queries_file), load_qrels(qrels_file))
        finally:
            app.close()
    scores["ingest"] = {
        "documents": ingest["added"],
        "chunks": ingest["embedded_chunks"],
        "seconds": round(ingest_s, 1),
    }
    return scores
