"""The conversation tables and their SQL: a conversation is a titled list of turns, each
a question, the query searched, the answer and its sources and figures.

Every function takes the store's connection and runs inside the caller's transaction
where it writes (``Store.transaction``), so a turn and its usage ledger row are written
together or not at all.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from assistant.records import now_iso

TITLE_CHARS = 80  # a new conversation is titled with its first question, cut here


def exists(conn: sqlite3.Connection, conversation_id: int) -> bool:
    return conn.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone() is not None


def create(conn: sqlite3.Connection, first_question: str) -> int:
    cur = conn.execute(
        "INSERT INTO conversations(title, created_at, updated_at) VALUES (?, ?, ?)",
        (first_question[:TITLE_CHARS], now_iso(), now_iso()),
    )
    return int(cur.lastrowid or 0)


def add_turn(
    conn: sqlite3.Connection,
    conversation_id: int,
    *,
    question: str,
    search_query: str,
    answer: str,
    sources: list[dict[str, Any]],
    stats: dict[str, Any] | None,
) -> int:
    """Append a turn and touch the conversation's ``updated_at``; the turn's id."""
    cur = conn.execute(
        "INSERT INTO turns(conversation_id, question, search_query, answer, sources, stats, at) VALUES (?,?,?,?,?,?,?)",
        (
            conversation_id,
            question,
            search_query,
            answer,
            json.dumps(sources, ensure_ascii=False),
            json.dumps(stats),
            now_iso(),
        ),
    )
    conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now_iso(), conversation_id))
    return int(cur.lastrowid or 0)


def listing(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every conversation with its number of turns, the most recent first."""
    rows = conn.execute(
        "SELECT c.*, (SELECT count(*) FROM turns t WHERE t.conversation_id = c.id) AS turns "
        "FROM conversations c ORDER BY c.updated_at DESC, c.id DESC"
    ).fetchall()
    return [dict(r) for r in rows]


def turns(conn: sqlite3.Connection, conversation_id: int) -> list[dict[str, Any]]:
    """A conversation's turns in order, their sources and figures decoded."""
    out = []
    for r in conn.execute("SELECT * FROM turns WHERE conversation_id = ? ORDER BY id", (conversation_id,)):
        turn = dict(r)
        turn["sources"] = json.loads(r["sources"] or "[]")
        turn["stats"] = json.loads(r["stats"] or "null")
        out.append(turn)
    return out
