"""The SQLite store: the source of truth for sources, documents, chunks and vectors.

FAISS is a cache derived from the ``vectors`` table (see ``assistant/store/vector_index.py``), so a
lost or stale index is rebuilt without re-embedding. Schema changes are numbered
migrations (sqlite-utils ``Migrations``) applied when the store opens.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import EmbeddingMismatchError, EncryptionError, StoreError
from assistant.language.keywords import UNSTEMMED
from assistant.records import ChunkRecord, StoredChunk, now_iso
from assistant.store import db
from assistant.store.schema import VECTOR_TABLES, VECTORS, KeywordForms, satchel_migrations


class Store:
    """A connection to the store, with the operations the rest of the core needs.

    One writer at a time (the indexer holds a lock file, see ``assistant/lock.py``);
    any number of readers thanks to WAL mode.
    """

    def __init__(self, path: Path, *, readonly: bool = False, encrypt: bool = False) -> None:
        """``encrypt``: create a new store encrypted, and refuse to go on writing
        into a plain one (``satchel encrypt`` converts it). An existing encrypted
        store is opened encrypted whatever ``encrypt`` says (see assistant/store/db.py)."""
        self.path = path
        self.readonly = readonly
        self._known_languages: set[str] = set()  # keyword_languages already recorded
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fresh = not path.exists()
            if encrypt and not db.is_new(path) and not db.is_encrypted(path):
                raise EncryptionError(
                    f"encrypt is on, but the store {path} is not encrypted: run `satchel encrypt` to "
                    "encrypt it, or set encrypt = false"
                )
            self.conn = db.connect(
                path, encrypt_new=encrypt, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            if fresh:
                os.chmod(path, 0o600)
            self.encrypted = db.is_cipher(self.conn)
            db.use_rows(self.conn)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA busy_timeout=30000")
            self._migrate()
            self.file_identity = _file_identity(path)
        except db.DatabaseError as exc:
            raise StoreError(f"cannot open the store at {path}: {exc}") from exc

    def _migrate(self) -> None:
        from sqlite_utils import Database

        db = Database(self.conn)
        satchel_migrations().apply(db)

    def close(self) -> None:
        self.conn.close()

    def replaced(self) -> bool:
        """Whether the file at ``path`` is no longer the one this connection has open
        (`satchel encrypt`/`decrypt` in another process put a converted copy in its
        place): writing on would go into the old, unlinked file."""
        return _file_identity(self.path) != self.file_identity

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transactions -----------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic write: all of it lands, or none (also on SIGKILL).

        A write the file system refuses (disk full, read-only, I/O error) becomes a
        StoreError that says so; the transaction is rolled back, so the store keeps
        what earlier transactions committed and stays consistent."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except db.OperationalError as exc:
            refused = self._write_error(exc)
            if refused is None:
                raise
            raise refused from exc
        try:
            yield
            self.conn.execute("COMMIT")
        except BaseException as exc:
            self._known_languages = set()  # what this transaction recorded is gone with it
            with suppress(*db.Error):
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
            refused = self._write_error(exc) if isinstance(exc, db.OperationalError) else None
            if refused is not None:
                raise refused from exc
            raise

    def _write_error(self, exc: Exception) -> StoreError | None:
        """What the file system or another process refused, said for a person; None
        for anything else (a mistake in our SQL stays a traceback, not a "store" error)."""
        text = str(exc)
        if "full" in text:
            reason, advice = "the disk is full", "free some space and run it again; what was indexed before is kept"
        elif "readonly" in text or "read-only" in text:
            reason, advice = "the store is read-only", "make the Satchel home writable"
        elif "locked" in text or "busy" in text:
            reason, advice = "another process keeps the store busy", "try again when it is done"
        elif "disk I/O error" in text:
            reason, advice = "the disk failed to read or write", "run `satchel doctor`"
        else:
            return None
        return StoreError(f"cannot write to the store {self.path}: {reason} ({text}); {advice}")

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    # --- meta -------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        value = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def generation(self) -> int:
        """Bumped by every write that changes the vectors; FAISS files record the
        generation they were built at, so a stale file is detected."""
        return int(self.get_meta("generation") or 0)

    def bump_generation(self) -> None:
        self.set_meta("generation", str(self.generation() + 1))

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

    # --- sources ------------------------------------------------------------------
    def add_source(self, path: Path, connector: str | None) -> int:
        existing = self.scalar("SELECT id FROM sources WHERE path = ?", (str(path),))
        if existing is not None:
            self.conn.execute("UPDATE sources SET connector = ? WHERE id = ?", (connector, existing))
            return int(existing)
        cur = self.conn.execute(
            "INSERT INTO sources(path, connector, added_at) VALUES (?, ?, ?)",
            (str(path), connector, now_iso()),
        )
        return int(cur.lastrowid or 0)

    def sources(self) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM sources ORDER BY id")

    def find_source(self, ref: str) -> sqlite3.Row | None:
        """A source by id or by path (as given or resolved)."""
        if ref.isdigit():
            rows = self.query("SELECT * FROM sources WHERE id = ?", (int(ref),))
            if rows:
                return rows[0]
        for candidate in (ref, str(Path(ref).expanduser().resolve())):
            rows = self.query("SELECT * FROM sources WHERE path = ?", (candidate,))
            if rows:
                return rows[0]
        return None

    def remove_source(self, source_id: int) -> list[int]:
        """Delete a source with everything derived from it; returns chunk ids gone.
        Goes through delete_documents, so a copy of one of its emails kept in
        another source becomes the indexed one."""
        with self.transaction():
            documents = [int(r[0]) for r in self.query("SELECT id FROM documents WHERE source_id = ?", (source_id,))]
            gone = self.delete_documents(documents)
            self.conn.execute("DELETE FROM sources WHERE id = ?", (source_id,))
            self.bump_generation()
        return gone

    # --- units --------------------------------------------------------------------
    def units(self, source_id: int) -> dict[str, sqlite3.Row]:
        rows = self.query("SELECT * FROM units WHERE source_id = ?", (source_id,))
        return {row["path"]: row for row in rows}

    def upsert_unit(self, source_id: int, path: str, connector: str, signature: str) -> int:
        self.conn.execute(
            "INSERT INTO units(source_id, path, connector, signature, synced_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(source_id, path) DO UPDATE SET "
            "connector = excluded.connector, signature = excluded.signature, "
            "synced_at = excluded.synced_at",
            (source_id, path, connector, signature, now_iso()),
        )
        return int(self.scalar("SELECT id FROM units WHERE source_id = ? AND path = ?", (source_id, path)))

    def unit_id(self, source_id: int, path: str) -> int | None:
        value = self.scalar("SELECT id FROM units WHERE source_id = ? AND path = ?", (source_id, path))
        return None if value is None else int(value)

    def delete_unit(self, unit_id: int) -> list[int]:
        """Delete a unit and its documents (see delete_documents); returns chunk ids gone."""
        documents = [int(r[0]) for r in self.query("SELECT id FROM documents WHERE unit_id = ?", (unit_id,))]
        gone = self.delete_documents(documents)
        self.conn.execute("DELETE FROM units WHERE id = ?", (unit_id,))
        return gone

    # --- documents ----------------------------------------------------------------
    def document_hashes(self, unit_id: int) -> dict[str, tuple[int, str]]:
        """key -> (document id, content hash) for a unit's stored documents."""
        rows = self.query("SELECT id, key, content_hash FROM documents WHERE unit_id = ?", (unit_id,))
        return {row["key"]: (int(row["id"]), row["content_hash"]) for row in rows}

    def indexed_duplicate(self, dedup_key: str, unit_id: int, key: str) -> int | None:
        """The id of an indexed document with this dedup key, other than this one."""
        value = self.scalar(
            "SELECT id FROM documents WHERE dedup_key = ? AND duplicate_of IS NULL "
            "AND NOT (unit_id = ? AND key = ?) LIMIT 1",
            (dedup_key, unit_id, key),
        )
        return None if value is None else int(value)

    def detach_children(self, document_id: int) -> list[int]:
        """Unlink a document's children (attachments) before the document is
        replaced by a new version, so unchanged children survive; returns their ids."""
        children = [int(r[0]) for r in self.query("SELECT id FROM documents WHERE parent_id = ?", (document_id,))]
        self.conn.execute("UPDATE documents SET parent_id = NULL WHERE parent_id = ?", (document_id,))
        return children

    def attach_children(self, document_id: int, children: Sequence[int]) -> None:
        for child in children:
            self.conn.execute("UPDATE documents SET parent_id = ? WHERE id = ?", (document_id, child))

    def delete_documents(self, document_ids: Iterable[int]) -> list[int]:
        """Delete documents (and their children) with chunks, FTS rows and vectors."""
        ids = list(document_ids)
        if not ids:
            return []
        gone: list[int] = []
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            # children (attachments) go with their parent
            family = f"SELECT id FROM documents WHERE id IN ({marks}) OR parent_id IN ({marks})"
            gone += [
                int(r[0]) for r in self.query(f"SELECT id FROM chunks WHERE document_id IN ({family})", part + part)
            ]
            self.conn.execute(f"DELETE FROM chunks WHERE document_id IN ({family})", part + part)
            self.conn.execute(f"DELETE FROM documents WHERE id IN ({family})", part + part)
            # a duplicate whose original is gone becomes the indexed copy: its unit
            # is re-parsed on the next sync, and the blank hash forces re-chunking
            self.conn.execute(
                f"UPDATE units SET signature = '' WHERE id IN (SELECT unit_id FROM "
                f"documents WHERE duplicate_of IN ({marks}))",
                part,
            )
            self.conn.execute(
                f"UPDATE documents SET duplicate_of = NULL, content_hash = '' WHERE duplicate_of IN ({marks})",
                part,
            )
        return gone

    def insert_document(
        self,
        *,
        source_id: int,
        unit_id: int,
        key: str,
        kind: str,
        title: str,
        author: str | None,
        participants: list[str],
        timestamp: datetime | None,
        content_hash: str,
        dedup_key: str | None,
        duplicate_of: int | None,
        parent_id: int | None,
        metadata: dict[str, Any],
        text: str,
    ) -> int:
        cur = self.conn.execute(
            "INSERT INTO documents(source_id, unit_id, key, kind, title, author, "
            "participants, timestamp, ts, content_hash, dedup_key, duplicate_of, "
            "parent_id, metadata, text) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                source_id,
                unit_id,
                key,
                kind,
                title,
                author,
                json.dumps(participants, ensure_ascii=False),
                timestamp.isoformat() if timestamp else None,
                int(timestamp.timestamp()) if timestamp else None,
                content_hash,
                dedup_key,
                duplicate_of,
                parent_id,
                json.dumps(metadata, ensure_ascii=False, default=str),
                text,
            ),
        )
        return int(cur.lastrowid or 0)

    def keyword_languages(self) -> tuple[str, ...]:
        """The languages the keyword index holds words of (assistant/language/keywords.py)."""
        found = self.get_meta("keyword_languages")
        return tuple(found.split()) if found else ()

    def _note_keyword_languages(self, languages: set[str]) -> None:
        """Record languages not seen before (inside the caller's transaction). The
        list only grows: a language whose chunks are all gone costs one extra form
        per query word, nothing more."""
        if languages <= self._known_languages:  # the usual case: no read per document
            return
        self._known_languages = set(self.keyword_languages()) | languages
        self.set_meta("keyword_languages", " ".join(sorted(self._known_languages)))

    def insert_chunks(
        self,
        document_id: int,
        *,
        kind: str,
        source_id: int,
        title: str,
        chunks: Sequence[ChunkRecord],
        vectors: np.ndarray,
        embed_hashes: Sequence[str],
        keywords: KeywordForms | None = None,
    ) -> list[int]:
        """``keywords``: the chunks' languages and keyword forms when the caller has
        them already (the sync's parser thread makes them beside the embedder)."""
        ids: list[int] = []
        keywords = keywords or KeywordForms.of(chunks, title)
        languages = keywords.languages
        for chunk, _vector, embed_hash, language, forms in zip(
            chunks, vectors, embed_hashes, languages, keywords.forms, strict=True
        ):
            search_text, search_title, search_persons = forms
            cur = self.conn.execute(
                "INSERT INTO chunks(document_id, ordinal, text, title, persons, locator, "
                "kind, source_id, ts_start, ts_end, n_tokens, embed_hash, "
                "language, search_text, search_title, search_persons) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    document_id,
                    chunk.ordinal,
                    chunk.text,
                    title,
                    chunk.persons,
                    chunk.locator,
                    kind,
                    source_id,
                    chunk.ts_start,
                    chunk.ts_end,
                    chunk.n_tokens,
                    embed_hash,
                    language,
                    search_text,
                    search_title,
                    search_persons,
                ),
            )
            chunk_id = int(cur.lastrowid or 0)
            ids.append(chunk_id)
        # text too short to tell adds no language to look query words up in
        self._note_keyword_languages(set(languages) - {UNSTEMMED})
        self.conn.executemany(
            "INSERT INTO vectors(chunk_id, vector) VALUES (?, ?)",
            [(cid, np.ascontiguousarray(v, dtype=np.float32).tobytes()) for cid, v in zip(ids, vectors, strict=True)],
        )
        return ids

    # --- errors -------------------------------------------------------------------
    def record_error(self, source_id: int | None, path: str, reason: str, item: str | None = None) -> None:
        self.conn.execute(
            "INSERT INTO errors(source_id, path, item, reason, at) VALUES (?,?,?,?,?)",
            (source_id, path, item, reason, now_iso()),
        )

    def clear_errors(self, path: str) -> None:
        self.conn.execute("DELETE FROM errors WHERE path = ?", (path,))

    def errors(self, limit: int | None = None) -> list[sqlite3.Row]:
        sql = "SELECT e.*, s.path AS source FROM errors e LEFT JOIN sources s ON s.id = e.source_id ORDER BY e.id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return self.query(sql)

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

    # --- reading ------------------------------------------------------------------
    def holds_chunks(self) -> bool:
        return bool(self.scalar("SELECT EXISTS (SELECT 1 FROM chunks)"))

    def language_counts(self) -> dict[str, int]:
        """Chunks by the language they were indexed in ("" when none was stored)."""
        rows = self.query("SELECT COALESCE(language, '') AS language, COUNT(*) AS n FROM chunks GROUP BY 1")
        return {str(row["language"]): int(row["n"]) for row in rows}

    def chunk_languages(self, chunk_ids: Sequence[int]) -> dict[int, str]:
        """The language each chunk was indexed in ("" when none was stored)."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self.query(f"SELECT id, language FROM chunks WHERE id IN ({marks})", list(chunk_ids))
        return {int(row["id"]): str(row["language"] or "") for row in rows}

    def chunks_by_id(self, chunk_ids: Sequence[int]) -> dict[int, StoredChunk]:
        found: dict[int, StoredChunk] = {}
        for start in range(0, len(chunk_ids), 900):
            part = list(chunk_ids[start : start + 900])
            marks = ",".join("?" * len(part))
            for row in self.query(
                "SELECT c.id, c.document_id, c.text, c.locator, c.kind, c.ts_start, "
                "c.ts_end, c.persons, d.title, d.author, d.timestamp, u.path AS source "
                "FROM chunks c JOIN documents d ON d.id = c.document_id "
                f"JOIN units u ON u.id = d.unit_id WHERE c.id IN ({marks})",
                part,
            ):
                found[int(row["id"])] = StoredChunk(
                    chunk_id=int(row["id"]),
                    document_id=int(row["document_id"]),
                    text=row["text"],
                    locator=row["locator"] or "",
                    kind=row["kind"],
                    title=row["title"] or "",
                    author=row["author"],
                    timestamp=row["timestamp"],
                    source=row["source"],
                    ts_start=row["ts_start"],
                    ts_end=row["ts_end"],
                    persons=row["persons"] or "",
                )
        return found

    def document(self, document_id: int) -> sqlite3.Row | None:
        rows = self.query(
            "SELECT d.*, u.path AS source FROM documents d JOIN units u ON u.id = d.unit_id WHERE d.id = ?",
            (document_id,),
        )
        return rows[0] if rows else None

    # --- tombstones ---------------------------------------------------------------
    def add_tombstones(self, kind: str, digests: Iterable[str]) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO forgotten (kind, digest, created) VALUES (?, ?, ?)",
            [(kind, d, now_iso()) for d in digests],
        )

    def tombstones(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {"person": set(), "document": set()}
        for row in self.conn.execute("SELECT kind, digest FROM forgotten"):
            out.setdefault(row[0], set()).add(row[1])
        return out

    def vector_count(self, table: str = VECTORS) -> int:
        if table not in VECTOR_TABLES:
            raise ValueError(f"not a vector table: {table!r}")
        return int(self.scalar(f"SELECT count(*) FROM {table}") or 0)

    def counts(self) -> dict[str, int]:
        return {
            "documents": int(self.scalar("SELECT count(*) FROM documents") or 0),
            "chunks": int(self.scalar("SELECT count(*) FROM chunks") or 0),
            "vectors": self.vector_count(),
            "errors": int(self.scalar("SELECT count(*) FROM errors") or 0),
        }


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino
