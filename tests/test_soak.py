"""The soak test of the live paths, short: `satchel watch` under a few hundred file
events of every kind, two reader processes (`satchel search` processes and a
long-lived core that also runs the TUI's sync once), and the watcher SIGKILLed and
restarted once mid-churn. The store must then equal the disk exactly, with no reader
error (scripts/soak.py; the long run's figures are in docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration


def test_soak_watch_with_readers_and_a_kill(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    proc = subprocess.run(
        [
            sys.executable, "scripts/soak.py", "--events", "250", "--readers", "2", "--kills", "1",
            "--seed-files", "20", "--seed", "3", "--workdir", str(tmp_path / "work"), "--json", str(out),
        ],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert out.exists(), proc.stderr[-3000:]
    summary = json.loads(out.read_text())
    store = summary["store"]
    assert summary["events"] >= 250
    assert summary["watcher_kills"] == 1
    assert summary["reader_ops"] > 0
    assert summary["reader_errors"] == 0, summary["reader_messages"]
    assert store["live_files"] > 50
    assert (store["lost"], store["stale"], store["mismatched"], store["duplicated"], store["unfindable"]) == (
        0, 0, 0, 0, 0,
    ), store  # fmt: skip
    assert store["fts_integrity"] and store["fts_equals_chunks"] and store["vectors_equal_chunks"]
    assert store["faiss_ids_equal_chunks"] and store["faiss_file_equals_chunks"]
    assert summary["probes_seen"] > 0 and summary["ok"] is True
    assert proc.returncode == 0
