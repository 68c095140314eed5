"""The reads behind an MCP server's scope (assistant/mcp/scope.py) and its tools
(assistant/mcp/tools.py): the documents an excluded folder holds and their
attachments, what a document's scope is checked against, and the counts a client
may see.

Every function takes the store's connection and only reads. The scope's own WHERE
clause comes from ``ScopedFilters.sql()``: a clause over ``chunks`` aliased ``c``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any


def data_version(conn: sqlite3.Connection) -> int:
    """SQLite's data_version, which moves whenever another connection commits: the
    key under which the scope's excluded documents are cached."""
    row = conn.execute("PRAGMA data_version").fetchone()
    return int(row[0] or 0) if row else 0


def folder_documents(conn: sqlite3.Connection, folder: str) -> list[int]:
    """Documents of the units at ``folder`` or under it (a folder, or one file)."""
    prefix = folder.rstrip("/") + "/"
    rows = conn.execute(
        "SELECT d.id FROM documents d JOIN units u ON u.id = d.unit_id WHERE u.path = ? OR substr(u.path, 1, ?) = ?",
        (folder, len(prefix), prefix),
    ).fetchall()
    return [int(r[0]) for r in rows]


def attachments(conn: sqlite3.Connection, parents: set[int]) -> set[int]:
    """Attachments of these documents (and theirs): they go where their message goes."""
    found: set[int] = set()
    frontier = sorted(parents)
    while frontier:
        rows = conn.execute(
            "SELECT id FROM documents WHERE parent_id IN (SELECT value FROM json_each(?))", (json.dumps(frontier),)
        ).fetchall()
        frontier = sorted({int(r[0]) for r in rows} - found - parents)
        found.update(frontier)
    return found


def scope_rows(conn: sqlite3.Connection, document_ids: Sequence[int]) -> list[sqlite3.Row]:
    """(id, kind, source_id) of these documents: what the scope checks."""
    return conn.execute(
        f"SELECT id, kind, source_id FROM documents WHERE id IN ({','.join('?' * len(document_ids))})", document_ids
    ).fetchall()


def passage_rows(conn: sqlite3.Connection, document_ids: Sequence[int]) -> list[sqlite3.Row]:
    """(id, dedup_key, parent_id, metadata) of these documents: what a result's
    passage tells beyond the chunk (an email's Message-ID)."""
    return conn.execute(
        f"SELECT id, dedup_key, parent_id, metadata FROM documents WHERE id IN ({','.join('?' * len(document_ids))})",
        document_ids,
    ).fetchall()


def message_documents(conn: sqlite3.Connection, message_id: str) -> list[int]:
    """Documents with this Message-ID, the indexed copy before its duplicates."""
    rows = conn.execute(
        "SELECT id FROM documents WHERE dedup_key = ? ORDER BY duplicate_of IS NOT NULL, id", (message_id,)
    ).fetchall()
    return [int(r[0]) for r in rows]


def visible_counts(conn: sqlite3.Connection, where: str | None, params: Sequence[Any]) -> tuple[dict[int, int], int]:
    """Documents per source and chunks within the scope's clause (None: the whole store)."""
    if where is not None:
        # The scope's SQL is written over chunks (alias c) and, with no filters of
        # the client's, names only kind, source_id and document_id: a view of the
        # documents with those columns lets the same clauses count documents.
        rows = conn.execute(
            f"SELECT c.source_id, count(*) FROM (SELECT id AS document_id, kind, source_id FROM documents) c "
            f"WHERE {where} GROUP BY c.source_id",
            params,
        ).fetchall()
        chunks = int(conn.execute(f"SELECT count(*) FROM chunks c WHERE {where}", params).fetchone()[0] or 0)
    else:
        rows = conn.execute("SELECT source_id, count(*) FROM documents GROUP BY source_id").fetchall()
        chunks = int(conn.execute("SELECT count(*) FROM chunks").fetchone()[0] or 0)
    return {int(source_id): int(count) for source_id, count in rows}, chunks
