"""Export the documents as JSON Lines, and back up the live store.

:func:`backup` copies the store with SQLite's backup API, so a copy taken while an indexer
writes is a consistent snapshot, never a torn file."""

from __future__ import annotations

import contextlib
import json
import logging
import logging.handlers
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from assistant.errors import SatchelError, StoreError
from assistant.settings import Settings
from assistant.store import crypto, db, inspection
from assistant.store.fileio import atomic_file

if TYPE_CHECKING:
    from assistant.store.repository import Store


log = logging.getLogger("satchel.ops")


# --- export --------------------------------------------------------------------------------
EXPORT_FIELDS = (
    "id",
    "source",
    "path",
    "key",
    "kind",
    "title",
    "author",
    "participants",
    "timestamp",
    "metadata",
    "text",
    "parent_id",
    "duplicate_of",
)


def iter_export(store: Store) -> Iterator[dict[str, Any]]:
    """Every document as a dict, in id order, from one consistent snapshot."""
    conn = store.conn
    with inspection.read_snapshot(conn):  # a writer's later commits are not seen
        for row in inspection.exported_documents(conn):
            item = {name: row[name] for name in EXPORT_FIELDS}
            item["participants"] = json.loads(row["participants"] or "[]")
            item["metadata"] = json.loads(row["metadata"] or "{}")
            yield item


def export_documents(store: Store, out: IO[str]) -> int:
    """Write JSON Lines, one document per line; returns the number written."""
    count = 0
    for item in iter_export(store):
        out.write(json.dumps(item, ensure_ascii=False) + "\n")
        count += 1
    return count


def export_to_file(store: Store, path: Path) -> int:
    """Export into ``path`` atomically, created 0600 (it is all your personal data)."""
    with atomic_file(path.expanduser(), "w", encoding="utf-8") as handle:
        count = export_documents(store, handle)
    return count


# --- backup --------------------------------------------------------------------------------
def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _index_generation(path: Path) -> int | None:
    """The store generation recorded in a FAISS file's header, without loading it."""
    from assistant.store.vector_index import _MAGIC

    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
        magic = next((m for m in (_MAGIC, crypto.INDEX_MAGIC) if head.startswith(m)), None)
        if magic is None:
            return None
        end = head.index(b"\n", len(magic))
        return int(json.loads(head[len(magic) : end]).get("generation", -2))
    except (OSError, ValueError):
        return None


def backup(settings: Settings, dest: Path) -> dict[str, Any]:
    """Copy the store into the folder ``dest`` while it is in use.

    The database is copied with SQLite's backup API in one step (one read snapshot:
    a writer may go on, the copy is still consistent), into a temp file renamed into
    place, so an interrupted backup never replaces a good one with a torn file. The
    copy is a single file in rollback-journal mode (no -wal to forget). ``dest`` can
    be used as a ``SATCHEL_HOME`` as it is; a stale ``index.faiss`` is rebuilt.
    """
    started = time.monotonic()
    source = settings.db_path
    if not source.is_file():
        raise StoreError(f"there is no store at {source} to back up")
    dest = dest.expanduser()
    if dest.exists() and not dest.is_dir():
        raise SatchelError(f"{dest}: the backup destination must be a folder")
    if dest.resolve() == settings.home.resolve():
        raise SatchelError("the backup destination is the store's own folder")
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        os.chmod(dest, 0o700)
    target = dest / settings.db_path.name
    tmp = dest / f".{target.name}.tmp{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    try:
        # an encrypted store is copied encrypted, with the same passphrase (the backup
        # API copies pages between two connections keyed alike)
        src = db.connect(source, timeout=30.0)
        try:
            db.set_busy_timeout(src, 30000)
            key = crypto.passphrase_for(settings.home)[0] if db.is_cipher(src) else None
            dst = db.connect_with_key(tmp, key)
            try:
                src.backup(dst)  # pages=-1: the whole database from one snapshot
                db.use_rollback_journal(dst)
                check = inspection.quick_check(dst)
                counts = {
                    "documents": inspection.document_count(dst),
                    "chunks": inspection.chunk_count(dst),
                }
                generation = inspection.stored_generation(dst)
            finally:
                dst.close()
        finally:
            src.close()
        if check != "ok":
            raise StoreError(f"the backup copy failed its integrity check: {check}")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        for leftover in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
            leftover.unlink(missing_ok=True)  # an old copy's journal must not meet the new file
        os.replace(tmp, target)
        fsync_dir(dest)
    except db.Error as exc:
        raise StoreError(f"backup of {source} failed: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)

    index_copied = False
    index_generation: int | None = None
    if settings.index_path.is_file():
        index_target = dest / settings.index_path.name
        with atomic_file(index_target) as out, open(settings.index_path, "rb") as src_index:
            shutil.copyfileobj(src_index, out, 1 << 22)
        index_copied = True
        index_generation = _index_generation(index_target)
    if settings.config_path.is_file():
        config_target = dest / settings.config_path.name
        shutil.copyfile(settings.config_path, config_target)
        os.chmod(config_target, 0o600)
    fsync_dir(dest)
    return {
        "destination": str(dest),
        "database": str(target),
        "bytes": target.stat().st_size,
        "documents": counts["documents"],
        "chunks": counts["chunks"],
        "generation": generation,
        "index_copied": index_copied,
        # a writer may have moved on between the two copies: then the index is rebuilt
        # from the copied vectors when the backup is opened
        "index_current": index_copied and index_generation == generation,
        "seconds": round(time.monotonic() - started, 3),
    }
