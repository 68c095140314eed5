"""The store's vectors: the served ``vectors`` table, the ``pending_vectors`` of a model
switch being re-embedded, and the embedding model they come from (the meta rows)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence

import numpy as np

from assistant.errors import EmbeddingMismatchError
from assistant.store.connection import StoreConnection
from assistant.store.schema import VECTOR_TABLES, VECTORS


class VectorRows(StoreConnection):
    """Reads and writes of vectors and of the model they come from."""

    def check_embedding_model(self, identity: str, dimension: int) -> None:
        """Record the embedding model on first use; refuse to mix two models."""
        stored = self.get_meta("embedding_model")
        if stored is None:
            if not self.readonly:
                self.set_meta("embedding_model", identity)
                self.set_meta("embedding_dim", str(dimension))
            return
        if stored != identity or int(self.get_meta("embedding_dim") or 0) != dimension:
            raise EmbeddingMismatchError(
                f"the store holds vectors from {stored!r}, not {identity!r}; "
                "run `satchel reembed` to re-embed it with the configured model"
            )

    def adopt_embedding_model(self, identity: str, dimension: int) -> None:
        """Record the model of a store that holds no chunk yet: its first sync chose
        it by the languages it reads (assistant/ingest/embedder_choice.py)."""
        if self.holds_chunks():
            raise EmbeddingMismatchError(f"the store already holds vectors; it cannot adopt {identity!r}")
        with self.transaction():
            self.set_meta("embedding_model", identity)
            self.set_meta("embedding_dim", str(dimension))

    # --- a model switch in progress (assistant/ingest/reembed.py) -------------------------
    def pending_model(self) -> tuple[str, int] | None:
        """(identity, dimension) of the model whose vectors ``pending_vectors`` holds."""
        identity = self.get_meta("pending_model")
        if identity is None:
            return None
        return identity, int(self.get_meta("pending_dim") or 0)

    def start_pending(self, identity: str, dimension: int) -> None:
        """Make ``identity`` the pending model; vectors of any other pending model go."""
        with self.transaction():
            if self.pending_model() == (identity, dimension):
                return
            self.conn.execute("DELETE FROM pending_vectors")
            self.set_meta("pending_model", identity)
            self.set_meta("pending_dim", str(dimension))

    def clear_pending(self) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM pending_vectors")
            self.conn.execute("DELETE FROM meta WHERE key IN ('pending_model', 'pending_dim')")

    def chunks_without_pending(self, after: int, limit: int) -> list[sqlite3.Row]:
        """The next chunks (by id, past ``after``) with no pending vector yet, with
        what their embedding input is rebuilt from."""
        return self.query(
            "SELECT c.id, c.text, c.title, c.kind, c.embed_hash FROM chunks c WHERE c.id > ? "
            "AND NOT EXISTS (SELECT 1 FROM pending_vectors p WHERE p.chunk_id = c.id) ORDER BY c.id LIMIT ?",
            (after, limit),
        )

    def add_pending(self, chunk_ids: Sequence[int], vectors: np.ndarray) -> None:
        """Pending vectors of chunks that still exist (call inside a transaction)."""
        self.conn.executemany(
            "INSERT OR REPLACE INTO pending_vectors(chunk_id, vector) "
            "SELECT ?, ? WHERE EXISTS (SELECT 1 FROM chunks WHERE id = ?)",
            [
                (int(cid), np.ascontiguousarray(v, dtype=np.float32).tobytes(), int(cid))
                for cid, v in zip(chunk_ids, vectors, strict=True)
            ],
        )

    def chunks_missing_pending(self) -> int:
        return int(
            self.scalar(
                "SELECT count(*) FROM chunks c "
                "WHERE NOT EXISTS (SELECT 1 FROM pending_vectors p WHERE p.chunk_id = c.id)"
            )
            or 0
        )

    def promote_pending(self) -> int | None:
        """Switch models in one transaction: the pending vectors become the served
        ones, the pending model the store's model, and the generation moves on.
        Returns the new generation, or None (nothing changed) while a chunk still
        lacks a pending vector."""
        with self.transaction():
            pending = self.pending_model()
            if pending is None or self.chunks_missing_pending():
                return None
            self.conn.execute("DELETE FROM vectors")
            self.conn.execute("INSERT INTO vectors(chunk_id, vector) SELECT chunk_id, vector FROM pending_vectors")
            self.conn.execute("DELETE FROM pending_vectors")
            self.conn.execute("DELETE FROM meta WHERE key IN ('pending_model', 'pending_dim')")
            self.set_meta("embedding_model", pending[0])
            self.set_meta("embedding_dim", str(pending[1]))
            self.bump_generation()
            return self.generation()

    # --- vectors ------------------------------------------------------------------
    def iter_vectors(self, batch: int = 50_000, table: str = VECTORS) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """All stored vectors as (ids, matrix) batches, in chunk id order (``table``:
        the served vectors, or the pending ones of a model switch)."""
        if table not in VECTOR_TABLES:
            raise ValueError(f"not a vector table: {table!r}")
        last = -1
        while True:
            rows = self.query(
                f"SELECT chunk_id, vector FROM {table} WHERE chunk_id > ? ORDER BY chunk_id LIMIT ?",
                (last, batch),
            )
            if not rows:
                return
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
            yield ids, matrix.reshape(len(rows), -1)
            last = int(ids[-1])

    def vectors_by_embed_hash(self, hashes: Sequence[str]) -> dict[str, bytes]:
        """Stored vectors of chunks with these embedded texts: an unchanged paragraph
        in an edited, touched or renamed file is never embedded twice."""
        found: dict[str, bytes] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 900):
            part = unique[start : start + 900]
            marks = ",".join("?" * len(part))
            for row in self.query(
                "SELECT c.embed_hash, v.vector FROM chunks c JOIN vectors v ON v.chunk_id = c.id "
                f"WHERE c.embed_hash IN ({marks})",
                part,
            ):
                found[row[0]] = row[1]
        return found

    def vectors_for(self, chunk_ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        ids: list[int] = []
        blobs: list[bytes] = []
        for start in range(0, len(chunk_ids), 900):
            part = list(chunk_ids[start : start + 900])
            marks = ",".join("?" * len(part))
            for row in self.query(f"SELECT chunk_id, vector FROM vectors WHERE chunk_id IN ({marks})", part):
                ids.append(int(row[0]))
                blobs.append(row[1])
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), -1)
        return np.asarray(ids, dtype=np.int64), matrix

    def vector_count(self, table: str = VECTORS) -> int:
        if table not in VECTOR_TABLES:
            raise ValueError(f"not a vector table: {table!r}")
        return int(self.scalar(f"SELECT count(*) FROM {table}") or 0)
