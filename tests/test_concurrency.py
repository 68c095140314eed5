"""Readers keep working while a writer reindexes: SQLite WAL for the store, and a
FAISS index that each search reloads when the writer has published a new
generation. Real embedder, real FAISS, real SQLite."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, SATCHEL, run_cli
from tests.test_crash import make_corpus

pytestmark = pytest.mark.integration


def test_search_during_reindex(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first, second = tmp_path / "first", tmp_path / "second"
    make_corpus(first, 60)
    run_cli("add", str(first), home=home)
    run_cli("index", home=home)
    make_corpus(second, 400)
    run_cli("add", str(second), home=home)

    from assistant.core import Satchel
    from assistant.settings import load_settings

    reader = Satchel(load_settings({"home": str(home)}))
    env = dict(os.environ, SATCHEL_HOME=str(home), HF_HUB_OFFLINE="1")
    writer = subprocess.Popen([*SATCHEL, "index", "--quiet"], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    searches, sizes, errors = 0, [], []
    try:
        while writer.poll() is None:
            try:
                outcome = reader.search("cells and proteins in disease", k=5)
                searches += 1
                sizes.append(reader.index.size)
                assert outcome.results, "a reader saw an empty result"
            except Exception as exc:  # any reader failure fails the test
                errors.append(repr(exc))
            time.sleep(0.05)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert writer.returncode == 0, writer.stderr.read() if writer.stderr else ""
    assert errors == []
    assert searches >= 5
    # the reader followed the writer's published generations
    final = reader.search("cells and proteins in disease", k=5)
    assert final.results and reader.index.size == reader.store.counts()["vectors"]
    assert max(sizes) <= reader.index.size and reader.index.size > min(sizes)
    reader.close()
