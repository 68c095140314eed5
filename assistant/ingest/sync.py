"""Incremental sync: walk the sources, parse what changed, embed, write.

- A *unit* is what one connector call parses: a file, or a folder like a Maildir.
  A unit whose (size, mtime) signature is unchanged is skipped without opening it.
- Inside a changed unit, a document whose content hash is unchanged keeps its chunks
  and vectors; new and changed documents are chunked and embedded; documents gone
  from the unit are deleted (chunks, FTS rows and vectors with them).
- Parsing and chunking run in a producer thread while the main thread embeds and
  writes, so the cores are not idle waiting for I/O.
- Every write is a transaction that also finalises the units whose documents it
  contains, so SIGKILL at any moment leaves a consistent store; the next run redoes
  only the unfinished units, and skips their already-written documents by hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.backends.protocols import Embedder
from assistant.cpu_budget import BackgroundWork
from assistant.errors import SourceError, StoreError
from assistant.ingest.chunking import ChunkingOptions, PreparedChunk, chunk_document
from assistant.ingest.reports import Progress, ProgressCallback, StageClock, SyncReport
from assistant.ingest.walk import (
    REREAD_ROUNDS,
    UNOPENABLE,
    UNREADABLE,
    Unit,
    current_signature,
    unit_settled,
    walk_source,
)
from assistant.store import ocr_tables as ocr_store
from assistant.store.forgotten import Tombstones
from assistant.store.repository import Store
from assistant.store.schema import KeywordForms
from assistant.store.vector_index import VectorIndex
from connectors.base import Document, ItemError, to_utc
from connectors.registry import UnknownConnectorError, connector_by_name

# Chunks embedded per write transaction: large enough to keep the encoder busy,
# small enough that a crash loses little work.
BATCH_CHUNKS = 256


# --- the pipeline ---------------------------------------------------------------------
@dataclass
class _DocWork:
    unit: Unit
    document: Document
    replaces: int | None  # stored id of the previous version
    chunks: list[PreparedChunk]
    keywords: KeywordForms | None = None


class _Room:
    """How many chunks the parser may have ahead of the embedder; one document always
    fits, however long."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._changed = threading.Condition()

    def take(self, count: int, stop: threading.Event) -> None:
        with self._changed:
            while self.used and self.used + count > self.limit and not stop.is_set():
                self._changed.wait(0.1)
            self.used += count

    def give(self, count: int) -> None:
        with self._changed:
            self.used -= count
            self._changed.notify_all()


@dataclass
class _UnitEnd:
    unit: Unit
    seen_keys: set[str]
    errors: list[ItemError]
    complete: bool  # parsed to the end; only then are vanished documents deleted
    forgotten: int = 0  # documents kept out by `satchel forget` tombstones
    # the file changed while it was being parsed: what was read may mix two versions,
    # so the unit keeps a blank signature and is read again
    settled: bool = True


_DONE = object()


@dataclass
class _ProducerFailed:
    error: Exception


def embed_reusing(store: Store, embedder: Embedder, texts: list[str]) -> tuple[np.ndarray, list[str], list[int]]:
    """Vectors for ``texts``: a text the store already holds a vector for (by its
    sha1, ``embed_hash``) reuses it, the others are encoded. Returns the vectors, the
    texts' hashes and the positions that were encoded."""
    hashes = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    known = store.vectors_by_embed_hash(hashes) if texts else {}
    missing = [i for i, h in enumerate(hashes) if h not in known]
    for i, h in enumerate(hashes):
        if h in known:
            vectors[i] = np.frombuffer(known[h], dtype=np.float32)
    if missing:
        vectors[missing] = embedder.encode([texts[i] for i in missing])
    return vectors, hashes, missing


class Indexer:
    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        index: VectorIndex,
        options: ChunkingOptions,
        exclude: tuple[str, ...] = (),
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.index = index
        self.options = options
        self.exclude = exclude
        # Set while the sync runs as background work: it pauses for answers
        # (assistant/cpu_budget.py).
        self.background: BackgroundWork | None = None
        self.clock = StageClock()
        # Set for the first sync of an empty store whose model is chosen by its
        # languages (assistant/ingest/embedder_choice.py): called once with the
        # languages of the first batch, before anything is embedded.
        self.choose_embedder: Callable[[list[str]], Embedder] | None = None

    def sync(
        self,
        source_ids: list[int] | None = None,
        progress: ProgressCallback | None = None,
        only_paths: set[Path] | None = None,
    ) -> SyncReport:
        """Bring the store in line with the sources. ``only_paths`` limits parsing to
        those units (watch mode); every other unit is left as it is."""
        started = time.monotonic()
        report = SyncReport()
        clock = self.clock = StageClock()
        walk_started = time.perf_counter()
        self.store.check_embedding_model(self.embedder.identity, self.embedder.dimension)
        self.index.open(self.store)

        changed: list[Unit] = []
        vanished_units: list[sqlite3.Row] = []
        for source in self.store.sources():
            if source_ids is not None and source["id"] not in source_ids:
                continue
            try:
                walk = walk_source(source["id"], Path(source["path"]), source["connector"], self.exclude)
            except SourceError as exc:
                self._record_unit_error(source["id"], source["path"], str(exc), report)
                continue
            units = walk.units
            report.skipped_files += walk.skipped
            self._clear_walk_errors(source["id"], {path for path, _ in walk.problems})
            for path, reason in walk.problems:
                self._record_unit_error(source["id"], path, reason, report)
            stored = self.store.units(source["id"])
            # one query per source, not one per unit: the no-op path is the hot one
            documents_in = self.store.documents_per_unit(source["id"])
            present = {str(u.path) for u in units}
            vanished = [row for path, row in stored.items() if path not in present and not walk.shadows(Path(path))]
            if only_paths is not None:
                vanished = [row for row in vanished if Path(row["path"]) in only_paths]
            vanished_units += vanished
            for unit in units:
                row = stored.get(str(unit.path))
                # a blank signature marks a unit that must be read again (interrupted,
                # or a duplicate promoted when its original went): read it whatever
                # paths the watcher named, or it would wait for the next full sync
                if only_paths is not None and unit.path not in only_paths and (row is None or row["signature"]):
                    continue
                if row is not None and row["signature"] == unit.signature and row["connector"] == unit.connector.name:
                    report.unchanged += int(documents_in.get(row["id"], 0))
                    continue
                changed.append(unit)

        clock.add("walk", time.perf_counter() - walk_started)
        loaded_before = getattr(self.embedder, "load_seconds", 0.0)
        if changed:
            self._run_pipeline(changed, report, progress, started)
        finish_started = time.perf_counter()
        # after the new units, so a renamed file reuses its stored vectors
        for row in vanished_units:
            report.deleted += self.store.unit_document_count(row["id"])
            with self.store.transaction():
                gone = self.store.delete_unit(row["id"])
                self.store.clear_errors(row["path"])
                self.store.bump_generation()
            self.index.remove(gone)
        # Units left with a blank signature are read again now, not at some later full
        # sync: a file written to while it was parsed (what was read may mix two
        # versions), and a renamed email, which is first stored as a duplicate of
        # itself (same Message-ID, no chunks) and promoted, blank, when the old name
        # is deleted; until then it could not be found (seen in scripts/soak.py).
        # (only this sync's parsing or deletions can have left new ones: a no-op sync,
        # the hot path, skips the query)
        for _round in range(REREAD_ROUNDS if changed or vanished_units else 0):
            promoted = self._blank_units(source_ids)
            if not promoted:
                break
            reread_started = time.perf_counter()
            self._run_pipeline(promoted, report, progress, started)
            finish_started += time.perf_counter() - reread_started  # counted by its own stages
        with self.store.transaction():
            for source in self.store.sources():
                if source_ids is None or source["id"] in source_ids:
                    self.store.mark_synced(source["id"])
        self.index.reshape(self.store)  # exact <-> IVF as the store crosses EXACT_LIMIT
        try:
            self.index.save(self.store.generation())
        except OSError as exc:
            # the store is the source of truth and is complete: a stale or missing
            # index file is rebuilt from its vectors by the next reader
            raise StoreError(
                f"the store is up to date, but the index file {self.index.path} could not be written "
                f"({exc.strerror or exc}); it is rebuilt from the store when there is room"
            ) from exc
        clock.add("finish", time.perf_counter() - finish_started)
        # the model loads on the first text that needs a vector (never for a sync
        # whose changes all reuse stored vectors); its time is its own stage
        loading = getattr(self.embedder, "load_seconds", 0.0) - loaded_before
        if loading:
            clock.add("model_load", loading)
            clock.add("embed", -loading)
        report.seconds = time.monotonic() - started
        counted = sum(v for k, v in clock.seconds.items() if k not in ("parse", "chunk"))
        clock.add("other", max(0.0, report.seconds - counted))
        report.stage_seconds = clock.seconds
        return report

    def _blank_units(self, source_ids: list[int] | None) -> list[Unit]:
        """The stored units with a blank signature (to be read again) that still exist."""
        units = []
        for row in self.store.blank_units():
            if source_ids is not None and row["source_id"] not in source_ids:
                continue
            try:
                connector = connector_by_name(row["connector"])
            except UnknownConnectorError:  # uninstalled since: the full sync reports it
                continue
            unit = Unit(int(row["source_id"]), Path(row["path"]), connector, "", 0)
            now = current_signature(unit)
            if now is not None:
                unit.signature, unit.size = now
                units.append(unit)
        return units

    def _clear_walk_errors(self, source_id: int, still: set[str]) -> None:
        """Forget the walk's errors of earlier syncs that this walk did not meet again."""
        paths = self.store.unit_error_paths(source_id, (UNREADABLE + " (%", UNOPENABLE + " (%"))
        gone = [path for path in paths if path not in still]
        if gone:
            with self.store.transaction():
                for path in gone:
                    self.store.clear_errors(path)

    def _record_unit_error(self, source_id: int, path: str, reason: str, report: SyncReport) -> None:
        with self.store.transaction():
            self.store.clear_errors(path)
            self.store.record_error(source_id, path, reason)
        report.errors += 1
        report.error_list.append({"path": path, "item": None, "reason": reason})

    # producer: parse and chunk in a thread -------------------------------------------
    def _produce(self, units: list[Unit], out: queue.Queue[object], stop: threading.Event, room: _Room) -> None:
        try:
            reader = Store(self.store.path)
            tokenizer = self.embedder.tokenizer
            tombstones = Tombstones.load(reader)
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            out.put(_ProducerFailed(exc))
            out.put(_DONE)
            return
        clock = self.clock
        chunking = waiting = 0.0
        producing = time.perf_counter()
        try:
            for unit in units:
                if stop.is_set():
                    break
                unit_id = reader.unit_id(unit.source_id, str(unit.path))
                stored = reader.document_hashes(unit_id) if unit_id is not None else {}
                seen: set[str] = set()
                forgotten: set[str] = set()
                errors: list[ItemError] = []
                complete = True
                try:
                    for item in unit.connector.iter_documents(unit.path):
                        if stop.is_set():
                            complete = False
                            break
                        if self.background is not None:  # no parsing beside an answer
                            self.background.yield_point(marks_paused=False)
                        if isinstance(item, ItemError):
                            errors.append(item)
                            continue
                        if item.key in seen:
                            errors.append(
                                ItemError(str(unit.path), f"duplicate item key {item.key!r} skipped", item.key)
                            )
                            continue
                        parent_forgotten = item.parent_key is not None and item.parent_key in forgotten
                        if tombstones and (parent_forgotten or tombstones.forbid(item, str(unit.path))):
                            # not in `seen`: a stored copy, if any, goes as stale
                            forgotten.add(item.key)
                            continue
                        seen.add(item.key)
                        item.timestamp = to_utc(item.timestamp)
                        digest = item.content_hash()
                        previous = stored.get(item.key)
                        if previous is not None and previous[1] == digest:
                            continue
                        item.metadata.setdefault("_hash", digest)
                        chunk_started = time.perf_counter()
                        chunks = chunk_document(item, tokenizer, self.options)
                        records = [c.record for c in chunks]
                        keywords = KeywordForms.of(records, item.title)  # beside the embedder, not after it
                        put_started = time.perf_counter()
                        room.take(len(chunks), stop)
                        out.put(_DocWork(unit, item, previous[0] if previous else None, chunks, keywords))
                        chunking += put_started - chunk_started
                        waiting += time.perf_counter() - put_started
                except Exception as exc:  # the unit failed as a whole; keep what is stored
                    complete = False
                    errors.append(ItemError(str(unit.path), f"{type(exc).__name__}: {exc}"))
                put_started = time.perf_counter()
                out.put(_UnitEnd(unit, seen, errors, complete, len(forgotten), unit_settled(unit)))
                waiting += time.perf_counter() - put_started
        finally:
            # the parser's stages, beside the main thread's: reading and chunking, not
            # the time it waited for the embedder to take its work
            clock.add("chunk", chunking)
            clock.add("parse", time.perf_counter() - producing - chunking - waiting)
            reader.close()
            out.put(_DONE)

    # consumer: embed and write ---------------------------------------------------------
    def _run_pipeline(
        self, units: list[Unit], report: SyncReport, progress: ProgressCallback | None, started: float
    ) -> None:
        # Memory is bounded by the chunks parsed ahead (room), not by the items: the
        # parser gets a whole next batch ready while the embedder works on this one.
        work: queue.Queue[object] = queue.Queue(maxsize=4096)
        room = _Room(2 * BATCH_CHUNKS)
        stop = threading.Event()
        producer = threading.Thread(
            target=self._produce, args=(units, work, stop, room), daemon=True, name="satchel-parse"
        )
        producer.start()
        state = Progress(0, sum(u.size for u in units), 0, len(units), 0, "", started)
        pending: list[_DocWork | _UnitEnd] = []
        pending_chunks = 0
        try:
            background = self.background
            while True:
                if background is not None:
                    background.yield_point()  # waiting for the parser is a safe place to pause
                waited = time.perf_counter()
                try:
                    item = work.get(timeout=0.05 if pending or background is not None else None)
                except queue.Empty:
                    item = None
                self.clock.add("wait_for_parser", time.perf_counter() - waited)
                if item is _DONE:
                    self._flush(pending, report, state, progress)
                    break
                if isinstance(item, _ProducerFailed):
                    # the parser thread could not start (the store unreadable, the disk
                    # failing): fail the sync instead of waiting for it forever
                    if isinstance(item.error, StoreError):
                        raise item.error
                    raise StoreError(f"the sync could not read the store: {item.error}") from item.error
                if item is None:
                    # the parser is busy: embed what we have rather than wait idle
                    if pending_chunks:
                        self._flush(pending, report, state, progress)
                        pending, pending_chunks = [], 0
                    continue
                assert isinstance(item, _DocWork | _UnitEnd)
                pending.append(item)
                if isinstance(item, _DocWork):
                    pending_chunks += len(item.chunks)
                    room.give(len(item.chunks))
                if pending_chunks >= BATCH_CHUNKS:
                    self._flush(pending, report, state, progress)
                    pending, pending_chunks = [], 0
        finally:
            stop.set()
            while producer.is_alive():  # unblock a producer waiting on a full queue
                with contextlib.suppress(queue.Empty):
                    work.get(timeout=0.1)
            producer.join()

    def _adopt_embedder(self, pending: list[_DocWork | _UnitEnd]) -> None:
        """Pick the model of an empty store from its first batch's languages, so that
        the first sync embeds once with the model the store keeps."""
        assert self.choose_embedder is not None
        languages = [
            language
            for w in pending
            if isinstance(w, _DocWork) and w.keywords is not None
            for language in w.keywords.languages
        ]
        chosen, self.choose_embedder = self.choose_embedder(languages), None
        if chosen.identity != self.embedder.identity and chosen.dimension == self.index.dimension:
            self.store.adopt_embedding_model(chosen.identity, chosen.dimension)
            self.embedder = chosen

    def _flush(
        self, pending: list[_DocWork | _UnitEnd], report: SyncReport, state: Progress, progress: ProgressCallback | None
    ) -> None:
        if not pending:
            return
        texts = [c.embed_text for w in pending if isinstance(w, _DocWork) for c in w.chunks]
        if self.choose_embedder is not None and texts:
            self._adopt_embedder(pending)
        clock = self.clock
        with clock.stage("embed"):
            vectors, hashes, missing = embed_reusing(self.store, self.embedder, texts)
        if missing:
            report.embedded_chunks += len(missing)
            tokens = [c.record.n_tokens for w in pending if isinstance(w, _DocWork) for c in w.chunks]
            report.embedded_tokens += sum(tokens[i] for i in missing)
        added_ids: list[int] = []
        added_vectors: list[np.ndarray] = []
        removed_ids: list[int] = []
        offset = 0
        store = self.store
        writing = time.perf_counter()
        with store.transaction():
            unit_ids: dict[str, int] = {}
            key_ids: dict[tuple[int, str], int] = {}
            for work in pending:
                unit = work.unit
                upath = str(unit.path)
                if upath not in unit_ids:
                    existing = store.unit_id(unit.source_id, upath)
                    # a unit row exists before its signature is final; the
                    # placeholder signature makes an interrupted unit re-parse
                    unit_ids[upath] = (
                        existing
                        if existing is not None
                        else store.upsert_unit(unit.source_id, upath, unit.connector.name, "")
                    )
                unit_id = unit_ids[upath]
                if isinstance(work, _DocWork):
                    doc = work.document
                    count = len(work.chunks)
                    doc_vectors = vectors[offset : offset + count]
                    offset += count
                    children: list[int] = []
                    if work.replaces is not None:
                        children = store.detach_children(work.replaces)
                        removed_ids += store.delete_documents([work.replaces])
                        report.updated += 1
                    else:
                        report.added += 1
                    parent_id = None
                    if doc.parent_key:
                        parent_id = key_ids.get((unit_id, doc.parent_key)) or store.document_id(unit_id, doc.parent_key)
                    duplicate_of = None
                    if doc.dedup_key:
                        duplicate_of = store.indexed_duplicate(doc.dedup_key, unit_id, doc.key)
                    digest = str(doc.metadata.pop("_hash", "")) or doc.content_hash()
                    doc_id = store.insert_document(
                        source_id=unit.source_id,
                        unit_id=unit_id,
                        key=doc.key,
                        kind=doc.kind,
                        title=doc.title,
                        author=doc.author,
                        participants=doc.participants,
                        timestamp=doc.timestamp,
                        content_hash=digest,
                        dedup_key=doc.dedup_key,
                        duplicate_of=duplicate_of,
                        parent_id=parent_id,
                        metadata=doc.metadata,
                        text=doc.text,
                    )
                    key_ids[(unit_id, doc.key)] = doc_id
                    store.attach_children(doc_id, children)
                    if duplicate_of is not None:
                        report.duplicates += 1
                        continue
                    if doc.images:
                        # the OCR pass reads them after the text is indexed
                        report.ocr_queued += ocr_store.add_tasks(store.conn, doc_id, doc.images)
                    ids = store.insert_chunks(
                        doc_id,
                        kind=doc.kind,
                        source_id=unit.source_id,
                        title=doc.title,
                        chunks=[c.record for c in work.chunks],
                        vectors=doc_vectors,
                        embed_hashes=hashes[offset - count : offset],
                        keywords=work.keywords,
                    )
                    added_ids += ids
                    added_vectors.append(doc_vectors)
                else:
                    if work.complete:
                        stale = [
                            doc_id
                            for key, (doc_id, _) in store.document_hashes(unit_id).items()
                            if key not in work.seen_keys
                        ]
                        if stale:
                            report.deleted += len(stale)
                            removed_ids += store.delete_documents(stale)
                    store.clear_errors(upath)
                    for error in work.errors:
                        store.record_error(unit.source_id, error.path, error.reason, error.item)
                        report.errors += 1
                        report.error_list.append({"path": error.path, "item": error.item, "reason": error.reason})
                    # blank: read again before the sync ends (Indexer.sync)
                    signature = unit.signature if work.settled else ""
                    store.upsert_unit(unit.source_id, upath, unit.connector.name, signature)
                    report.units_parsed += 1
                    report.forgotten += work.forgotten
                    state.units_done += 1
                    state.bytes_done += unit.size
                    state.current = upath
            store.bump_generation()
        indexing = time.perf_counter()
        clock.add("store_write", indexing - writing)
        self.index.remove(removed_ids)
        if added_ids:
            self.index.add(added_ids, np.concatenate(added_vectors))
            # a huge source turns the index approximate as soon as it passes the limit,
            # not at the end: an exact index of 1M vectors would hold 1.5 GB meanwhile
            self.index.reshape(self.store)
        clock.add("vector_index", time.perf_counter() - indexing)
        state.chunks = report.embedded_chunks
        if progress is not None:
            progress(state)
