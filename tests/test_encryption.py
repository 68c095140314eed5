"""Privacy at rest: the SQLCipher store and the sealed FAISS file, checked on the raw
file bytes; the passphrase from the environment, the keyring and the prompt; a wrong
passphrase as one clear line; converting a store both ways; doctor and backup.

The fake embedder keeps these fast (real SQLCipher, real FAISS, real AES-GCM)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.errors import EncryptionError, WrongPassphraseError
from assistant.ops.backup import _index_generation, backup
from assistant.ops.doctor import run_doctor
from assistant.ops.encryption import decrypt_store, encrypt_store
from assistant.ops.forget import forget
from assistant.retrieval.search_types import Filters
from assistant.store import crypto, db
from assistant.store import header as store_header
from tests.conftest import REPO, SATCHEL, FakeEmbedder

CANARY = "zebracanary4711"
SECRET = "quokka-plan"
# quotes and spaces: the passphrase must reach PRAGMA key intact
PASSPHRASE = "it's a 'long' passphrase"
FILES = ("satchel.db", "satchel.db-wal", "satchel.db-shm", "index.faiss")


class MemoryKeyring:
    """A keyring backend in a dict: the tests never touch the machine's keyring."""

    priority = 1

    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.saved.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.saved[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.saved[(service, username)]


@pytest.fixture(autouse=True)
def hermetic_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No passphrase survives a test in this process, and no real keyring is asked."""
    crypto.forget_unlocked()
    monkeypatch.setattr(crypto, "_keyring", lambda: None)
    yield
    crypto.forget_unlocked()


def make_app(home: Path, **overrides: Any) -> Any:
    from assistant.core import Satchel
    from assistant.settings import load_settings

    app = Satchel(load_settings({"home": str(home), **overrides}), embedder=FakeEmbedder())
    return app


@pytest.fixture
def enc_app(satchel_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv(crypto.ENV_PASSPHRASE, PASSPHRASE)
    app = make_app(satchel_home, encrypt=True)
    yield app
    app.close()


def write_sources(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "diary.txt").write_text(
        f"The safe combination is {CANARY}. Nobody else may know about the {SECRET} or the lighthouse.\n" * 3
    )
    (folder / "recipe.txt").write_text("Bake the focaccia with rosemary and coarse salt for twenty minutes.\n")
    return folder


def raw_bytes(home: Path) -> dict[str, bytes]:
    return {name: (home / name).read_bytes() for name in FILES if (home / name).exists()}


def assert_nowhere(home: Path, needle: bytes) -> None:
    found = [name for name, data in raw_bytes(home).items() if needle in data]
    assert found == [], f"{needle!r} in {found}"


def found(app: Any, query: str, mode: str) -> list[str]:
    return [r.text for r in app.search(query, Filters(), k=10, mode=mode, auto_filters=False).results]


def index_and_check(app: Any, tmp_path: Path) -> list[bytes]:
    """Index the sources; returns the float32 vectors of the secret chunks."""
    app.add_source(write_sources(tmp_path))
    report = app.sync()
    assert report.added == 2 and report.errors == 0
    assert any(CANARY in t for t in found(app, CANARY, "bm25"))
    assert any(CANARY in t for t in found(app, f"{CANARY} safe combination", "dense"))
    ids = [int(r[0]) for r in app.store.query("SELECT id FROM chunks WHERE instr(text, ?)", (CANARY,))]
    return [v.tobytes() for v in app.store.vectors_for(ids)[1]]


def assert_no_plaintext(home: Path, vectors: list[bytes]) -> None:
    for needle in (CANARY.encode(), SECRET.encode(), b"focaccia", b"rosemary", b"diary.txt", b"CREATE TABLE"):
        assert_nowhere(home, needle)
    for blob in vectors:  # the embeddings themselves: neither in SQLite nor in FAISS
        assert_nowhere(home, blob)


def assert_not_plain_faiss(path: Path) -> None:
    import faiss

    raw = path.read_bytes()
    assert raw.startswith(crypto.INDEX_MAGIC) and not raw.startswith(b"SATCHEL-FAISS-1\n")
    body = raw[raw.index(b"\n", len(crypto.INDEX_MAGIC)) + 1 :]
    for data in (raw, body):
        with pytest.raises(RuntimeError):
            faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))


# --- the files hold no plaintext ----------------------------------------------------------
def test_encrypted_store_and_index_hold_no_plaintext(enc_app: Any, tmp_path: Path, satchel_home: Path) -> None:
    vectors = index_and_check(enc_app, tmp_path)
    assert enc_app.store.encrypted
    # the -wal holds the last writes: encrypted pages too, before and after a checkpoint
    assert (satchel_home / "satchel.db-wal").stat().st_size > 0
    assert_no_plaintext(satchel_home, vectors)
    busy, _, _ = enc_app.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0
    assert_no_plaintext(satchel_home, vectors)
    assert db.is_encrypted(satchel_home / "satchel.db")
    assert not (satchel_home / "satchel.db").read_bytes().startswith(store_header.SQLITE_HEADER)
    assert_not_plain_faiss(satchel_home / "index.faiss")
    # plain SQLite cannot read it
    with pytest.raises(sqlite3.DatabaseError), sqlite3.connect(satchel_home / "satchel.db") as conn:
        conn.execute("SELECT count(*) FROM chunks").fetchone()


def test_round_trip_in_a_new_process_state(enc_app: Any, tmp_path: Path, satchel_home: Path) -> None:
    index_and_check(enc_app, tmp_path)
    count = enc_app.store.counts()["vectors"]
    enc_app.close()
    crypto.forget_unlocked()  # as a new process: the passphrase comes from the environment again

    app = make_app(satchel_home)  # encrypt = false: the file says it is encrypted
    try:
        assert app.store.encrypted
        # the sealed FAISS file is loaded as it is, not rebuilt
        assert app.index.open(app.store) == "loaded" and app.index.size == count
        assert any(CANARY in t for t in found(app, CANARY, "bm25"))
        assert any("focaccia" in t for t in found(app, "focaccia rosemary salt", "dense"))
        # and it stays encrypted through an incremental run
        (tmp_path / "notes" / "more.txt").write_text("The walrus sings at dawn near the harbour.\n")
        assert app.sync().added == 1
        assert any("walrus" in t for t in found(app, "walrus harbour", "hybrid"))
        assert_nowhere(satchel_home, b"walrus")
        assert_not_plain_faiss(satchel_home / "index.faiss")
    finally:
        app.close()


# --- the passphrase -----------------------------------------------------------------------
def test_wrong_passphrase_is_a_clear_error(enc_app: Any, tmp_path: Path, satchel_home: Path, monkeypatch: Any) -> None:
    index_and_check(enc_app, tmp_path)
    enc_app.close()
    crypto.forget_unlocked()
    monkeypatch.setenv(crypto.ENV_PASSPHRASE, "not the passphrase")
    app = make_app(satchel_home)
    with pytest.raises(WrongPassphraseError, match="does not open the encrypted store"):
        app.store  # noqa: B018
    app.close()

    # the CLI: one line on stderr, exit 7, no traceback; and the same without any passphrase
    env = dict(os.environ, SATCHEL_HOME=str(satchel_home), HF_HUB_OFFLINE="1")
    for passphrase, words in (("not the passphrase", "does not open"), (None, "no passphrase was given")):
        env.pop(crypto.ENV_PASSPHRASE, None)
        if passphrase:
            env[crypto.ENV_PASSPHRASE] = passphrase
        proc = subprocess.run(
            [*SATCHEL, "sources"], capture_output=True, text=True, env=env, cwd=REPO, stdin=subprocess.DEVNULL
        )
        assert proc.returncode == 7, proc.stderr
        assert "Traceback" not in proc.stderr and "hmac" not in proc.stderr
        assert proc.stderr.startswith("satchel: ") and words in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_prompt_asks_again_after_a_wrong_passphrase(
    enc_app: Any, satchel_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    enc_app.store.set_meta("x", "1")
    enc_app.close()
    crypto.forget_unlocked()
    monkeypatch.delenv(crypto.ENV_PASSPHRASE)
    from assistant.cli import passphrase

    answers = iter(["typo", PASSPHRASE])
    monkeypatch.setattr(passphrase.getpass, "getpass", lambda prompt: next(answers))
    crypto.set_passphrase_prompt(passphrase.terminal_prompt)  # as the CLI does on a terminal
    app = make_app(satchel_home)
    try:
        assert app.store.get_meta("x") == "1"
        assert "wrong passphrase, try again" in capsys.readouterr().err
    finally:
        app.close()
        crypto.set_passphrase_prompt(None)


def test_the_core_never_prompts_without_a_front_ends_prompt(
    enc_app: Any, satchel_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even on a terminal, the store asks only a prompt a front end registered."""
    import getpass

    enc_app.store.set_meta("x", "1")
    enc_app.close()
    crypto.forget_unlocked()
    monkeypatch.delenv(crypto.ENV_PASSPHRASE)
    monkeypatch.setattr(getpass, "getpass", lambda prompt: pytest.fail("the core read a terminal"))
    crypto.set_passphrase_prompt(None)
    app = make_app(satchel_home)
    try:
        with pytest.raises(EncryptionError, match="no passphrase was given"):
            app.store.get_meta("x")
    finally:
        app.close()


def test_passphrase_from_the_keyring(satchel_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring as keyring_module

    ring = MemoryKeyring()
    monkeypatch.setattr(crypto, "_keyring", lambda: keyring_module)
    monkeypatch.setattr(keyring_module, "get_keyring", lambda: ring)
    for name in ("get_password", "set_password", "delete_password"):
        monkeypatch.setattr(keyring_module, name, getattr(ring, name))
    monkeypatch.setenv(crypto.ENV_PASSPHRASE, PASSPHRASE)
    app = make_app(satchel_home)
    result = encrypt_store(app, keyring=True)  # no store yet: an empty encrypted one
    assert result["store"] == "created" and result["keyring"]
    assert ring.saved == {(crypto.KEYRING_SERVICE, str(satchel_home.absolute())): PASSPHRASE}
    app.close()

    crypto.forget_unlocked()
    monkeypatch.delenv(crypto.ENV_PASSPHRASE)
    app = make_app(satchel_home)
    try:
        assert app.store.encrypted and app.store.counts()["documents"] == 0
        check = {c.name: c for c in run_doctor(app, llama=False)}["encryption"]
        assert check.status == "ok" and "OS keyring" in check.detail
    finally:
        app.close()


def test_no_keyring_backend_is_said_plainly(satchel_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert crypto.keyring_backend() is None and crypto.keyring_get(satchel_home) is None
    with pytest.raises(EncryptionError, match="no OS keyring"):
        crypto.keyring_set(satchel_home, "x")
    # `satchel encrypt --keyring` says so before it changes anything
    monkeypatch.setenv(crypto.ENV_PASSPHRASE, PASSPHRASE)
    app = make_app(satchel_home)
    with pytest.raises(EncryptionError, match="no OS keyring"):
        encrypt_store(app, keyring=True)
    assert not (satchel_home / "satchel.db").exists()
    app.close()


# --- turning it on and off ----------------------------------------------------------------
def test_encrypt_setting_refuses_a_plain_store(satchel_home: Path, tmp_path: Path) -> None:
    plain = make_app(satchel_home)
    plain.store.set_meta("x", "1")
    plain.close()
    app = make_app(satchel_home, encrypt=True)
    with pytest.raises(EncryptionError, match="satchel encrypt"):
        app.store  # noqa: B018
    check = {c.name: c for c in run_doctor(app, llama=False)}["encryption"]
    assert check.status == "fail" and check.fix and "satchel encrypt" in check.fix
    app.close()


def test_encrypt_converts_a_store_and_decrypt_turns_it_back(
    satchel_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(satchel_home)
    vectors = index_and_check(app, tmp_path)
    assert any(CANARY.encode() in data for data in raw_bytes(satchel_home).values())  # plain before
    doctor = {c.name: c for c in run_doctor(app, llama=False)}
    assert doctor["encryption"].status == "ok" and "not encrypted" in doctor["encryption"].detail

    monkeypatch.setenv(crypto.ENV_PASSPHRASE, PASSPHRASE)
    result = encrypt_store(app)
    assert result["store"] == "encrypted" and result["index"] == "sealed"
    assert_no_plaintext(satchel_home, vectors)
    assert_not_plain_faiss(satchel_home / "index.faiss")
    assert sorted(p.name for p in satchel_home.iterdir() if p.name.startswith(("satchel.db", "index", "."))) == [
        "index.faiss",
        "satchel.db",
    ]  # no temp files, no old -wal

    crypto.forget_unlocked()
    app.close()
    app = make_app(satchel_home)
    try:
        assert app.index.open(app.store) == "loaded"
        assert any(CANARY in t for t in found(app, CANARY, "hybrid"))
        doctor = {c.name: c for c in run_doctor(app, llama=False)}
        assert doctor["encryption"].status == "ok", doctor["encryption"]
        assert "store encrypted (SQLCipher 4" in doctor["encryption"].detail
        assert "index.faiss sealed" in doctor["encryption"].detail
        assert doctor["store"].status == "ok" and doctor["index"].status == "ok", doctor
        assert encrypt_store(app)["store"] == "already encrypted"

        result = decrypt_store(app)
        assert result["store"] == "decrypted" and result["index"] == "plain"
        assert not db.is_encrypted(satchel_home / "satchel.db")
        with sqlite3.connect(satchel_home / "satchel.db") as conn:
            assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 2
        assert app.index.open(app.store) == "loaded"
        assert any(CANARY in t for t in found(app, CANARY, "bm25"))
    finally:
        app.close()


def test_backup_of_an_encrypted_store_stays_encrypted(enc_app: Any, tmp_path: Path) -> None:
    vectors = index_and_check(enc_app, tmp_path)
    result = backup(enc_app.settings, tmp_path / "backup")
    assert result["documents"] == 2 and result["index_current"]
    dest = tmp_path / "backup"
    assert_no_plaintext(dest, vectors)
    assert_not_plain_faiss(dest / "index.faiss")
    crypto.forget_unlocked()
    restored = make_app(dest)
    try:
        assert restored.index.open(restored.store) == "loaded"
        assert any(CANARY in t for t in found(restored, CANARY, "bm25"))
    finally:
        restored.close()


def test_a_damaged_sealed_index_is_rebuilt_not_trusted(enc_app: Any, tmp_path: Path, satchel_home: Path) -> None:
    index_and_check(enc_app, tmp_path)
    path = satchel_home / "index.faiss"
    raw = bytearray(path.read_bytes())
    raw[-40] ^= 0x01  # one flipped bit: the GCM tag no longer matches
    path.write_bytes(bytes(raw))
    from assistant.store.vector_index import VectorIndex

    index = VectorIndex(path, FakeEmbedder.dimension)
    assert index._load_file() is None
    assert index.open(enc_app.store) == "rebuilt"
    assert _index_generation(path) == enc_app.store.generation()  # the clear header still reads


def test_forget_on_an_encrypted_store(enc_app: Any, tmp_path: Path, satchel_home: Path) -> None:
    index_and_check(enc_app, tmp_path)
    report = forget(
        enc_app, document=int(enc_app.store.scalar("SELECT id FROM documents WHERE instr(text, ?)", (CANARY,)))
    )
    assert report.documents == 1 and report.wal_cleared
    assert not any(CANARY in t for t in found(enc_app, CANARY, "bm25"))
    assert any("focaccia" in t for t in found(enc_app, "focaccia rosemary", "hybrid"))
    assert db.is_encrypted(satchel_home / "satchel.db")  # VACUUM keeps it encrypted
    assert_not_plain_faiss(satchel_home / "index.faiss")
    assert_nowhere(satchel_home, b"focaccia")


def test_a_long_lived_writer_follows_a_store_encrypted_by_another_process(
    satchel_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`satchel encrypt` in another process puts a converted file in place of the store
    while a TUI or `satchel watch` keeps its connection: their next sync must write
    into the new file, not the unlinked old one (issue 15)."""

    monkeypatch.setenv(crypto.ENV_PASSPHRASE, PASSPHRASE)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("# First\nThe orchard has twelve apple trees.\n")
    app = make_app(satchel_home)
    app.add_source(notes)
    app.sync()
    env = dict(os.environ, SATCHEL_HOME=str(satchel_home), HF_HUB_OFFLINE="1")
    done = subprocess.run([*SATCHEL, "encrypt"], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (notes / "b.md").write_text("# Second\nThe quokka lives in the greenhouse.\n")
    report = app.sync()
    assert report.added == 1
    app.close()
    assert db.is_encrypted(satchel_home / "satchel.db")
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(satchel_home / "satchel.db").execute("SELECT count(*) FROM documents").fetchone()
    fresh = make_app(satchel_home)
    titles = {r["title"] for r in fresh.store.query("SELECT title FROM documents")}
    fresh.close()
    assert titles == {"First", "Second"}
