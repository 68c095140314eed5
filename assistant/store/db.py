"""Every connection to the store is opened here, encrypted or not.

A store is plain SQLite or SQLCipher-encrypted, and the file says which: a plain
SQLite file starts with ``SQLite format 3\\0``, an SQLCipher file with random salt
bytes. So the store, the indexer's reader thread, backup and doctor all open it the
same way without being told; the ``encrypt`` setting only decides how a *new* store
is created (and ``satchel encrypt`` converts an existing one).

An encrypted store is opened with the sqlcipher3 driver and ``PRAGMA key`` is the
first statement on the connection; SQLCipher derives the page key from the
passphrase itself (PBKDF2-HMAC-SHA512, 256,000 iterations, per-file salt), about
0.2 s per connection. That driver's classes are not the standard module's: catch
:data:`Error`, :data:`DatabaseError` and :data:`OperationalError` from here, which
cover both, and take rows as ``row["name"]`` (both drivers' Row types do that).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from assistant.errors import EncryptionError, WrongPassphraseError
from assistant.store import crypto
from assistant.store.header import is_encrypted

try:  # a C extension, 4 ms to import; installed with Satchel (sqlcipher3-binary)
    from sqlcipher3 import dbapi2 as _cipher
except ImportError:  # pragma: no cover - only on an incomplete install
    _cipher = None

PROMPT_TRIES = 3

Error: tuple[type[Exception], ...] = (sqlite3.Error,) + ((_cipher.Error,) if _cipher else ())
DatabaseError: tuple[type[Exception], ...] = (sqlite3.DatabaseError,) + ((_cipher.DatabaseError,) if _cipher else ())
OperationalError: tuple[type[Exception], ...] = (sqlite3.OperationalError,) + (
    (_cipher.OperationalError,) if _cipher else ()
)


def _driver() -> Any:
    if _cipher is None:
        raise EncryptionError(
            "this store is encrypted, but the SQLCipher driver (the sqlcipher3-binary package) is not "
            "installed: run scripts/install.sh"
        )
    return _cipher


def is_new(path: Path) -> bool:
    try:
        return Path(path).stat().st_size == 0
    except OSError:
        return True


def cipher_version() -> str | None:
    if _cipher is None:
        return None
    conn = _cipher.connect(":memory:")
    try:
        row = conn.execute("PRAGMA cipher_version").fetchone()
        return str(row[0]) if row else None
    finally:
        conn.close()


def _quote(text: str) -> str:
    if "\x00" in text:
        raise EncryptionError("a passphrase cannot contain a NUL character")
    return "'" + text.replace("'", "''") + "'"


def connect_with_key(path: Path | str, passphrase: str | None, *, timeout: float = 30.0, **kwargs: Any) -> Any:
    """A connection to ``path`` keyed with ``passphrase`` (None: plain SQLite).
    The key is not checked here; :func:`connect` does that."""
    if passphrase is None:
        return sqlite3.connect(str(path), timeout=timeout, **kwargs)
    if not passphrase:
        raise EncryptionError("an empty passphrase encrypts nothing")
    conn = _driver().connect(str(path), timeout=timeout, **kwargs)
    try:
        conn.execute(f"PRAGMA key = {_quote(passphrase)}")
        # a wrong key is reported by us, in one line; not by SQLCipher's log on stderr
        conn.execute("PRAGMA cipher_log_level = NONE")
    except BaseException:
        conn.close()
        raise
    return conn


def key_works(conn: Any) -> bool:
    """Whether the key (or no key) of ``conn`` reads its file."""
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except DatabaseError as exc:
        if "not a database" in str(exc) or "encrypted" in str(exc):
            return False
        raise
    return True


def connect(path: Path, *, encrypt_new: bool = False, timeout: float = 30.0, **kwargs: Any) -> sqlite3.Connection:
    """Open the store at ``path``: encrypted when the file is (or when it is new and
    ``encrypt_new``), with the passphrase from :func:`assistant.store.crypto.passphrase_for`.

    Raises :class:`WrongPassphraseError` when the passphrase does not open it, and
    :class:`EncryptionError` when none can be had. The returned object is an
    ``sqlite3.Connection`` or SQLCipher's twin with the same methods.
    """
    path = Path(path)
    new = is_new(path)
    if not (is_encrypted(path) or (new and encrypt_new)):
        return sqlite3.connect(str(path), timeout=timeout, **kwargs)
    folder = path.parent
    for attempt in range(1, PROMPT_TRIES + 1):
        passphrase, origin = crypto.passphrase_for(folder, new=new, again=attempt > 1)
        conn = connect_with_key(path, passphrase, timeout=timeout, **kwargs)
        try:
            works = key_works(conn)
        except BaseException:
            conn.close()
            raise
        if works:
            crypto.remember(folder, passphrase)
            return conn
        conn.close()
        if origin == "prompt" and attempt < PROMPT_TRIES:
            continue  # the prompt says it was wrong and asks again
        source = "typed" if origin == "prompt" else f"from {origin}"
        raise WrongPassphraseError(
            f"the passphrase ({source}) does not open the encrypted store {path}: "
            "it is a different passphrase, or the file is damaged"
        )
    raise AssertionError("unreachable")


def is_cipher(conn: Any) -> bool:
    """Whether ``conn`` came from the SQLCipher driver (an encrypted store)."""
    return _cipher is not None and isinstance(conn, _cipher.Connection)


def use_rows(conn: Any) -> None:
    """Rows addressable by column name, with the driver's own Row type."""
    conn.row_factory = _cipher.Row if is_cipher(conn) else sqlite3.Row


def set_busy_timeout(conn: Any, milliseconds: int) -> None:
    """How long a statement waits for another connection's lock before it fails with
    "database is locked"."""
    conn.execute(f"PRAGMA busy_timeout={int(milliseconds)}")


def use_rollback_journal(conn: Any) -> None:
    """Put the file in rollback-journal mode: one file, no -wal beside it to forget
    (a backup copy)."""
    conn.execute("PRAGMA journal_mode=DELETE")


def export(src: Path, dst: Path, src_key: str | None, dst_key: str | None) -> None:
    """Copy the database ``src`` into the new file ``dst`` with another key (None:
    plain), with ``sqlcipher_export``. The schema version travels too."""
    driver = _driver()
    conn = driver.connect(str(src), isolation_level=None, timeout=30.0)
    try:
        if src_key:
            conn.execute(f"PRAGMA key = {_quote(src_key)}")
            conn.execute("PRAGMA cipher_log_level = NONE")
        if not key_works(conn):
            raise WrongPassphraseError(f"the passphrase does not open {src}")
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        conn.execute(f"ATTACH DATABASE {_quote(str(dst))} AS target KEY {_quote(dst_key or '')}")
        conn.execute("SELECT sqlcipher_export('target')")
        conn.execute(f"PRAGMA target.user_version = {version}")
        conn.execute("DETACH DATABASE target")
    finally:
        conn.close()
    with open(dst, "rb") as handle:
        os.fsync(handle.fileno())
