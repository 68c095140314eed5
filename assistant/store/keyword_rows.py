"""The keyword index's reads: FTS5 MATCH and BM25 over ``chunks_fts`` (its table and
tokenizer are in assistant/store/schema.py), for search (assistant/retrieval/search.py).

Search latency is a benchmarked target, so each function is the one statement search
ran before it lived here, with the same text and parameters. A MATCH expression FTS5
cannot parse (a user's stray quote or operator) matches nothing, unless said otherwise.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from assistant.store import db


def chunks_containing(
    conn: sqlite3.Connection, phrases: Sequence[str], chunk_ids: Sequence[int]
) -> list[set[int] | None]:
    """For each MATCH phrase, which of the chunks match it; None for a phrase FTS5
    cannot parse (the caller tells that from matching nothing)."""
    if not chunk_ids:
        return [set() for _ in phrases]
    marks = ",".join("?" * len(chunk_ids))
    found: list[set[int] | None] = []
    for phrase in phrases:
        try:
            rows = conn.execute(
                f"SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? AND rowid IN ({marks})",
                [phrase, *chunk_ids],
            ).fetchall()
        except db.Error:
            found.append(None)
            continue
        found.append({int(r[0]) for r in rows})
    return found


def capped_frequency(conn: sqlite3.Connection, term: str, cap: int) -> int:
    """Rows matching ``term``, counted up to ``cap`` (no need to know more). Raises the
    driver's error for a term FTS5 cannot parse."""
    row = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)",
        [term, cap],
    ).fetchone()
    return int(row[0])


def bm25(
    conn: sqlite3.Connection,
    match: str,
    limit: int,
    weights: Sequence[float],
    where: str | None = None,
    where_params: Sequence[Any] = (),
) -> list[tuple[int, float]]:
    """Top ``limit`` (chunk id, score) by FTS5 BM25, higher is better; ``weights``:
    of the columns text, title and persons. ``where``: a clause over ``chunks``
    aliased ``c`` (``Filters.sql()``), None for no filter."""
    columns = ", ".join(str(w) for w in weights)
    if where is None:
        # No join with chunks: at 100k chunks the join per matched row doubled the cost.
        sql = (
            f"SELECT rowid, bm25(chunks_fts, {columns}) AS score FROM chunks_fts "
            "WHERE chunks_fts MATCH ? ORDER BY score LIMIT ?"
        )
        params: list[Any] = [match, limit]
    else:
        sql = (
            f"SELECT c.id, bm25(chunks_fts, {columns}) AS score FROM chunks_fts "
            f"JOIN chunks c ON c.id = chunks_fts.rowid WHERE chunks_fts MATCH ? AND {where} "
            "ORDER BY score LIMIT ?"
        )
        params = [match, *where_params, limit]
    try:
        rows = conn.execute(sql, params).fetchall()
    except db.Error:
        return []
    return [(int(r[0]), -float(r[1])) for r in rows]
