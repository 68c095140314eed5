"""Forget a source, a document or a person, so that nothing of it can be read back.

Deleting rows is not enough for personal data: SQLite leaves deleted content in free pages,
FTS5 keeps old index segments until they are merged, and the WAL file keeps old page images.
So the deletes run with ``secure_delete``, the full-text index is rebuilt from what remains,
the file is ``VACUUM``-ed and the WAL checkpointed and truncated. docs/operations.md says what
this guarantees; assistant/store/erasure.py holds the SQL."""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.errors import SatchelError, SourceError
from assistant.ops.logs import LOG_FILE
from assistant.settings import Settings
from assistant.store import erasure
from assistant.store import ocr_tables as ocr_store
from assistant.store import usage as store_usage
from assistant.store.fileio import leftover_temps
from assistant.store.forgotten import person_digest

if TYPE_CHECKING:
    from assistant.core import Satchel
    from assistant.store.repository import Store


log = logging.getLogger("satchel.ops")


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
    usage_rows: int = 0  # usage ledger rows of those answers (store/usage.py)
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


def _select(store: Store, source: str | None, document: int | None, person: str | None) -> _Selection:
    if sum(x is not None for x in (source, document, person)) != 1:
        raise SatchelError("forget needs exactly one of --source, --document or --person")
    if source is not None:
        row = store.find_source(source)
        if row is None:
            raise SourceError(f"{source}: not a registered source (see `satchel sources`)")
        ids = erasure.source_documents(store, row["id"])
        return _Selection(ids, source_id=int(row["id"]), source_path=row["path"], needles=[row["path"]])
    if document is not None:
        found = erasure.document_dedup_key(store, document)
        if found is None:
            raise SatchelError(f"document {document}: no such document (ids are in `satchel search --json`)")
        ids = [int(document)]
        # the same message stored again elsewhere (same Message-ID) is the same content
        if found["dedup_key"]:
            ids += erasure.message_copies(store, found["dedup_key"], document)
        return _Selection(ids)
    assert person is not None
    matched, who = person_documents(store, person)
    return _Selection(sorted(matched), persons=sorted(who), needles=[person], turn_matcher=person_matcher(person))


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
    for row in erasure.document_people(store):
        people = [row["author"], *json.loads(row["participants"] or "[]")]
        hits = [p for p in people if matches(p)]
        # a chat is "with" the person even in a month they did not write in
        if hits or (row["kind"] == "chat" and matches(row["title"])):
            found.add(int(row["id"]))
            who.update(str(p) for p in hits)
    for row in erasure.chunk_people(store):
        if int(row["document_id"]) not in found and matches(row["persons"]):
            found.add(int(row["document_id"]))
    return found, who


def _turns_to_delete(
    store: Store, docs: set[int], chunks: set[int], matcher: Callable[[str | None], bool] | None
) -> list[int]:
    """Stored answers keep snippets of their sources: those citing what is forgotten
    go too (and, for a person, those that name them)."""
    doomed: list[int] = []
    for row in erasure.turn_contents(store):
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
        docs, chunks = erasure.document_family(store, sel.document_ids)
        report.documents, report.chunks, report.persons_matched = len(docs), len(chunks), sel.persons
        report.sources = 1 if sel.source_id is not None else 0
        doomed = _turns_to_delete(store, docs, set(chunks), sel.turn_matcher)
        report.turns = len(doomed)
        report.usage_rows = store_usage.count_for_turns(store.conn, doomed)
        report.seconds = time.monotonic() - started
        return report

    with app.writer_lock(wait=wait):
        sel = _select(store, source, document, person)
        docs, _ = erasure.document_family(store, sel.document_ids)
        index = app.index
        index.open(store)  # current before we change it
        before = erasure.document_total(store)
        conn = store.conn
        with erasure.secure_delete(store):
            with store.transaction():
                # tombstones first: the documents' places are read before they go
                if person is not None:
                    store.add_tombstones("person", [person_digest(person)])
                elif document is not None:
                    store.add_tombstones("document", erasure.document_tombstones(store, sel.document_ids))
                gone = store.delete_documents(sel.document_ids)
                if sel.source_id is not None:
                    gone += erasure.delete_source_rows(store, sel.source_id)
                    report.sources = 1
                turns = _turns_to_delete(store, docs, set(gone), sel.turn_matcher)
                # an erased answer's usage row goes with it (it points at the turn)
                report.usage_rows = store_usage.delete_for_turns(conn, turns)
                erasure.delete_turns(conn, turns)
                # text read by OCR from erased images goes too (cached by digest)
                ocr_store.purge_orphans(conn)
                report.turns = len(turns)
                store.bump_generation()
                # FTS5 keeps deleted words in its old segments until they merge: rewrite
                # the index from the remaining chunks, in the same transaction, so a
                # crash cannot leave the deletes done and the segments not
                erasure.rebuild_fulltext(store)
            report.documents = before - erasure.document_total(store)
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

            report.wal_cleared = erasure.erase_free_space(store)
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
