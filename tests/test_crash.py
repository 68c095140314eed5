"""SIGKILL in the middle of embedding leaves a store and index that agree, loses
nothing committed before the kill, and the next run finishes the job without
redoing finished work. Real embedder, real FAISS, real SQLite, real text."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import CORPORA, REPO, SATCHEL, run_cli

pytestmark = pytest.mark.integration
SCIFACT = CORPORA / "retrieval" / "scifact" / "corpus.jsonl"


def make_corpus(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    with open(SCIFACT, encoding="utf-8") as handle:
        for n, line in enumerate(handle):
            if n >= count:
                break
            doc = json.loads(line)
            (folder / f"{doc['_id']}.md").write_text(f"# {doc['title']}\n\n{doc['text']}\n", encoding="utf-8")


def committed(db: Path) -> tuple[int, int]:
    if not db.exists():
        return 0, 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            docs = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
            chunks = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
            return int(docs), int(chunks)
    except sqlite3.OperationalError:
        return 0, 0


def kill_when(home: Path, min_chunks: int) -> tuple[int, int]:
    env = dict(os.environ, SATCHEL_HOME=str(home), HF_HUB_OFFLINE="1")
    proc = subprocess.Popen(
        [*SATCHEL, "index", "--quiet"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(
                    f"indexer finished before the kill point: {proc.stderr.read().decode() if proc.stderr else ''}"
                )
            _, chunks = committed(home / "satchel.db")
            if chunks >= min_chunks:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("indexer made no progress")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    return committed(home / "satchel.db")


def check_consistent(home: Path) -> dict[str, int]:
    db = sqlite3.connect(home / "satchel.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")
    chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
    vectors = db.execute("SELECT count(*) FROM vectors").fetchone()[0]
    orphans = db.execute(
        "SELECT count(*) FROM chunks c LEFT JOIN vectors v ON v.chunk_id = c.id WHERE v.chunk_id IS NULL"
    ).fetchone()[0]
    fts = db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
    ids = {r[0] for r in db.execute("SELECT id FROM chunks")}
    db.close()
    assert chunks == vectors == fts and orphans == 0
    from assistant.core import Satchel
    from assistant.settings import load_settings

    app = Satchel(load_settings({"home": str(home)}))
    app.index.open(app.store)
    import faiss

    faiss_ids = set(faiss.vector_to_array(app.index.index.id_map).tolist()) if app.index.size else set()
    app.close()
    assert faiss_ids == ids
    return {"chunks": chunks}


def test_sigkill_during_embedding_then_resume(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data = tmp_path / "corpus"
    make_corpus(data, 1000)
    run_cli("add", str(data), home=home)

    # random kill points, a new set each run (the seed is in the failure message)
    seed = int(time.time())
    rng = random.Random(seed)
    killed_at: list[tuple[int, int]] = []
    for _ in range(4):
        docs_before = committed(home / "satchel.db")
        killed = kill_when(home, rng.randint(1, 200) + docs_before[1])
        killed_at.append(killed)
        check_consistent(home)
        assert killed[0] >= docs_before[0], f"seed {seed}: committed documents were lost"

    report = json.loads(run_cli("index", "--json", home=home).stdout)
    assert report["errors"] == 0
    final = check_consistent(home)
    docs, chunks = committed(home / "satchel.db")
    assert docs == 1000
    # finished work is not redone: only the chunks missing at the last kill were embedded
    assert report["embedded_chunks"] <= chunks - killed_at[-1][1]
    assert report["added"] == 1000 - killed_at[-1][0]
    # every chunk is searchable by text too
    sample = json.loads(run_cli("search", "cells", "--mode", "bm25", "--json", home=home).stdout)["results"]
    assert sample and final["chunks"] == chunks
