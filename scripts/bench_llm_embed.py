"""Satchel's ingest side by side with the peer `llm embed-multi`, on the same corpus, in one run.

The BEIR SciFact abstracts are written as Markdown files (as ``scripts/bench_ingest.py``
writes them) and embedded twice with the same bundled all-MiniLM-L6-v2 folder, each as a
whole cold command in a fresh process and a fresh database:

- ``llm embed-multi scifact --files DIR '*.md' -m MODEL -d llm.db`` with the
  ``llm-sentence-transformers`` plugin (llm's defaults otherwise: fp32, its own batching);
- ``satchel --home HOME index`` after ``satchel add DIR`` (the whole pipeline: walk,
  parse, chunk, embed, SQLite + FTS5, FAISS, with Satchel's default precision).

Each command's wall time and peak RSS are taken from its own process; the figure of
merit is llm seconds / Satchel seconds (the issue asks for at least 2). The two do not
embed the same amount of text: llm gives each file to the model whole and the model
reads only its first 256 tokens, while Satchel chunks every file and embeds all of it,
so the word-piece tokens each side fed its model are reported too. A cold
``llm embed`` of one string is timed too, to show how much of llm's time is start-up
and model load.

llm is installed into ``.bench-venv/`` in the checkout (ignored by git), never into
Satchel's ``.venv``, with torch pinned to the same CPU build Satchel installs; the
install runs only when that environment is missing or incomplete. Everything runs
offline: the model is registered by its local folder, ``HF_HUB_OFFLINE=1``, and
``LLM_USER_PATH`` points at a temporary folder so nothing touches ~/.config.

    .venv/bin/python scripts/bench_llm_embed.py [--docs N] [--json] [--install-only]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))
BENCH_VENV = REPO / ".bench-venv"
# the same pin as scripts/install.sh: the machine's CPU wheel, not gigabytes of CUDA
TORCH_PIN = "torch==2.13.0"
LLM_PACKAGES = ("llm", "llm-sentence-transformers")
CHECK = (
    "import importlib.metadata as m, torch, llm, llm_sentence_transformers, sentence_transformers;"
    "print(m.version('llm'), m.version('llm-sentence-transformers'), torch.__version__, torch.get_num_threads())"
)


def fail(message: str) -> SystemExit:
    return SystemExit(f"bench_llm_embed: {message}")


def llm_versions() -> list[str] | None:
    """llm, plugin and torch versions and torch's thread count, or None when the
    environment is missing or broken."""
    python = BENCH_VENV / "bin" / "python"
    if not python.is_file() or not (BENCH_VENV / "bin" / "llm").is_file():
        return None
    proc = subprocess.run([str(python), "-c", CHECK], capture_output=True, text=True)
    return proc.stdout.split() if proc.returncode == 0 else None


def ensure_llm() -> list[str]:
    versions = llm_versions()
    if versions is not None:
        return versions
    print(f"installing llm into {BENCH_VENV} (once) …", file=sys.stderr, flush=True)
    python = BENCH_VENV / "bin" / "python"
    if not python.is_file():
        proc = subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], capture_output=True, text=True)
        if proc.returncode:
            raise fail(f"cannot create {BENCH_VENV}: {proc.stderr.strip()[-2000:]}")
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    # torch first and pinned, as scripts/install.sh does
    for packages in ([TORCH_PIN], [TORCH_PIN, *LLM_PACKAGES]):
        proc = subprocess.run([*pip, *packages], capture_output=True, text=True)
        if proc.returncode:
            raise fail(
                f"cannot install {' '.join(packages)} into {BENCH_VENV} (no llm figures without it):\n"
                + (proc.stderr or proc.stdout).strip()[-3000:]
            )
    versions = llm_versions()
    if versions is None:
        raise fail(f"llm was installed into {BENCH_VENV} but does not import; delete that folder and retry")
    return versions


def timed(command: list[str], env: dict[str, str], log: Path) -> tuple[float, int]:
    """Run a command to completion; its wall seconds and peak RSS (MB) from its own
    rusage. Its stdout goes to ``log``, its stderr to ``log`` + ``.err``; a failure
    stops the benchmark with the tail of both."""
    errors = log.with_name(log.name + ".err")
    with open(log, "w") as out, open(errors, "w") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        tail = (log.read_text() + errors.read_text())[-3000:]
        raise fail(f"{' '.join(command)} exited {proc.returncode}:\n{tail}")
    return seconds, round(usage.ru_maxrss / 1024)


def embedded_tokens(corpus: Path, home: Path) -> tuple[int, int]:
    """Word-piece tokens each side fed its model: llm one window per file (the model
    truncates a file at 256 tokens), Satchel every chunk of every file, title prefix
    included (as scripts/bench_ingest.py counts them)."""
    from assistant.backends.embedder import MAX_SEQUENCE_TOKENS
    from assistant.core import Satchel
    from assistant.ingest.chunking import TITLED_KINDS, title_prefix
    from assistant.settings import load_settings

    app = Satchel(load_settings({"home": str(home)}))
    try:
        tokenizer = app.embedder.tokenizer
        files = [path.read_text(encoding="utf-8") for path in sorted(corpus.glob("*.md"))]
        llm_tokens = sum(min(len(e.ids), MAX_SEQUENCE_TOKENS) for e in tokenizer.encode_batch(files))
        rows = app.store.query(
            "SELECT c.text, c.kind, d.title FROM chunks c JOIN documents d ON d.id = c.document_id ORDER BY c.id"
        )
        chunks = [
            (title_prefix(r["title"] or "", tokenizer) if r["kind"] in TITLED_KINDS else "") + r["text"] for r in rows
        ]
        satchel_tokens = sum(len(e.ids) for e in tokenizer.encode_batch(chunks))
    finally:
        app.close()
    return llm_tokens, satchel_tokens


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=None, help="limit the number of abstracts (default: all 5,183)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--install-only", action="store_true", help="set up .bench-venv/ and stop")
    args = parser.parse_args()

    llm_version, plugin_version, llm_torch, llm_threads = ensure_llm()
    if args.install_only:
        print(f"llm {llm_version}, llm-sentence-transformers {plugin_version}, torch {llm_torch} in {BENCH_VENV}")
        return 0

    from bench_ingest import write_corpus

    from assistant.backends.embedder import bundled_model_dir, resolve_precision
    from assistant.settings import Settings

    model_path = bundled_model_dir()
    llm = str(BENCH_VENV / "bin" / "llm")
    with tempfile.TemporaryDirectory(prefix="satchel-bench-llm-") as tmp_name:
        tmp = Path(tmp_name)
        corpus = tmp / "scifact"
        n_docs = write_corpus(corpus, args.docs)
        offline = {
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HOME": str(tmp / "hf"),  # an empty cache: the model can only come from its folder
        }
        llm_env = dict(os.environ, **offline, LLM_USER_PATH=str(tmp / "llm-user"))
        satchel_env = dict(os.environ, **offline)
        satchel_env.pop("SATCHEL_HOME", None)

        # llm-sentence-transformers names a model by what SentenceTransformer() loads:
        # a local folder works, and its model id is the plugin prefix plus that path
        subprocess.run(
            [llm, "sentence-transformers", "register", str(model_path), "--lazy"],
            env=llm_env,
            check=True,
            capture_output=True,
        )
        model_id = f"sentence-transformers/{model_path}"

        print("llm embed (one string, cold) …", file=sys.stderr, flush=True)
        probe_s, _ = timed([llm, "embed", "-m", model_id, "-c", "hello world"], llm_env, tmp / "llm-probe.log")

        print(f"llm embed-multi ({n_docs} files) …", file=sys.stderr, flush=True)
        llm_db = tmp / "llm.db"
        llm_s, llm_rss = timed(
            [llm, "embed-multi", "scifact", "--files", str(corpus), "*.md", "-m", model_id, "-d", str(llm_db)],
            llm_env,
            tmp / "llm.log",
        )
        with sqlite3.connect(llm_db) as db:
            llm_rows = db.execute("SELECT count(*) FROM embeddings").fetchone()[0]
        if llm_rows != n_docs:
            raise fail(f"llm embedded {llm_rows} of {n_docs} files; see its output")

        print(f"satchel index ({n_docs} files) …", file=sys.stderr, flush=True)
        satchel = [sys.executable, "-m", "assistant.cli", "--home", str(tmp / "home")]
        timed([*satchel, "add", str(corpus)], satchel_env, tmp / "satchel-add.log")
        satchel_s, satchel_rss = timed([*satchel, "index", "--json"], satchel_env, tmp / "satchel.log")
        report = json.loads((tmp / "satchel.log").read_text())
        if report.get("added") != n_docs:
            raise fail(f"satchel added {report.get('added')} of {n_docs} files: {report}")
        llm_tokens, satchel_tokens = embedded_tokens(corpus, tmp / "home")

    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.processor() or platform.platform()}",
        "documents": n_docs,
        "model": str(model_path),
        "llm_version": llm_version,
        "llm_sentence_transformers_version": plugin_version,
        "llm_torch": llm_torch,
        "llm_torch_threads": int(llm_threads),
        "llm_command": "llm embed-multi scifact --files DIR '*.md' -m sentence-transformers/MODEL_DIR -d llm.db",
        "llm_seconds": round(llm_s, 2),
        "llm_peak_rss_mb": llm_rss,
        "llm_docs_per_s": round(n_docs / llm_s, 1),
        "llm_tokens_embedded": llm_tokens,
        "llm_tokens_per_s": round(llm_tokens / llm_s),
        "llm_cold_single_embed_seconds": round(probe_s, 2),
        "satchel_command": "satchel add DIR && satchel index --json (index timed)",
        "satchel_precision": resolve_precision(Settings(home=Path("/nonexistent-satchel-bench-home"))),
        "satchel_seconds": round(satchel_s, 2),
        "satchel_peak_rss_mb": satchel_rss,
        "satchel_docs_per_s": round(n_docs / satchel_s, 1),
        "satchel_sync_seconds": report.get("seconds"),
        "satchel_chunks": report.get("embedded_chunks"),
        "satchel_tokens_embedded": satchel_tokens,
        "satchel_tokens_per_s": round(satchel_tokens / satchel_s),
        "ratio_llm_to_satchel": round(llm_s / satchel_s, 2),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:34} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
