"""The SQL of `satchel forget` (assistant/ops/forget.py): which rows a source, a document or
a person is made of, their erasure from the documents, chunks, sources, turns and
conversations tables, and the erasure of what SQLite keeps of deleted rows in its files.

Deleting rows is not enough for personal data: SQLite leaves deleted content in free pages,
FTS5 keeps old index segments until they are merged, and the WAL file keeps old page images.
So the deletes run with ``secure_delete``, the full-text index is rebuilt from what remains,
the file is ``VACUUM``-ed and the WAL checkpointed and truncated. docs/operations.md says what
this guarantees.

The functions that delete run inside the caller's transaction (``Store.transaction``), so
a target is erased whole or not at all; :func:`erase_free_space` runs after it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from assistant.errors import StoreError
from assistant.store import db
from assistant.store.forgotten import document_digests

if TYPE_CHECKING:
    from assistant.store.repository import Store


# --- what a target is made of ------------------------------------------------------------
def document_family(store: Store, ids: list[int]) -> tuple[set[int], list[int]]:
    """Documents with their attachments, and their chunk ids."""
    docs: set[int] = set()
    chunks: list[int] = []
    for start in range(0, len(ids), 400):
        part = ids[start : start + 400]
        marks = ",".join("?" * len(part))
        family = f"SELECT id FROM documents WHERE id IN ({marks}) OR parent_id IN ({marks})"
        docs.update(int(r[0]) for r in store.query(family, part + part))
        chunks += [
            int(r[0]) for r in store.query(f"SELECT id FROM chunks WHERE document_id IN ({family})", part + part)
        ]
    return docs, chunks


def source_documents(store: Store, source_id: int) -> list[int]:
    """The ids of a registered source's documents (forget --source)."""
    return [int(r[0]) for r in store.query("SELECT id FROM documents WHERE source_id = ?", (source_id,))]


def document_dedup_key(store: Store, document_id: int) -> sqlite3.Row | None:
    """A document's id and dedup key (a message's Message-ID); None when there is no
    such document (forget --document)."""
    rows = store.query("SELECT id, dedup_key FROM documents WHERE id = ?", (document_id,))
    return rows[0] if rows else None


def message_copies(store: Store, dedup_key: str, document_id: int) -> list[int]:
    """The other documents with this dedup key: the same message stored again elsewhere."""
    return [
        int(r[0])
        for r in store.query("SELECT id FROM documents WHERE dedup_key = ? AND id != ?", (dedup_key, document_id))
    ]


def document_people(store: Store) -> sqlite3.Cursor:
    """Every document's id, kind, author, participants and title, for matching a person
    (forget --person, `satchel mcp --exclude-person`)."""
    return store.conn.execute("SELECT id, kind, author, participants, title FROM documents")


def chunk_people(store: Store) -> sqlite3.Cursor:
    """The chunks that name persons (chat speakers), with their document's id."""
    return store.conn.execute("SELECT document_id, persons FROM chunks WHERE persons != ''")


def document_tombstones(store: Store, ids: list[int]) -> list[str]:
    """Digests that keep these documents (and copies of the same message) out of
    later syncs of their still-registered sources."""
    digests: list[str] = []
    for start in range(0, len(ids), 400):
        part = ids[start : start + 400]
        rows = store.query(
            f"SELECT u.path, d.key, d.dedup_key FROM documents d JOIN units u ON u.id = d.unit_id "
            f"WHERE d.id IN ({','.join('?' * len(part))})",
            part,
        )
        for row in rows:
            digests += document_digests(str(row["path"]), str(row["key"]), row["dedup_key"])
    return digests


def turn_contents(store: Store) -> sqlite3.Cursor:
    """Every stored turn's id, question, search query, answer and sources: stored answers
    keep snippets of their sources, so forget reads which cite or name what it erases."""
    return store.conn.execute("SELECT id, question, search_query, answer, sources FROM turns")


def document_total(store: Store) -> int:
    """How many documents the store holds (forget reports the difference)."""
    return int(store.scalar("SELECT count(*) FROM documents") or 0)


# --- the deletes -------------------------------------------------------------------------
@contextmanager
def secure_delete(store: Store) -> Iterator[None]:
    """Deletes inside overwrite the freed content with zeros; the connection's previous
    setting is restored after."""
    previous = store.scalar("PRAGMA secure_delete")
    conn = store.conn
    conn.execute("PRAGMA secure_delete=ON")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA secure_delete={int(previous or 0)}")


def delete_source_rows(store: Store, source_id: int) -> list[int]:
    """Delete a source's remaining chunks and the source itself (after its documents);
    returns the ids of the chunks deleted."""
    conn = store.conn
    gone = [int(r[0]) for r in store.query("SELECT id FROM chunks WHERE source_id = ?", (source_id,))]
    conn.execute("DELETE FROM chunks WHERE source_id = ?", (source_id,))
    conn.execute("DELETE FROM sources WHERE id = ?", (source_id,))  # units, errors cascade
    return gone


def delete_turns(conn: sqlite3.Connection, turn_ids: list[int]) -> None:
    """Delete these turns, then every conversation left without a turn."""
    for start in range(0, len(turn_ids), 500):
        part = turn_ids[start : start + 500]
        conn.execute(f"DELETE FROM turns WHERE id IN ({','.join('?' * len(part))})", part)
    conn.execute("DELETE FROM conversations WHERE id NOT IN (SELECT conversation_id FROM turns)")


def rebuild_fulltext(store: Store) -> None:
    """Rewrite the FTS5 index from the chunks table (inside the caller's transaction)."""
    store.conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')")


# --- the files ---------------------------------------------------------------------------
# How long forget waits for readers (an open TUI between two queries) to leave the WAL.
CHECKPOINT_WAIT_S = 5.0


def checkpoint_truncate(conn: sqlite3.Connection) -> bool:
    """Copy the WAL into the database and cut the WAL file to zero bytes. A reader
    holding an old snapshot blocks it; SQLite waits for it through the busy timeout,
    shortened here so that a TUI left open does not hold `forget` for long."""
    previous = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
    conn.execute(f"PRAGMA busy_timeout={int(CHECKPOINT_WAIT_S * 1000)}")
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    finally:
        conn.execute(f"PRAGMA busy_timeout={previous}")
    return not busy


def erase_free_space(store: Store) -> bool:
    """VACUUM and truncate the WAL, so that no free page or old log frame holding
    deleted text survives in the files. Returns whether the WAL could be truncated."""
    try:
        store.conn.execute("VACUUM")
    except db.OperationalError as exc:
        raise StoreError(
            f"the data was deleted, but compacting the store failed ({exc}); free some disk space "
            "and run the same `satchel forget` again (it is safe to repeat)"
        ) from exc
    return checkpoint_truncate(store.conn)
