"""The store's schema: its migrations, and the keyword index's tables and the forms of a
chunk's text each holds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.language.keywords import UNSTEMMED, chunk_languages, search_form
from assistant.records import ChunkRecord

MIGRATION_SET = "satchel"
# FTS5 tokenizer of the keyword index. The first stores stemmed with FTS5's English
# porter here; since m005 the words arrive stemmed in their own language
# (assistant/language/keywords.py) and the tokenizer only splits them and folds
# diacritics, so "cafe" finds "café" (docs/retrieval.md has the numbers).
FTS_TOKENIZE = "unicode61 remove_diacritics 2"
_PORTER_TOKENIZE = "porter unicode61 remove_diacritics 2"
# The served vectors, and those of a model being switched to (assistant/ingest/reembed.py).
VECTORS = "vectors"
PENDING_VECTORS = "pending_vectors"
VECTOR_TABLES = (VECTORS, PENDING_VECTORS)


def satchel_migrations() -> Any:
    from sqlite_utils import Migrations

    migrations = Migrations(MIGRATION_SET)

    @migrations()
    def m001_initial(db: Any) -> None:
        db.executescript(
            f"""
            CREATE TABLE sources (
                id INTEGER PRIMARY KEY,
                path TEXT NOT NULL UNIQUE,
                connector TEXT,             -- forced connector name, NULL = by file type
                added_at TEXT NOT NULL,
                last_sync TEXT
            );
            -- A unit is what one connector call parses: a file, or a folder such as a
            -- Maildir. (size, mtime) is the fast path that skips unchanged files.
            CREATE TABLE units (
                id INTEGER PRIMARY KEY,
                source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
                path TEXT NOT NULL,
                connector TEXT NOT NULL,
                signature TEXT NOT NULL,    -- size:mtime_ns, or a folder's digest
                synced_at TEXT NOT NULL,
                UNIQUE (source_id, path)
            );
            CREATE TABLE documents (
                id INTEGER PRIMARY KEY,
                source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
                unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
                key TEXT NOT NULL,
                kind TEXT NOT NULL,
                title TEXT,
                author TEXT,
                participants TEXT,          -- JSON list
                timestamp TEXT,             -- ISO 8601, UTC
                ts INTEGER,                 -- epoch seconds, for range filters
                content_hash TEXT NOT NULL,
                dedup_key TEXT,
                duplicate_of INTEGER,       -- same message already indexed elsewhere
                parent_id INTEGER REFERENCES documents(id) ON DELETE CASCADE,
                metadata TEXT,              -- JSON object
                text TEXT,
                UNIQUE (unit_id, key)
            );
            CREATE INDEX documents_dedup ON documents(dedup_key);
            CREATE INDEX documents_source ON documents(source_id);
            CREATE INDEX documents_parent ON documents(parent_id);
            CREATE TABLE chunks (
                id INTEGER PRIMARY KEY,     -- also the FAISS id
                document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
                ordinal INTEGER NOT NULL,
                text TEXT NOT NULL,
                title TEXT,                 -- copied from the document for FTS weighting
                persons TEXT,               -- who wrote or took part, lower-cased
                locator TEXT,
                kind TEXT NOT NULL,
                source_id INTEGER NOT NULL,
                ts_start INTEGER,
                ts_end INTEGER,
                n_tokens INTEGER,
                embed_hash TEXT             -- sha1 of the embedded text: reuse its vector
            );
            CREATE INDEX chunks_document ON chunks(document_id);
            CREATE INDEX chunks_embed_hash ON chunks(embed_hash);
            CREATE INDEX chunks_kind ON chunks(kind);
            CREATE INDEX chunks_ts ON chunks(ts_start);
            CREATE VIRTUAL TABLE chunks_fts USING fts5(
                text, title, persons,
                content='chunks', content_rowid='id',
                tokenize='{_PORTER_TOKENIZE}'
            );
            CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
                INSERT INTO chunks_fts(rowid, text, title, persons)
                VALUES (new.id, new.text, new.title, new.persons);
            END;
            CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
                INSERT INTO chunks_fts(chunks_fts, rowid, text, title, persons)
                VALUES ('delete', old.id, old.text, old.title, old.persons);
                DELETE FROM vectors WHERE chunk_id = old.id;
            END;
            CREATE TABLE vectors (
                chunk_id INTEGER PRIMARY KEY,
                vector BLOB NOT NULL        -- float32, L2-normalised
            );
            CREATE TABLE errors (
                id INTEGER PRIMARY KEY,
                source_id INTEGER REFERENCES sources(id) ON DELETE CASCADE,
                path TEXT NOT NULL,
                item TEXT,
                reason TEXT NOT NULL,
                at TEXT NOT NULL
            );
            CREATE INDEX errors_path ON errors(path);
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
            """
        )

    @migrations()
    def m002_conversations(db: Any) -> None:
        db.executescript(
            """
            CREATE TABLE conversations (
                id INTEGER PRIMARY KEY,
                title TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            );
            CREATE TABLE turns (
                id INTEGER PRIMARY KEY,
                conversation_id INTEGER NOT NULL
                    REFERENCES conversations(id) ON DELETE CASCADE,
                question TEXT NOT NULL,
                search_query TEXT,
                answer TEXT,
                sources TEXT,               -- JSON list of the sources shown
                stats TEXT,                 -- JSON token meter
                at TEXT NOT NULL
            );
            CREATE INDEX turns_conversation ON turns(conversation_id);
            """
        )

    @migrations()
    def m003_pending_vectors(db: Any) -> None:
        # Vectors of the embedding model the store is switching to (meta keys
        # pending_model, pending_dim), filled in batches while `vectors` keeps
        # serving; moved into `vectors` in one transaction once every chunk has one
        # (assistant/ingest/reembed.py). A table of its own, so queries on the served
        # vectors stay as they were.
        db.executescript(
            """
            CREATE TABLE pending_vectors (
                chunk_id INTEGER PRIMARY KEY,
                vector BLOB NOT NULL        -- float32, L2-normalised, pending_dim wide
            );
            CREATE TRIGGER chunks_ad_pending AFTER DELETE ON chunks BEGIN
                DELETE FROM pending_vectors WHERE chunk_id = old.id;
            END;
            """
        )

    @migrations()
    def m004_forgotten(db: Any) -> None:
        # Tombstones: what `satchel forget` erased stays out when its source is
        # indexed again. Only SHA-256 digests are kept (of a person's name or
        # address, of a message's Message-ID or a document's place), never the text.
        db.executescript(
            """
            CREATE TABLE forgotten (
                kind TEXT NOT NULL,         -- 'person' | 'document'
                digest TEXT NOT NULL,
                created TEXT NOT NULL,
                PRIMARY KEY (kind, digest)
            ) WITHOUT ROWID;
            """
        )

    @migrations()
    def m005_keyword_forms(db: Any) -> None:
        # The keyword index holds each chunk's words stemmed in the chunk's own
        # language (assistant/language/keywords.py) instead of FTS5's English-only
        # porter stemmer. Statement by statement, not executescript, so that the
        # migration's transaction holds: killed half-way, the store stays as it was.
        conn = db.conn
        for statement in (
            "ALTER TABLE chunks ADD COLUMN language TEXT",
            "ALTER TABLE chunks ADD COLUMN search_text TEXT",
            "ALTER TABLE chunks ADD COLUMN search_title TEXT",
            "ALTER TABLE chunks ADD COLUMN search_persons TEXT",
            "DROP TRIGGER chunks_ai",
            "DROP TRIGGER chunks_ad",
            "DROP TABLE chunks_fts",
        ):
            conn.execute(statement)
        _write_keyword_forms(conn)
        for statement in _KEYWORD_INDEX:
            conn.execute(statement)
        conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')")

    @migrations()
    def m006_ocr(db: Any) -> None:
        # The OCR pass's work list and its text cache by image digest
        # (assistant/store/ocr_tables.py holds the tables and their SQL).
        from assistant.store import ocr_tables as ocr_store

        ocr_store.create(db.conn)

    @migrations()
    def m007_usage_ledger(db: Any) -> None:
        # What each answer cost: tokens, phase seconds, energy (assistant/store/usage.py
        # holds the table and its SQL; docs/usage.md). m006 belongs to OCR; the two
        # are independent, so their order of application does not matter.
        from assistant.store import usage as store_usage

        store_usage.create(db.conn)

    return migrations


# The keyword index over the chunks' stemmed columns (m005; m001 made the first one).
_KEYWORD_INDEX = (
    f"""CREATE VIRTUAL TABLE chunks_fts USING fts5(
        search_text, search_title, search_persons,
        content='chunks', content_rowid='id',
        tokenize='{FTS_TOKENIZE}'
    )""",
    """CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts(rowid, search_text, search_title, search_persons)
        VALUES (new.id, new.search_text, new.search_title, new.search_persons);
    END""",
    """CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, search_text, search_title, search_persons)
        VALUES ('delete', old.id, old.search_text, old.search_title, old.search_persons);
        DELETE FROM vectors WHERE chunk_id = old.id;
    END""",
)


def keyword_forms(language: str, text: str, title: str, persons: str) -> tuple[str, str, str]:
    """A chunk's text, title and persons as the keyword index holds them."""
    return search_form(text, language), search_form(title, language), search_form(persons, language)


@dataclass(frozen=True)
class KeywordForms:
    """The language and keyword forms of each chunk of one document: most of the CPU
    a chunk's write costs (language detection above all), so it can be made away from
    the writing thread."""

    languages: list[str]
    forms: list[tuple[str, str, str]]

    @classmethod
    def of(cls, chunks: Sequence[ChunkRecord], title: str) -> KeywordForms:
        languages = chunk_languages([chunk.text for chunk in chunks]) if chunks else []
        titles: dict[str, str] = {}  # the title's form once per language, not once per chunk
        forms = []
        for chunk, language in zip(chunks, languages, strict=True):
            if language not in titles:
                titles[language] = search_form(title, language)
            forms.append((search_form(chunk.text, language), titles[language], search_form(chunk.persons, language)))
        return cls(languages, forms)


def _write_keyword_forms(conn: Any) -> None:
    """Fill the keyword columns of the chunks written before they existed, a
    document at a time (a chunk's language may be its document's)."""
    languages: set[str] = set()
    last = 0
    while True:
        documents = [
            int(r[0])
            for r in conn.execute(
                "SELECT DISTINCT document_id FROM chunks WHERE document_id > ? ORDER BY document_id LIMIT 500",
                (last,),
            ).fetchall()
        ]
        if not documents:
            break
        marks = ",".join("?" * len(documents))
        rows = conn.execute(
            f"SELECT id, document_id, text, title, persons FROM chunks WHERE document_id IN ({marks}) "
            "ORDER BY document_id, ordinal",
            documents,
        ).fetchall()
        updates = []
        for document_id in documents:
            chunks = [r for r in rows if r[1] == document_id]
            found = chunk_languages([r[2] for r in chunks])
            languages |= set(found) - {UNSTEMMED}
            for (chunk_id, _, text, title, persons), language in zip(chunks, found, strict=True):
                updates.append((language, *keyword_forms(language, text, title or "", persons or ""), chunk_id))
        conn.executemany(
            "UPDATE chunks SET language = ?, search_text = ?, search_title = ?, search_persons = ? WHERE id = ?",
            updates,
        )
        last = documents[-1]
    if languages:
        conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('keyword_languages', ?)",
            (" ".join(sorted(languages)),),
        )
