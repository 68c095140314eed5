"""A connection to the store: opening (migrations, WAL, encryption), transactions, the
meta table and the store's generation. The table groups' methods build on it
(assistant/store/vector_rows.py, assistant/store/repository.py)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Self

from assistant.errors import EncryptionError, StoreError
from assistant.store import db
from assistant.store.schema import satchel_migrations


class StoreConnection:
    """One SQLite connection to the store, with the operations every table group uses."""

    def __init__(self, path: Path, *, readonly: bool = False, encrypt: bool = False) -> None:
        """``encrypt``: create a new store encrypted, and refuse to go on writing
        into a plain one (``satchel encrypt`` converts it). An existing encrypted
        store is opened encrypted whatever ``encrypt`` says (see assistant/store/db.py)."""
        self.path = path
        self.readonly = readonly
        self._known_languages: set[str] = set()  # keyword_languages already recorded
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fresh = not path.exists()
            if encrypt and not db.is_new(path) and not db.is_encrypted(path):
                raise EncryptionError(
                    f"encrypt is on, but the store {path} is not encrypted: run `satchel encrypt` to "
                    "encrypt it, or set encrypt = false"
                )
            self.conn = db.connect(
                path, encrypt_new=encrypt, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            if fresh:
                os.chmod(path, 0o600)
            self.encrypted = db.is_cipher(self.conn)
            db.use_rows(self.conn)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA busy_timeout=30000")
            self._migrate()
            self.file_identity = _file_identity(path)
        except db.DatabaseError as exc:
            raise StoreError(f"cannot open the store at {path}: {exc}") from exc

    def _migrate(self) -> None:
        from sqlite_utils import Database

        db = Database(self.conn)
        satchel_migrations().apply(db)

    def close(self) -> None:
        self.conn.close()

    def replaced(self) -> bool:
        """Whether the file at ``path`` is no longer the one this connection has open
        (`satchel encrypt`/`decrypt` in another process put a converted copy in its
        place): writing on would go into the old, unlinked file."""
        return _file_identity(self.path) != self.file_identity

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transactions -----------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic write: all of it lands, or none (also on SIGKILL).

        A write the file system refuses (disk full, read-only, I/O error) becomes a
        StoreError that says so; the transaction is rolled back, so the store keeps
        what earlier transactions committed and stays consistent."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except db.OperationalError as exc:
            refused = self._write_error(exc)
            if refused is None:
                raise
            raise refused from exc
        try:
            yield
            self.conn.execute("COMMIT")
        except BaseException as exc:
            self._known_languages = set()  # what this transaction recorded is gone with it
            with suppress(*db.Error):
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
            refused = self._write_error(exc) if isinstance(exc, db.OperationalError) else None
            if refused is not None:
                raise refused from exc
            raise

    def _write_error(self, exc: Exception) -> StoreError | None:
        """What the file system or another process refused, said for a person; None
        for anything else (a mistake in our SQL stays a traceback, not a "store" error)."""
        text = str(exc)
        if "full" in text:
            reason, advice = "the disk is full", "free some space and run it again; what was indexed before is kept"
        elif "readonly" in text or "read-only" in text:
            reason, advice = "the store is read-only", "make the Satchel home writable"
        elif "locked" in text or "busy" in text:
            reason, advice = "another process keeps the store busy", "try again when it is done"
        elif "disk I/O error" in text:
            reason, advice = "the disk failed to read or write", "run `satchel doctor`"
        else:
            return None
        return StoreError(f"cannot write to the store {self.path}: {reason} ({text}); {advice}")

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    # --- meta -------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        value = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def generation(self) -> int:
        """Bumped by every write that changes the vectors; FAISS files record the
        generation they were built at, so a stale file is detected."""
        return int(self.get_meta("generation") or 0)

    def bump_generation(self) -> None:
        self.set_meta("generation", str(self.generation() + 1))

    def holds_chunks(self) -> bool:
        """Whether any chunk is stored (an EXISTS, not a count: cheap at any size)."""
        return bool(self.scalar("SELECT EXISTS (SELECT 1 FROM chunks)"))


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino
