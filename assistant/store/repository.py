"""The SQLite store: the source of truth for sources, documents, chunks and vectors.

FAISS is a cache derived from the ``vectors`` table (see ``assistant/store/vector_index.py``), so a
lost or stale index is rebuilt without re-embedding. Schema changes are numbered
migrations (sqlite-utils ``Migrations``) applied when the store opens.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.language.keywords import UNSTEMMED
from assistant.records import ChunkRecord, StoredChunk, now_iso
from assistant.store.schema import KeywordForms
from assistant.store.vector_rows import VectorRows


class Store(VectorRows):
    """A connection to the store, with the operations the rest of the core needs.

    One writer at a time (the indexer holds a lock file, see ``assistant/store/writer_lock.py``);
    any number of readers thanks to WAL mode.
    """

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

    def mark_synced(self, source_id: int) -> None:
        """Record the end of a sync of this source (its ``last_sync``, shown by `satchel sources`)."""
        self.conn.execute("UPDATE sources SET last_sync = datetime('now') WHERE id = ?", (source_id,))

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

    def blank_units(self) -> list[sqlite3.Row]:
        """Units with a blank signature (source id, path, connector): to be read again,
        as an interrupted unit or a duplicate promoted when its original went."""
        return self.query("SELECT u.source_id, u.path, u.connector FROM units u WHERE u.signature = ''")

    def documents_per_unit(self, source_id: int) -> dict[int, int]:
        """unit id -> stored documents, for a source's units in one query (the no-op
        sync, the hot path, counts its unchanged documents with it)."""
        return {
            int(r[0]): int(r[1])
            for r in self.query(
                "SELECT unit_id, count(*) FROM documents WHERE source_id = ? GROUP BY unit_id", (source_id,)
            )
        }

    def unit_document_count(self, unit_id: int) -> int:
        return int(self.scalar("SELECT count(*) FROM documents WHERE unit_id = ?", (unit_id,)) or 0)

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

    def document_id(self, unit_id: int, key: str) -> int | None:
        """The id of a unit's document by its key (an attachment's parent stored earlier)."""
        value = self.scalar("SELECT id FROM documents WHERE unit_id = ? AND key = ?", (unit_id, key))
        return None if value is None else int(value)

    def child_documents(self, document_id: int) -> list[int]:
        """The ids of a document's children (its attachments)."""
        return [int(r[0]) for r in self.query("SELECT id FROM documents WHERE parent_id = ?", (document_id,))]

    def document_kinds(self) -> set[str]:
        """The kinds of the stored documents (a third-party connector may bring its own)."""
        return {str(r[0]) for r in self.query("SELECT DISTINCT kind FROM documents")}

    def document_keys(self) -> dict[int, str]:
        """document id -> its key in its unit (an evaluation corpus's document id)."""
        return {int(r["id"]): r["key"] for r in self.query("SELECT id, key FROM documents")}

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
        children = self.child_documents(document_id)
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

    def unit_error_paths(self, source_id: int, reason_likes: tuple[str, str]) -> list[str]:
        """Paths of a source's unit-level errors (no item) whose reason is LIKE either
        pattern: the walk's own errors, which it clears when it does not meet them again."""
        rows = self.query(
            "SELECT DISTINCT path FROM errors WHERE source_id = ? AND item IS NULL "
            "AND (reason LIKE ? OR reason LIKE ?)",
            (source_id, *reason_likes),
        )
        return [row["path"] for row in rows]

    def errors(self, limit: int | None = None) -> list[sqlite3.Row]:
        sql = "SELECT e.*, s.path AS source FROM errors e LEFT JOIN sources s ON s.id = e.source_id ORDER BY e.id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return self.query(sql)

    # --- reading ------------------------------------------------------------------
    def chunk_count(self) -> int:
        return int(self.scalar("SELECT count(*) FROM chunks") or 0)

    def filtered_chunk_ids(self, where: str, params: Sequence[Any]) -> np.ndarray:
        """Ids of the chunks (aliased ``c``) that a WHERE clause (``Filters.sql()``) keeps.

        One string from SQLite, parsed by NumPy: a quarter of a 1M-chunk store is
        250,000 ids, 30 ms this way and 240-330 ms as rows (a Python object each)."""
        row = self.conn.execute(f"SELECT group_concat(c.id, ' ') FROM chunks c WHERE {where}", params).fetchone()
        if row is None or not row[0]:
            return np.empty(0, dtype=np.int64)
        return np.fromstring(row[0], dtype=np.int64, sep=" ")

    def chunk_periods(self, chunk_ids: Sequence[int]) -> list[sqlite3.Row]:
        """(id, ts_start, ts_end) of these chunks: the period each speaks of."""
        marks = ",".join("?" * len(chunk_ids))
        return self.conn.execute(f"SELECT id, ts_start, ts_end FROM chunks WHERE id IN ({marks})", chunk_ids).fetchall()

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

    def counts(self) -> dict[str, int]:
        return {
            "documents": int(self.scalar("SELECT count(*) FROM documents") or 0),
            "chunks": self.chunk_count(),
            "vectors": self.vector_count(),
            "errors": int(self.scalar("SELECT count(*) FROM errors") or 0),
        }

    # --- reads for the front ends ---------------------------------------------------------
    def source_summaries(self) -> list[dict[str, Any]]:
        """Every source with its counts of documents, chunks and errors."""
        rows = self.query(
            "SELECT s.*, (SELECT count(*) FROM documents d WHERE d.source_id = s.id) AS documents, "
            "(SELECT count(*) FROM chunks c WHERE c.source_id = s.id) AS chunks, "
            "(SELECT count(*) FROM errors e WHERE e.source_id = s.id) AS errors "
            "FROM sources s ORDER BY s.id"
        )
        return [
            {
                "id": r["id"],
                "path": r["path"],
                "connector": r["connector"],
                "documents": r["documents"],
                "chunks": r["chunks"],
                "errors": r["errors"],
                "added_at": r["added_at"],
                "last_sync": r["last_sync"],
            }
            for r in rows
        ]

    def document_count(self, source_id: int) -> int:
        return int(self.scalar("SELECT count(*) FROM documents WHERE source_id = ?", (source_id,)) or 0)

    def persons(self) -> tuple[str, ...]:
        """Every sender, recipient and chat speaker, sorted."""
        names: set[str] = set()
        for (author,) in self.query("SELECT DISTINCT author FROM documents WHERE author IS NOT NULL"):
            names.add(author)
        for (participants,) in self.query("SELECT DISTINCT participants FROM documents"):
            names.update(json.loads(participants or "[]"))
        return tuple(sorted(n for n in names if n))

    def document_chunks(self, document_id: int) -> list[dict[str, Any]]:
        """A document's chunks in order: id, ordinal, locator and text."""
        rows = self.query(
            "SELECT id, ordinal, locator, text FROM chunks WHERE document_id = ? ORDER BY ordinal", (document_id,)
        )
        return [dict(c) for c in rows]
