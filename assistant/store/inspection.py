"""Read-only looks into the store for `satchel doctor`, `satchel backup` and `satchel export`
(assistant/ops/): the integrity checks, the row counts of the main tables, the meta table
and its generation, and the documents as exported.

They take a plain connection: doctor and backup open the file themselves rather than as a
``Store``, which would migrate it, so a damaged store (or a fresh backup copy) is looked at
as it is. Nothing here writes to the tables.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.store import db

# What doctor tells a person to type when the full-text index is damaged.
FULLTEXT_REBUILD_COMMAND = "sqlite3 satchel.db \"INSERT INTO chunks_fts(chunks_fts) VALUES('rebuild')\""


def connect_for_checks(path: Path) -> sqlite3.Connection:
    """A connection for doctor: rows by name, and a short wait for a writer, so that a
    busy store is reported rather than waited on."""
    conn = db.connect(path, timeout=5.0)
    db.use_rows(conn)
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


# --- integrity ---------------------------------------------------------------------------
def integrity_problems(conn: sqlite3.Connection) -> list[str]:
    """SQLite's integrity_check, one line per problem; ``["ok"]`` when there is none."""
    return [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]


def check_fulltext(conn: sqlite3.Connection) -> None:
    """FTS5's own check that the full-text index agrees with the chunks; raises
    (a database error) when it does not, or when a writer holds the store."""
    conn.execute("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)")


def quick_check(conn: sqlite3.Connection) -> str:
    """SQLite's quick_check: "ok", or the first problem (a backup copy is checked so)."""
    return str(conn.execute("PRAGMA quick_check").fetchone()[0])


# --- counts ------------------------------------------------------------------------------
def document_count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM documents").fetchone()[0])


def chunk_count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM chunks").fetchone()[0])


def error_count(conn: sqlite3.Connection) -> int:
    """Items the indexer could not read (the errors table)."""
    return int(conn.execute("SELECT count(*) FROM errors").fetchone()[0])


def chunks_without_vector(conn: sqlite3.Connection) -> int:
    """Chunks no stored vector belongs to: dense search cannot find them."""
    return int(
        conn.execute(
            "SELECT count(*) FROM chunks c LEFT JOIN vectors v ON v.chunk_id = c.id WHERE v.chunk_id IS NULL"
        ).fetchone()[0]
    )


def vector_count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])


def pending_vector_count(conn: sqlite3.Connection) -> int:
    """Chunks already embedded with the model the store is switching to."""
    return int(conn.execute("SELECT count(*) FROM pending_vectors").fetchone()[0])


# --- meta --------------------------------------------------------------------------------
def meta(conn: sqlite3.Connection) -> dict[str, str]:
    """The whole meta table (embedding model and dimension, pending model, generation)."""
    return dict(conn.execute("SELECT key, value FROM meta").fetchall())


def stored_generation(conn: sqlite3.Connection) -> int:
    """The store's generation (0 when none is recorded), to compare with a FAISS file's."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    return int(row[0]) if row else 0


# --- export ------------------------------------------------------------------------------
@contextmanager
def read_snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """A read transaction: a writer's later commits are not seen inside it."""
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def exported_documents(conn: sqlite3.Connection) -> sqlite3.Cursor:
    """Every document with its source's and its unit's paths, in id order (read inside
    :func:`read_snapshot`, for one consistent export)."""
    return conn.execute(
        "SELECT d.id, s.path AS source, u.path AS path, d.key, d.kind, d.title, d.author, d.participants, "
        "d.timestamp, d.metadata, d.text, d.parent_id, d.duplicate_of FROM documents d "
        "JOIN units u ON u.id = d.unit_id JOIN sources s ON s.id = d.source_id ORDER BY d.id"
    )
