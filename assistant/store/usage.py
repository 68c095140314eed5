"""The usage ledger's table and its SQL: one row per answer the model generated.

A row holds what the answer cost (model, backend, tokens, phase seconds, energy and
how it was had) and where it was asked (``origin``), never the question, the answer
or its sources. The row of an answer saved in a conversation points at its turn, so
`satchel forget` erases the rows of the turns it erases (assistant/ops/forget.py), and,
being in the store, the ledger is encrypted with it (`satchel encrypt`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

TABLE = "usage_ledger"
# Where an answer was asked: the command line, the terminal app, an MCP client, an
# evaluation run (`satchel eval qa`), or another Python caller of the core.
ORIGINS = ("cli", "tui", "mcp", "eval", "api")

# m007_usage_ledger (assistant/store/schema.py); statement by statement inside the migration's
# transaction.
SCHEMA = (
    f"""CREATE TABLE {TABLE} (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,                 -- UTC ISO time the answer finished
        origin TEXT NOT NULL,             -- cli | tui | mcp | eval | api
        model TEXT NOT NULL,              -- the GGUF file name, or "name @ server"
        backend TEXT NOT NULL,            -- local (in process) | server (OpenAI-compatible)
        model_bytes INTEGER,              -- the GGUF's size, for the bandwidth ceiling
        prompt_tokens INTEGER NOT NULL,
        evaluated_tokens INTEGER NOT NULL,  -- prompt tokens computed (not reused from the KV cache)
        generated_tokens INTEGER NOT NULL,
        retrieval_s REAL NOT NULL,
        prompt_s REAL NOT NULL,           -- time to the first token
        generation_s REAL NOT NULL,       -- first token to last
        energy_j REAL NOT NULL,
        energy_method TEXT NOT NULL,      -- rapl | estimate, +nvml, +server
        energy_measured INTEGER NOT NULL, -- 1 when the CPU part came from a counter
        cpu_s REAL NOT NULL,              -- the process's CPU seconds over the answer
        turn_id INTEGER REFERENCES turns(id) ON DELETE SET NULL
    )""",
    f"CREATE INDEX {TABLE}_at ON {TABLE}(at)",
    f"CREATE INDEX {TABLE}_turn ON {TABLE}(turn_id)",
)


def create(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA:
        conn.execute(statement)


@dataclass(frozen=True)
class UsageRow:
    at: str
    origin: str
    model: str
    backend: str
    model_bytes: int | None
    prompt_tokens: int
    evaluated_tokens: int
    generated_tokens: int
    retrieval_s: float
    prompt_s: float
    generation_s: float
    energy_j: float
    energy_method: str
    energy_measured: bool
    cpu_s: float
    turn_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


_COLUMNS = tuple(UsageRow.__dataclass_fields__)


def insert(conn: sqlite3.Connection, row: UsageRow) -> int:
    """Write one row (inside the caller's transaction when there is one)."""
    values = [getattr(row, c) for c in _COLUMNS]
    values[_COLUMNS.index("energy_measured")] = int(row.energy_measured)
    cur = conn.execute(f"INSERT INTO {TABLE}({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})", values)
    return int(cur.lastrowid or 0)


def rows(conn: sqlite3.Connection, since_utc: str | None = None) -> list[UsageRow]:
    """Every row, oldest first; from ``since_utc`` (an ISO time in UTC) on."""
    sql = f"SELECT {', '.join(_COLUMNS)} FROM {TABLE}"
    params: Sequence[Any] = ()
    if since_utc is not None:
        sql += " WHERE at >= ?"
        params = (since_utc,)
    found = []
    for r in conn.execute(sql + " ORDER BY at, id", params):
        data = dict(zip(_COLUMNS, tuple(r), strict=True))
        data["energy_measured"] = bool(data["energy_measured"])
        found.append(UsageRow(**data))
    return found


def totals_since(conn: sqlite3.Connection, since_utc: str) -> dict[str, float]:
    """Answers, tokens (prompt + generated) and joules from ``since_utc`` on."""
    answers, tokens, joules = conn.execute(
        f"SELECT count(*), coalesce(sum(prompt_tokens + generated_tokens), 0), coalesce(sum(energy_j), 0) "
        f"FROM {TABLE} WHERE at >= ?",
        (since_utc,),
    ).fetchone()
    return {"answers": int(answers), "tokens": int(tokens), "joules": float(joules)}


def delete_for_turns(conn: sqlite3.Connection, turn_ids: Iterable[int]) -> int:
    """Erase the rows of these conversation turns (forget); returns how many went."""
    ids = list(turn_ids)
    gone = 0
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        cur = conn.execute(f"DELETE FROM {TABLE} WHERE turn_id IN ({','.join('?' * len(part))})", part)
        gone += cur.rowcount
    return gone


def count_for_turns(conn: sqlite3.Connection, turn_ids: Iterable[int]) -> int:
    ids = list(turn_ids)
    found = 0
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        found += int(
            conn.execute(
                f"SELECT count(*) FROM {TABLE} WHERE turn_id IN ({','.join('?' * len(part))})", part
            ).fetchone()[0]
        )
    return found
