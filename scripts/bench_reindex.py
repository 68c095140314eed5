"""No-op re-sync of a large tree: the (size, mtime) fast path.

Writes a tree of N small Markdown files (real SciFact sentences, 100 per folder),
indexes it once with the real pipeline, then times `sync()` again with nothing
changed (in process, and as a fresh `satchel index` process, which includes Python
start-up and imports), and once more after touching 1% of the files.

    .venv/bin/python scripts/bench_reindex.py [--files 10000] [--json]
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SCIFACT = REPO.parent / "shared" / "corpora" / "retrieval" / "scifact" / "corpus.jsonl"


def write_tree(root: Path, count: int) -> None:
    sentences: list[str] = []
    with open(SCIFACT, encoding="utf-8") as handle:
        for line in handle:
            sentences += [s.strip() for s in json.loads(line)["text"].split(". ") if len(s) > 40]
            if len(sentences) > count * 2:
                break
    for n in range(count):
        folder = root / f"folder{n // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"note{n:05d}.md").write_text(f"# Note {n}\n\n{sentences[2 * n]}. {sentences[2 * n + 1]}.\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from assistant.backends.embedder import force_offline
    from assistant.core import Satchel
    from assistant.settings import load_settings

    force_offline()
    with tempfile.TemporaryDirectory(prefix="satchel-reindex-") as tmp:
        root = Path(tmp) / "tree"
        home = Path(tmp) / "home"
        write_tree(root, args.files)
        app = Satchel(load_settings({"home": str(home)}))
        app.add_source(root)
        started = time.perf_counter()
        first = app.sync()
        first_s = time.perf_counter() - started

        started = time.perf_counter()
        noop = app.sync()
        noop_s = time.perf_counter() - started
        assert noop.embedded_chunks == 0 and noop.unchanged == args.files, noop

        env = dict(os.environ, SATCHEL_HOME=str(home), HF_HUB_OFFLINE="1")
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "assistant.cli", "index", "--quiet"],
            env=env,
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        cli_s = time.perf_counter() - started

        touched = list(root.rglob("*.md"))[::100]
        later = time.time() + 10
        for path in touched:
            os.utime(path, (later, later))
        started = time.perf_counter()
        touch = app.sync()
        touch_s = time.perf_counter() - started
        app.close()

    result = {
        "files": args.files,
        "first_index_seconds": round(first_s, 2),
        "first_index_chunks": first.embedded_chunks,
        "noop_resync_seconds": round(noop_s, 3),
        "noop_resync_cli_seconds": round(cli_s, 2),
        "touched_files": len(touched),
        "touched_resync_seconds": round(touch_s, 3),
        "touched_embedded_chunks": touch.embedded_chunks,
    }
    print(json.dumps(result, indent=2) if args.json else "\n".join(f"{k:28} {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
