"""The store's OCR tables (migration m006): the work list and the text cache.

- ``ocr_tasks``: one row per image a stored document points at (``Document.images``),
  written by the sync in the transaction that writes the document, so the OCR pass
  can never miss one and never runs before the text is stored. A task is
  ``pending`` until the pass reads it, then ``done`` (its text added as chunks of the
  document) or ``error`` (the reason kept; the error table has it too). Deleting or
  replacing the document deletes its tasks (foreign key). ``data`` holds the bytes
  of an image the item carries itself (an email attachment) until it is read.
- ``ocr_cache``: the text read from an image, by the digest of its bytes and the
  engine settings, so a moved, renamed or re-exported file is never read twice, and
  a re-indexed document gets its OCR text back at once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from connectors.base import ImageRef

SCHEMA = (
    """CREATE TABLE ocr_tasks (
        id INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        locator TEXT NOT NULL,
        ref TEXT NOT NULL,              -- JSON: kind, path, page, member
        data BLOB,                      -- the image's bytes when the item carries them
        text_chars INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'pending',   -- pending | done | error
        reason TEXT,
        digest TEXT,
        chunks INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX ocr_tasks_document ON ocr_tasks(document_id)",
    "CREATE INDEX ocr_tasks_state ON ocr_tasks(state)",
    """CREATE TABLE ocr_cache (
        digest TEXT NOT NULL,           -- sha256 of the image bytes (a PDF's, plus the page)
        config TEXT NOT NULL,           -- engine and languages
        text TEXT NOT NULL,
        seconds REAL,
        at TEXT NOT NULL,
        PRIMARY KEY (digest, config)
    )""",
)


def create(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA:
        conn.execute(statement)


def add_tasks(conn: sqlite3.Connection, document_id: int, images: Sequence[ImageRef]) -> int:
    """Record a new document's images (inside the caller's transaction)."""
    for image in images:
        ref = {"kind": image.kind, "path": image.path, "page": image.page, "member": image.member}
        conn.execute(
            "INSERT INTO ocr_tasks(document_id, locator, ref, data, text_chars) VALUES (?,?,?,?,?)",
            (document_id, image.locator, json.dumps(ref, ensure_ascii=False), image.data, image.text_chars),
        )
    return len(images)


def pending_filter(min_page_chars: int) -> tuple[str, tuple[Any, ...]]:
    """SQL condition (and parameters) of the tasks the pass reads with this setting:
    a PDF page counts as scanned below ``min_page_chars`` characters of text."""
    return "t.state = 'pending' AND t.text_chars < ?", (max(1, min_page_chars),)


def pending_count(conn: sqlite3.Connection, min_page_chars: int) -> int:
    """Tasks the pass would read now (one indexed query: watch mode asks often)."""
    where, params = pending_filter(min_page_chars)
    return int(conn.execute(f"SELECT count(*) FROM ocr_tasks t WHERE {where}", params).fetchone()[0])


def counts(conn: sqlite3.Connection, min_page_chars: int) -> dict[str, int]:
    """Tasks by state: pending (to read with the current settings), done, error,
    skipped (PDF pages with enough text under the current threshold)."""
    pending = pending_count(conn, min_page_chars)
    rows = dict(conn.execute("SELECT state, count(*) FROM ocr_tasks GROUP BY state").fetchall())
    return {
        "pending": int(pending),
        "done": int(rows.get("done", 0)),
        "error": int(rows.get("error", 0)),
        "skipped": int(rows.get("pending", 0)) - int(pending),
        "cached": int(conn.execute("SELECT count(*) FROM ocr_cache").fetchone()[0]),
    }


def cached_text(conn: sqlite3.Connection, digest: str, config: str) -> str | None:
    row = conn.execute("SELECT text FROM ocr_cache WHERE digest = ? AND config = ?", (digest, config)).fetchone()
    return None if row is None else str(row[0])


def cache_text(conn: sqlite3.Connection, digest: str, config: str, text: str, seconds: float) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO ocr_cache(digest, config, text, seconds, at) VALUES (?,?,?,?,datetime('now'))",
        (digest, config, text, seconds),
    )


def purge_orphans(conn: sqlite3.Connection) -> int:
    """Drop cached texts no stored document's image has any more: after `satchel
    forget`, the text read from an erased photo must not stay behind in the cache.
    (A moved file's text is cached again when its new place is read.)"""
    cur = conn.execute(
        "DELETE FROM ocr_cache WHERE digest NOT IN (SELECT digest FROM ocr_tasks WHERE digest IS NOT NULL)"
    )
    return int(cur.rowcount or 0)


# --- the OCR pass (assistant/ingest/ocr_pass.py) ----------------------------------------
def pending_tasks(conn: sqlite3.Connection, min_page_chars: int) -> list[sqlite3.Row]:
    """The tasks the pass reads now, in order, with what their chunks are made from:
    the document's kind, title, author, people and time, and the unit's path."""
    where, params = pending_filter(min_page_chars)
    return conn.execute(
        "SELECT t.id, t.document_id, t.locator, t.ref, t.data IS NOT NULL AS has_data, "
        "d.kind, d.title, d.author, d.participants, d.timestamp, d.source_id, u.path AS unit_path "
        f"FROM ocr_tasks t JOIN documents d ON d.id = t.document_id JOIN units u ON u.id = d.unit_id "
        f"WHERE {where} ORDER BY t.id",
        params,
    ).fetchall()


def task_data(conn: sqlite3.Connection, task_id: int) -> bytes | None:
    """The bytes an item carried itself (read one task at a time, never with the list)."""
    row = conn.execute("SELECT data FROM ocr_tasks WHERE id = ?", (task_id,)).fetchone()
    return row[0] if row else None


def task_state(conn: sqlite3.Connection, task_id: int) -> str | None:
    """A task's state; None when it went with its document."""
    row = conn.execute("SELECT state FROM ocr_tasks WHERE id = ?", (task_id,)).fetchone()
    return row[0] if row else None


def remove_stand_in(conn: sqlite3.Connection, document_id: int) -> list[int]:
    """Delete the chunk a document without text was indexed under (its title alone: a
    scanned PDF, a photo), once OCR gives it real text; the ids of the chunks gone."""
    removed = [
        int(r[0])
        for r in conn.execute(
            "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id "
            "WHERE c.document_id = ? AND c.locator = '' AND c.text = d.title AND coalesce(d.text, '') = ''",
            (document_id,),
        ).fetchall()
    ]
    if removed:
        marks = ",".join("?" * len(removed))
        conn.execute(f"DELETE FROM chunks WHERE id IN ({marks})", removed)
    return removed


def last_ordinal(conn: sqlite3.Connection, document_id: int) -> int:
    """The highest ordinal of a document's chunks (-1 for none): OCR chunks follow it."""
    row = conn.execute("SELECT coalesce(max(ordinal), -1) FROM chunks WHERE document_id = ?", (document_id,)).fetchone()
    return int(row[0])


def append_text(conn: sqlite3.Connection, document_id: int, locator: str, text: str) -> None:
    """Add an image's text to the document as shown to a reader (satchel show, the
    TUI): its text when it had none, else after it under the image's locator."""
    conn.execute(
        "UPDATE documents SET text = CASE WHEN coalesce(text, '') = '' THEN ? "
        "ELSE text || char(10) || char(10) || ? END WHERE id = ?",
        (text, f"[{locator}, read by OCR]\n{text}", document_id),
    )


def mark_done(conn: sqlite3.Connection, task_id: int, digest: str, chunks: int) -> None:
    """A task read: its digest (the cache key) and chunk count kept, its bytes dropped."""
    conn.execute(
        "UPDATE ocr_tasks SET state = 'done', digest = ?, chunks = ?, data = NULL, reason = NULL WHERE id = ?",
        (digest, chunks, task_id),
    )


def mark_error(conn: sqlite3.Connection, task_id: int, reason: str) -> None:
    """A task that could not be read: the reason kept, its bytes dropped."""
    conn.execute("UPDATE ocr_tasks SET state = 'error', reason = ?, data = NULL WHERE id = ?", (reason, task_id))
