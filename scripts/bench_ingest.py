"""End-to-end ingest throughput against the raw encoder, in one run.

Writes the BEIR SciFact corpus (real abstracts) as Markdown files, runs the whole
Satchel pipeline on them in a fresh store (walk, parse, chunk, embed, SQLite + FTS5,
FAISS), then encodes exactly the same chunk texts with a bare
``SentenceTransformer.encode`` (same model, precision and batch size) and reports
both throughputs and their ratio.

    .venv/bin/python scripts/bench_ingest.py [--docs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts" / "bench"))

from synthetic import write_abstracts  # noqa: E402 - after the scripts folder is on sys.path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=None, help="limit the number of abstracts (default: all 5,183)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from assistant.backends.embedder import force_offline
    from assistant.core import Satchel
    from assistant.settings import load_settings

    force_offline()
    with tempfile.TemporaryDirectory(prefix="satchel-bench-") as tmp:
        corpus = Path(tmp) / "scifact"
        n_docs = write_abstracts(corpus, args.docs, markdown=True)
        app = Satchel(load_settings({"home": str(Path(tmp) / "home")}))
        app.embedder.load()  # model load is not ingest work; both sides start warm
        app.embedder.encode(["warm up"] * 8)
        app.add_source(corpus)
        started = time.perf_counter()
        report = app.sync()
        pipeline_s = time.perf_counter() - started

        rows = app.store.query(
            "SELECT c.text, c.kind, d.title FROM chunks c JOIN documents d ON d.id = c.document_id ORDER BY c.id"
        )
        from assistant.ingest.chunking import TITLED_KINDS, title_prefix

        tokenizer = app.embedder.tokenizer
        texts = [
            (title_prefix(r["title"] or "", tokenizer) if r["kind"] in TITLED_KINDS else "") + r["text"] for r in rows
        ]
        tokens = sum(len(e.ids) for e in tokenizer.encode_batch(texts))
        model = app.embedder.load()
        import torch

        started = time.perf_counter()
        with torch.inference_mode():
            model.encode(
                texts, batch_size=app.settings.embedding_batch_size, normalize_embeddings=True, show_progress_bar=False
            )
        raw_s = time.perf_counter() - started
        app.close()

    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.processor() or platform.platform()}",
        "documents": n_docs,
        "chunks": len(texts),
        "tokens": tokens,
        "precision": app.embedder.precision,
        "pipeline_seconds": round(pipeline_s, 2),
        "raw_encode_seconds": round(raw_s, 2),
        "pipeline_tokens_per_s": round(tokens / pipeline_s),
        "pipeline_chunks_per_s": round(len(texts) / pipeline_s, 1),
        "raw_tokens_per_s": round(tokens / raw_s),
        "ratio_pipeline_to_raw": round(raw_s / pipeline_s, 3),
        "embedded_chunks": report.embedded_chunks,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:24} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
