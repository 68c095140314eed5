"""Embedding throughput in fp32, bf16 and int8, with retrieval quality for each, on SciFact.

The same all-MiniLM-L6-v2 weights Satchel bundles, loaded the way Satchel loads them
(``assistant.backends.embedder.SentenceTransformerEmbedder``), in three precisions (int8 in two flavours):

- fp32: torch float32;
- bf16: ``model.to(torch.bfloat16)``, what Satchel picks where the CPU has native bf16;
- int8: torch dynamic quantization of every ``nn.Linear`` to qint8 (weights per tensor,
  activations quantized on the fly), the stock ``quantize_dynamic`` call;
- int8_channel: the same with per-output-channel weight scales, which keeps the
  vectors much closer to fp32.

For each, the SciFact corpus (title + text, one vector per document, as BEIR
evaluations embed it) and the judged queries are encoded, and the queries searched by
exact inner product over the corpus vectors (dense only), so the nDCG@10 and
recall@100 of the precisions differ only by the precision. Throughput counts the
word-piece tokens the model actually sees (special tokens included, truncated to the
model's 256-token window).

A second part measures what sorting inputs by length saves: the same texts batched in
corpus order and in token-length order through a plain batching loop
(``SentenceTransformer.encode`` itself already sorts by character length, so it is
shown beside them for reference).

    .venv/bin/python scripts/bench_precision.py [--docs N] [--sort-docs N] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
import warnings
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SCIFACT = REPO.parent / "shared" / "corpora" / "retrieval" / "scifact"
PRECISIONS = ("fp32", "bf16", "int8", "int8_channel")


def load_corpus(limit: int | None) -> tuple[list[str], list[str]]:
    """Document ids and texts, title and body joined as the BEIR connector does."""
    ids: list[str] = []
    texts: list[str] = []
    with open(SCIFACT / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if limit is not None and len(ids) >= limit:
                break
            row = json.loads(line)
            title, body = str(row.get("title") or ""), str(row.get("text") or "")
            ids.append(str(row["_id"]))
            texts.append(f"{title}\n\n{body}" if title else body)
    return ids, texts


def judged_queries(doc_ids: list[str], qrels_file: Path) -> tuple[list[str], list[str], dict[str, dict[str, int]]]:
    """The queries with at least one judged document in the corpus subset; their
    judgements restricted to that subset, so a limited run still scores fairly."""
    from assistant.evaluation.beir import load_qrels, load_queries

    queries = load_queries(SCIFACT / "queries.jsonl")
    present = set(doc_ids)
    qrels: dict[str, dict[str, int]] = {}
    for qid, judged in load_qrels(qrels_file).items():
        kept = {doc: rel for doc, rel in judged.items() if doc in present}
        if qid in queries and any(rel > 0 for rel in kept.values()):
            qrels[qid] = kept
    qids = sorted(qrels, key=lambda q: int(q) if q.isdigit() else 0)
    return qids, [queries[q] for q in qids], qrels


def encode(model: Any, texts: list[str], batch_size: int) -> np.ndarray:
    """Exactly what ``SentenceTransformerEmbedder.encode`` does with a loaded model."""
    import torch

    with torch.inference_mode():
        vectors = model.encode(
            texts,
            batch_size=batch_size,
            convert_to_numpy=False,
            convert_to_tensor=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
    return np.ascontiguousarray(vectors.float().cpu().numpy(), dtype=np.float32)


def load_model(settings: Any, precision: str) -> Any:
    """The model as Satchel loads it (fp32 or bf16), or its fp32 load quantized to int8."""
    from assistant.backends.embedder import SentenceTransformerEmbedder

    if precision in ("fp32", "bf16"):
        return SentenceTransformerEmbedder(replace(settings, embedding_precision=precision)).load()
    import torch
    from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig, quantize_dynamic

    qconfig = per_channel_dynamic_qconfig if precision == "int8_channel" else default_dynamic_qconfig
    model = SentenceTransformerEmbedder(replace(settings, embedding_precision="fp32")).load()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization deprecation notices
        return quantize_dynamic(model, {torch.nn.Linear: qconfig}, dtype=torch.qint8, inplace=True)


def score(
    doc_vectors: np.ndarray, query_vectors: np.ndarray, doc_ids: list[str], qids: list[str], qrels: dict
) -> tuple[dict[str, float], np.ndarray]:
    """Dense-only metrics by exact inner product, and each query's top 100 rows."""
    from assistant.evaluation.beir import ndcg_at, recall_at, reciprocal_rank

    depth = min(100, len(doc_ids))
    scores = query_vectors @ doc_vectors.T
    top = np.argpartition(-scores, depth - 1, axis=1)[:, :depth]
    order = np.take_along_axis(scores, top, axis=1).argsort(axis=1)[:, ::-1]
    top = np.take_along_axis(top, order, axis=1)
    sums = {"ndcg@10": 0.0, "recall@10": 0.0, "recall@100": 0.0, "mrr": 0.0}
    for row, qid in enumerate(qids):
        ranking = [doc_ids[i] for i in top[row]]
        sums["ndcg@10"] += ndcg_at(ranking, qrels[qid], 10)
        sums["recall@10"] += recall_at(ranking, qrels[qid], 10)
        sums["recall@100"] += recall_at(ranking, qrels[qid], 100)
        sums["mrr"] += reciprocal_rank(ranking, qrels[qid])
    return {k: round(v / max(len(qids), 1), 4) for k, v in sums.items()}, top


def batch_loop(model: Any, texts: list[str], order: np.ndarray, batch_size: int) -> tuple[float, int]:
    """Encode in the given order with a plain batching loop (pad to the longest in each
    batch); seconds and the padded token count."""
    import torch

    padded = 0
    started = time.perf_counter()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = [texts[i] for i in order[start : start + batch_size]]
            features = model.preprocess(batch)
            padded += int(features["input_ids"].numel())
            model(features)["sentence_embedding"]
    return time.perf_counter() - started, padded


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=None, help="limit the corpus (default: all 5,183 abstracts)")
    parser.add_argument(
        "--sort-docs", type=int, default=1000, help="documents for the length-sorting comparison (default 1000)"
    )
    parser.add_argument("--qrels", default=str(SCIFACT / "qrels" / "train.tsv"), help="judgements (default: train)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from assistant.backends.embedder import (
        MAX_SEQUENCE_TOKENS,
        bundled_model_dir,
        cpu_has_native_bf16,
        force_offline,
        load_tokenizer,
        resolve_precision,
    )
    from assistant.settings import Settings

    force_offline()
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    settings = Settings(home=Path("/nonexistent-satchel-bench-home"), embedding_threads=os.cpu_count() or 1)
    default_precision = resolve_precision(Settings(home=settings.home))
    batch_size = settings.embedding_batch_size

    doc_ids, texts = load_corpus(args.docs)
    qids, query_texts, qrels = judged_queries(doc_ids, Path(args.qrels))
    tokenizer = load_tokenizer(bundled_model_dir())
    raw_lengths = np.array([len(e.ids) for e in tokenizer.encode_batch(texts)])
    lengths = np.minimum(raw_lengths, MAX_SEQUENCE_TOKENS)
    tokens = int(lengths.sum())
    query_tokens = int(sum(min(len(e.ids), MAX_SEQUENCE_TOKENS) for e in tokenizer.encode_batch(query_texts)))

    rows: dict[str, dict[str, Any]] = {}
    reference: tuple[np.ndarray, np.ndarray] | None = None
    for precision in PRECISIONS:
        print(f"{precision} …", file=sys.stderr, flush=True)
        model = load_model(settings, precision)
        encode(model, ["warm up"] * 8, batch_size)
        started = time.perf_counter()
        doc_vectors = encode(model, texts, batch_size)
        docs_s = time.perf_counter() - started
        started = time.perf_counter()
        query_vectors = encode(model, query_texts, batch_size)
        queries_s = time.perf_counter() - started
        metrics, top = score(doc_vectors, query_vectors, doc_ids, qids, qrels)
        row: dict[str, Any] = {
            "encode_seconds": round(docs_s, 2),
            "tokens_per_s": round(tokens / docs_s),
            "docs_per_s": round(len(texts) / docs_s, 1),
            "query_tokens_per_s": round(query_tokens / queries_s) if queries_s else None,
            **metrics,
        }
        if reference is None:
            reference = (doc_vectors, top)
        else:
            # how far the vectors and the rankings move from fp32
            # (bf16 vectors were normalised in bf16: renormalise before comparing)
            unit = doc_vectors / np.linalg.norm(doc_vectors, axis=1, keepdims=True)
            cosines = np.einsum("ij,ij->i", unit, reference[0])
            overlap = [len(set(a[:10]) & set(b[:10])) / min(10, len(a)) for a, b in zip(top, reference[1], strict=True)]
            row["min_cosine_to_fp32"] = round(float(cosines.min()), 5)
            row["mean_cosine_to_fp32"] = round(float(cosines.mean()), 5)
            row["top10_overlap_with_fp32"] = round(float(np.mean(overlap)), 4)
        rows[precision] = row
        del model
        gc.collect()
    fp32 = rows["fp32"]
    for precision in rows.keys() - {"fp32"}:
        rows[precision]["speedup_vs_fp32"] = round(rows[precision]["tokens_per_s"] / fp32["tokens_per_s"], 2)
        rows[precision]["ndcg_points_vs_fp32"] = round(100 * (rows[precision]["ndcg@10"] - fp32["ndcg@10"]), 2)

    # length sorting: corpus order vs token-length order, same model and batch size
    print(f"length sorting ({default_precision}) …", file=sys.stderr, flush=True)
    n_sort = min(args.sort_docs, len(texts))
    sort_texts, sort_lengths = texts[:n_sort], lengths[:n_sort]
    sort_tokens = int(sort_lengths.sum())
    model = load_model(settings, default_precision)
    encode(model, ["warm up"] * 8, batch_size)
    unsorted_s, unsorted_padded = batch_loop(model, sort_texts, np.arange(n_sort), batch_size)
    sorted_s, sorted_padded = batch_loop(model, sort_texts, np.argsort(-sort_lengths, kind="stable"), batch_size)
    started = time.perf_counter()
    encode(model, sort_texts, batch_size)
    st_s = time.perf_counter() - started

    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.processor() or platform.platform()}",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu_native_bf16": cpu_has_native_bf16(),
        "satchel_default_precision": default_precision,
        "documents": len(texts),
        "tokens": tokens,
        "tokens_untruncated": int(raw_lengths.sum()),
        "truncated_documents": int((raw_lengths > MAX_SEQUENCE_TOKENS).sum()),
        "queries": len(qids),
        "qrels": Path(args.qrels).name,
        "batch_size": batch_size,
        "precisions": rows,
        "length_sorting": {
            "precision": default_precision,
            "documents": n_sort,
            "tokens": sort_tokens,
            "unsorted_seconds": round(unsorted_s, 2),
            "unsorted_tokens_per_s": round(sort_tokens / unsorted_s),
            "unsorted_padding_fraction": round(1 - sort_tokens / unsorted_padded, 4),
            "sorted_seconds": round(sorted_s, 2),
            "sorted_tokens_per_s": round(sort_tokens / sorted_s),
            "sorted_padding_fraction": round(1 - sort_tokens / sorted_padded, 4),
            "speedup": round(unsorted_s / sorted_s, 2),
            "st_encode_tokens_per_s": round(sort_tokens / st_s),
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            if isinstance(value, dict):
                print(key)
                for inner, figures in value.items():
                    print(f"  {inner:28} {figures}")
            else:
                print(f"{key:30} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
