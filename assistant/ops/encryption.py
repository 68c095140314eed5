"""Encrypt or decrypt an existing store in place (``satchel encrypt`` / ``decrypt``).

The store is quiesced, converted into a new file and swapped in; the old plaintext pages are
zeroed before they are released when asked to."""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import StoreError
from assistant.ops.backup import fsync_dir
from assistant.settings import Settings
from assistant.store import crypto, db
from assistant.store.erasure import checkpoint_truncate
from assistant.store.fileio import atomic_file

if TYPE_CHECKING:
    from assistant.core import Satchel


log = logging.getLogger("satchel.ops")


# --- encryption ----------------------------------------------------------------------------
def _zero_fill(fd: int) -> None:
    """Overwrite a file's bytes with zeros, best effort: on SSDs, copy-on-write and
    journaling file systems the old blocks may survive elsewhere (docs/operations.md)."""
    size = os.fstat(fd).st_size
    block = b"\0" * (1 << 20)
    os.lseek(fd, 0, os.SEEK_SET)
    written = 0
    while written < size:
        written += os.write(fd, block[: min(len(block), size - written)])
    os.fsync(fd)


@contextmanager
def _zeroing_replaced(path: Path, shred_old: bool) -> Iterator[None]:
    """Around a rename over ``path``: once it is done, the old file's bytes are zeroed."""
    old_fd = os.open(path, os.O_RDWR) if shred_old and path.is_file() else None
    try:
        yield
        fsync_dir(path.parent)
        if old_fd is not None:
            _zero_fill(old_fd)
    finally:
        if old_fd is not None:
            os.close(old_fd)


def _replace_file(path: Path, data_file: Path, *, shred_old: bool) -> None:
    """Rename ``data_file`` over ``path`` atomically, then zero the old file's bytes."""
    with _zeroing_replaced(path, shred_old):
        os.chmod(data_file, 0o600)
        os.replace(data_file, path)


def _write_replacing(path: Path, data: bytes, *, shred_old: bool) -> None:
    """Replace ``path`` with ``data`` atomically, then zero the old file's bytes."""
    with _zeroing_replaced(path, shred_old), atomic_file(path) as handle:
        handle.write(data)


def _quiesce(settings: Settings) -> None:
    """Checkpoint and truncate the WAL, or refuse: another process (an open TUI,
    `satchel watch`) still has the store open and would go on with the old file."""
    conn = db.connect(settings.db_path, timeout=5.0, isolation_level=None)
    try:
        if not checkpoint_truncate(conn):
            raise StoreError(
                "another Satchel process (the TUI, `satchel watch`?) has the store open; close it and run this again"
            )
    finally:
        conn.close()


def _convert_store(settings: Settings, src_key: str | None, dst_key: str | None) -> None:
    path = settings.db_path
    _quiesce(settings)
    tmp = path.with_name(f".{path.name}.convert{os.getpid()}")
    tmp.unlink(missing_ok=True)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        db.export(path, tmp, src_key, dst_key)
        for leftover in ("-wal", "-shm"):  # the old file's, empty after the checkpoint
            path.with_name(path.name + leftover).unlink(missing_ok=True)
        # the plain original is zeroed after the encrypted copy is in place
        _replace_file(path, tmp, shred_old=dst_key is not None)
    except db.Error as exc:
        raise StoreError(f"converting {path} failed, the store is unchanged: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _seal_index_file(settings: Settings) -> str:
    """Seal a plain FAISS file beside an encrypted store (its old bytes zeroed)."""
    from assistant.store.vector_index import _MAGIC

    path = settings.index_path
    if not path.is_file():
        return "none"
    raw = path.read_bytes()
    if crypto.is_sealed(raw):
        return "sealed"
    if not raw.startswith(_MAGIC):
        path.unlink()  # not ours or damaged: rebuilt from the stored vectors
        return "removed"
    header = json.loads(raw[len(_MAGIC) : raw.index(b"\n", len(_MAGIC))])
    public = {"generation": header.get("generation"), "count": header.get("count")}
    _write_replacing(path, crypto.seal(path.parent, [raw], public), shred_old=True)
    return "sealed"


def encrypt_store(app: Satchel, *, keyring: bool = False, wait: bool = False) -> dict[str, Any]:
    """Encrypt the store (SQLCipher, via ``sqlcipher_export``) and seal the FAISS
    file; create an empty encrypted store when there is none. On a store already
    encrypted it checks the passphrase, seals a plain FAISS file left beside it and,
    with ``keyring``, saves the passphrase in the OS keyring.

    The passphrase: ``SATCHEL_PASSPHRASE``, else asked twice on the terminal.
    """
    from assistant.store.repository import Store

    started = time.monotonic()
    settings = app.settings
    path = settings.db_path
    if keyring and crypto.keyring_backend() is None:
        crypto.keyring_set(settings.home, "")  # says there is no keyring, before anything changes
    settings.ensure_home()
    with app.writer_lock(wait=wait):
        app.close()  # our own connection must not keep the old file open
        if db.is_encrypted(path):
            db.connect(path).close()  # checks the passphrase, remembers it
            passphrase = crypto.passphrase_for(settings.home)[0]
            action = "already encrypted"
        else:
            passphrase = crypto.passphrase_for(settings.home, new=True)[0]
            if db.is_new(path):
                crypto.remember(settings.home, passphrase)
                Store(path, encrypt=True).close()
                action = "created"
            else:
                _convert_store(settings, None, passphrase)
                crypto.remember(settings.home, passphrase)
                action = "encrypted"
        index = _seal_index_file(settings)
        saved_in = crypto.keyring_set(settings.home, passphrase) if keyring else None
    log.info("encrypt: store %s, index %s", action, index)
    return {
        "store": action,
        "index": index,
        "keyring": saved_in,
        "database": str(path),
        "seconds": round(time.monotonic() - started, 3),
    }


def decrypt_store(app: Satchel, *, wait: bool = False) -> dict[str, Any]:
    """Turn an encrypted store back into plain SQLite (and the FAISS file plain);
    the passphrase is removed from the OS keyring. Encrypting again afterwards is
    how the passphrase is changed."""
    started = time.monotonic()
    settings = app.settings
    path = settings.db_path
    with app.writer_lock(wait=wait):
        app.close()
        if not db.is_encrypted(path):
            return {"store": "not encrypted", "index": "unchanged", "keyring_removed": False, "seconds": 0.0}
        db.connect(path).close()  # checks the passphrase, remembers it
        passphrase = crypto.passphrase_for(settings.home)[0]
        index = "none"
        if settings.index_path.is_file():
            raw = settings.index_path.read_bytes()
            index = "plain"
            if crypto.is_sealed(raw):
                try:
                    _write_replacing(settings.index_path, crypto.unseal(settings.index_path, raw), shred_old=False)
                except ValueError:
                    settings.index_path.unlink()  # damaged: rebuilt from the stored vectors
                    index = "removed"
        _convert_store(settings, passphrase, None)
        removed = crypto.keyring_delete(settings.home)
        crypto.forget_unlocked()
    log.info("decrypt: store decrypted, index %s", index)
    return {
        "store": "decrypted",
        "index": index,
        "keyring_removed": removed,
        "seconds": round(time.monotonic() - started, 3),
    }
