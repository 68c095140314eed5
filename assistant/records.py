"""The records that pass between the layers: a chunk to write, a chunk read back.

No dependencies, so that every layer (ingest, retrieval, answer, the store) can name
them without importing the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class ChunkRecord:
    """A chunk ready to be written, with its vector."""

    ordinal: int
    text: str
    locator: str
    persons: str
    ts_start: int | None
    ts_end: int | None
    n_tokens: int


@dataclass
class StoredChunk:
    chunk_id: int
    document_id: int
    text: str
    locator: str
    kind: str
    title: str
    author: str | None
    timestamp: str | None
    source: str
    ts_start: int | None
    ts_end: int | None
    persons: str


def epoch(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None
