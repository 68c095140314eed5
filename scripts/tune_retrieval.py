"""Hybrid retrieval tuning on SciFact: the experiments behind the defaults.

Ingests the SciFact corpus once through the normal pipeline (``--keep DIR`` reuses
the store), then, for every judged query, takes the BM25 and dense candidate lists
once and re-fuses them under each setting: reciprocal rank fusion with several
constants and side weights, and normalised score fusion (min-max per query, convex
weight). Chunks are folded into documents by their best rank, as ``satchel eval
beir`` does. Reports nDCG@10 and recall@100 on the train judgements (for choosing)
and on the test judgements where they exist (they are held back from ../shared).

    .venv/bin/python scripts/tune_retrieval.py [--keep DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SCIFACT = REPO.parent / "shared" / "corpora" / "retrieval" / "scifact"

Hits = list[tuple[int, float]]


def rrf(k: int, bm25_weight: float = 1.0) -> Callable[[Hits, Hits], dict[int, float]]:
    """Satchel's own reciprocal rank fusion; ``bm25_weight`` of 2 (dense gets 2 - it)."""
    return _satchel_fusion("rrf", bm25_weight / 2, k)


def z_scores(bm25_weight: float) -> Callable[[Hits, Hits], dict[int, float]]:
    """Satchel's own z-score fusion (``fusion = "z-score"``)."""
    return _satchel_fusion("z-score", bm25_weight)


def _satchel_fusion(fusion: str, bm25_weight: float, rrf_k: int = 10) -> Callable[[Hits, Hits], dict[int, float]]:
    from assistant.retrieval.search import Searcher

    # fusion needs no store, model or index: the experiments run the product's code
    return Searcher(None, None, None, fusion=fusion, bm25_weight=bm25_weight, rrf_k=rrf_k).fuse  # type: ignore[arg-type]


def min_max(hits: Hits) -> tuple[dict[int, float], float]:
    """Scores mapped onto [0, 1] over the list; a candidate missing from it counts 0."""
    if not hits:
        return {}, 0.0
    scores = [s for _, s in hits]
    low, high = min(scores), max(scores)
    return {cid: (s - low) / (high - low) if high > low else 1.0 for cid, s in hits}, 0.0


def convex(bm25_weight: float) -> Callable[[Hits, Hits], dict[int, float]]:
    """Min-max score fusion (not in Satchel: measured against the two it has)."""

    def fuse(bm25: Hits, dense: Hits) -> dict[int, float]:
        (b, b_floor), (d, d_floor) = min_max(bm25), min_max(dense)
        return {
            cid: bm25_weight * b.get(cid, b_floor) + (1 - bm25_weight) * d.get(cid, d_floor)
            for cid in b.keys() | d.keys()
        }

    return fuse


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build the SciFact store here once and reuse it")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--test-qrels",
        type=Path,
        help="held-back judgements to report beside train (SciFact's test.tsv is not in ../shared)",
    )
    parser.add_argument(
        "--title-every-chunk",
        action="store_true",
        help="experiment: embed every chunk with its document's title in front (as for email and chat)",
    )
    args = parser.parse_args()

    from assistant.backends.embedder import force_offline
    from assistant.core import Satchel
    from assistant.evaluation.beir import load_qrels, load_queries, ndcg_at, recall_at
    from assistant.retrieval import search as search_module
    from assistant.retrieval.search_types import Filters
    from assistant.settings import load_settings

    force_offline()
    if args.title_every_chunk:
        from assistant.ingest import chunking

        chunking.TITLED_KINDS = chunking.TITLED_KINDS | {"file"}  # BEIR documents are files
    with tempfile.TemporaryDirectory(prefix="satchel-tune-") as tmp:
        home = args.keep or Path(tmp)
        settings = load_settings({"home": str(home)})
        app = Satchel(replace(settings, max_chunks_per_document=1000))
        if not app.store.sources():
            app.add_source(SCIFACT / "corpus.jsonl", "beir")
            app.sync()
        queries = load_queries(SCIFACT / "queries.jsonl")
        # test.tsv is held back (not shipped in ../shared): tuned on train alone, and
        # the test judgements, where given, only reported
        splits = {
            name: load_qrels(SCIFACT / "qrels" / f"{name}.tsv")
            for name in ("train", "test")
            if (SCIFACT / "qrels" / f"{name}.tsv").is_file()
        }
        if args.test_qrels:
            splits["test"] = load_qrels(args.test_qrels)
        key_of = {int(r["id"]): str(r["key"]) for r in app.store.query("SELECT id, key FROM documents")}
        doc_of = {int(r["id"]): int(r["document_id"]) for r in app.store.query("SELECT id, document_id FROM chunks")}
        first_chunk: dict[int, int] = {}
        for chunk_id, document_id in sorted(doc_of.items()):
            first_chunk.setdefault(document_id, chunk_id)
        searcher = app.searcher()
        depth = 200
        candidates: dict[tuple[str, str, str], tuple[Hits, Hits]] = {}
        title_weights = {
            "title x1": (1.0, 1.0, 0.5),
            "title x2 (default)": (1.0, 2.0, 0.5),
            "title x4": (1.0, 4.0, 0.5),
        }
        for label, weights in title_weights.items():
            search_module.BM25_WEIGHTS = weights
            for split, qrels in splits.items():
                for qid in qrels:
                    if qid in queries:
                        bm25 = searcher.bm25(queries[qid], Filters(), depth)
                        dense = candidates.get((split, qid, "dense"), ([], []))[1] or searcher.dense(
                            app.embedder.encode_query(queries[qid]), Filters(), depth
                        )
                        candidates[(split, qid, label)] = (bm25, dense)
                        candidates[(split, qid, "dense")] = ([], dense)
        search_module.BM25_WEIGHTS = title_weights["title x2 (default)"]
        # dense with pseudo-relevance feedback: the query moved towards its top chunks
        for split, qrels in splits.items():
            for qid in qrels:
                if qid not in queries:
                    continue
                bm25, dense = candidates[(split, qid, "title x2 (default)")]
                query_vector = app.embedder.encode_query(queries[qid])
                for top, weight in ((3, 0.5), (5, 0.3)):
                    _, matrix = app.store.vectors_for([cid for cid, _ in dense[:top]])
                    moved = query_vector + weight * matrix.mean(axis=0)
                    moved /= float(np.linalg.norm(moved))
                    candidates[(split, qid, f"prf {top} {weight}")] = (bm25, searcher.dense(moved, Filters(), depth))

        def score(split: str, label: str, fuse: Callable[[Hits, Hits], dict[int, float]], cut: int) -> dict:
            ndcg = recall = 0.0
            qrels = splits[split]
            judged = [q for q in qrels if q in queries]
            for qid in judged:
                bm25, dense = candidates[(split, qid, label)]
                fused = fuse(bm25[:cut], dense[:cut])
                ranking: list[str] = []
                for cid in sorted(fused, key=lambda c: -fused[c]):
                    key = key_of[doc_of[cid]]
                    if key not in ranking:
                        ranking.append(key)
                ndcg += ndcg_at(ranking, qrels[qid], 10)
                recall += recall_at(ranking, qrels[qid], 100)
            return {"ndcg@10": round(ndcg / len(judged), 4), "recall@100": round(recall / len(judged), 4)}

        default = "title x2 (default)"

        def dense_only(b: Hits, d: Hits) -> dict[int, float]:
            return dict(d)

        experiments: list[tuple[str, str, Callable[[Hits, Hits], dict[int, float]], int]] = [
            ("bm25 only", default, lambda b, d: {c: s for c, s in b}, 100),
            ("dense only", default, dense_only, 100),
        ]
        for label in title_weights:
            experiments.append((f"rrf k=60, {label}", label, rrf(60), 100))
        for k in (5, 10, 20, 30, 60, 100):
            experiments.append((f"rrf k={k}", default, rrf(k), 100))
        for cut in (20, 50, 200):
            experiments.append((f"rrf k=60, {cut} candidates a side", default, rrf(60), cut))
        for weight in (0.6, 0.8, 1.2, 1.4):
            experiments.append(
                (f"rrf k=60, bm25 weight {weight} / dense {2 - weight:.1f}", default, rrf(60, weight), 100)
            )
        for weight in (0.2, 0.3, 0.4, 0.5, 0.6):
            experiments.append((f"score fusion, bm25 weight {weight}", default, convex(weight), 100))

        def by_document(hits: Hits) -> Hits:
            """Each document once, at its best chunk's score, under one id per document
            (its first chunk) so that both sides' entries for it meet in the fusion."""
            seen: dict[int, tuple[int, float]] = {}
            for cid, s in hits:
                seen.setdefault(doc_of[cid], (first_chunk[doc_of[cid]], s))
            return list(seen.values())

        def documents_first(fuse: Callable[[Hits, Hits], dict[int, float]]) -> Callable[[Hits, Hits], dict[int, float]]:
            return lambda b, d: fuse(by_document(b), by_document(d))

        for k in (10, 30, 60):
            experiments.append((f"documents first, rrf k={k}", default, documents_first(rrf(k)), 100))
        for weight in (0.4, 0.5):
            experiments.append(
                (f"documents first, score fusion {weight}", default, documents_first(convex(weight)), 100)
            )
        for k in (10, 60):
            experiments.append((f"rrf k={k}, 200 candidates a side", default, rrf(k), 200))
        for weight in (0.45, 0.55):
            experiments.append((f"score fusion, bm25 weight {weight}", default, convex(weight), 100))
        for cut in (20, 50, 200):
            experiments.append((f"score fusion 0.5, {cut} candidates a side", default, convex(0.5), cut))
        for weight in (0.4, 0.5, 0.6):
            experiments.append((f"z-score fusion, bm25 weight {weight}", default, z_scores(weight), 100))
            experiments.append(
                (f"documents first, z-score fusion {weight}", default, documents_first(z_scores(weight)), 100)
            )
        for label in title_weights:
            experiments.append((f"score fusion 0.5, {label}", label, convex(0.5), 100))
        for weight in (0.45, 0.55):
            experiments.append((f"z-score fusion, bm25 weight {weight}", default, z_scores(weight), 100))
        for cut in (50, 200):
            experiments.append((f"z-score fusion 0.5, {cut} candidates a side", default, z_scores(0.5), cut))

        def documents_summed(second: float) -> Callable[[Hits], Hits]:
            """Each document at its best chunk's score plus a share of its second best."""

            def fold(hits: Hits) -> Hits:
                best: dict[int, list[float]] = {}
                for cid, s in hits:
                    best.setdefault(doc_of[cid], []).append(s)
                return sorted(
                    (
                        (first_chunk[d], s[0] + second * (s[1] if len(s) > 1 else min(x for _, x in hits)))
                        for d, s in best.items()
                    ),
                    key=lambda h: -h[1],
                )

            return fold

        for second in (0.1, 0.3):
            fold = documents_summed(second)
            experiments.append(
                (
                    f"documents (best + {second} x second), z-score 0.5",
                    default,
                    lambda b, d, fold=fold: z_scores(0.5)(fold(b), fold(d)),
                    100,
                )
            )
        for top, weight in ((3, 0.5), (5, 0.3)):
            label = f"prf {top} {weight}"
            experiments.append(
                (f"dense with feedback from its top {top} (weight {weight}) only", label, dense_only, 100)
            )
            experiments.append(
                (f"rrf k=10, dense with feedback from its top {top} (weight {weight})", label, rrf(10), 100)
            )
        # whole-document vectors: the normalised mean of each document's chunk vectors,
        # searched exactly, beside (or instead of) the best chunk
        doc_ids = sorted(first_chunk)
        sums: dict[int, np.ndarray] = {}
        for ids, matrix in app.store.iter_vectors():
            for cid, vector in zip(ids, matrix, strict=True):
                d = doc_of[int(cid)]
                sums[d] = sums[d] + vector if d in sums else vector.copy()
        doc_matrix = np.stack([sums[d] / np.linalg.norm(sums[d]) for d in doc_ids])
        for split, qrels in splits.items():
            for qid in qrels:
                if qid not in queries:
                    continue
                bm25, dense = candidates[(split, qid, default)]
                scores = doc_matrix @ app.embedder.encode_query(queries[qid])
                top = np.argsort(-scores)[:depth]
                doc_dense = [(first_chunk[doc_ids[i]], float(scores[i])) for i in top]
                candidates[(split, qid, "doc vectors")] = (bm25, doc_dense)
                # both dense views: each document at the better of its best chunk and its mean
                merged: dict[int, float] = {}
                for cid, value in by_document(dense) + doc_dense:
                    merged[cid] = max(value, merged.get(cid, value))
                candidates[(split, qid, "chunk or doc")] = (
                    bm25,
                    sorted(merged.items(), key=lambda h: -h[1])[:depth],
                )
        for label in ("doc vectors", "chunk or doc"):
            experiments.append((f"dense over {label} only", label, dense_only, 100))
            experiments.append((f"{label}: documents first, rrf k=10", label, documents_first(rrf(10)), 100))
            experiments.append((f"{label}: documents first, z-score 0.5", label, documents_first(z_scores(0.5)), 100))
        results = []
        for name, label, fuse, cut in experiments:
            results.append({"setting": name, **{split: score(split, label, fuse, cut) for split in splits}})
        app.close()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            figures = "  ".join(
                f"{s}: nDCG@10 {r[s]['ndcg@10']} R@100 {r[s]['recall@100']}" for s in ("train", "test") if s in r
            )
            print(f"{r['setting']:58} {figures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
