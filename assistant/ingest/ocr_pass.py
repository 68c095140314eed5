"""The background OCR pass: the text of images and scanned pages, after the text.

OCR is the slowest thing Satchel does (about half a second per page with Tesseract
on 2 cores, docs/benchmarks.md), so the sync never waits for it: documents are
stored with their text and an ``ocr_tasks`` row per image (assistant/store/
ocr_tables.py), and this pass reads the images afterwards, one task per
transaction. Killed at any point, it goes on where it stopped next time.

Per task: the image's bytes are hashed; a text already read from the same bytes
(a moved file, a re-exported chat, the same photo sent twice) comes from the cache;
otherwise the worker process reads it, within the page time limit and memory
limit. The text is chunked with the image's locator ("page 3", the chat message's
time and the photo's name) and embedded, and the chunks are added to the document.
An image that cannot be read becomes a per-item error and the pass goes on.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import queue
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant.backends.protocols import Embedder
from assistant.ingest.chunking import ChunkingOptions, chunk_document
from assistant.ingest.ocr import MAX_IMAGE_BYTES, MAX_PDF_BYTES_PAGES, OcrImageError, engine_status, thread_env
from assistant.ingest.sync import embed_reusing
from assistant.settings import Settings
from assistant.store import ocr_tables as ocr_store
from assistant.store.repository import Store
from assistant.store.vector_index import VectorIndex
from connectors.base import Document, Section

# Seconds a new worker may take to start (an interpreter, Pillow, the engine).
WORKER_START_SECONDS = 30.0
# The index file is saved at least this often during a long pass.
INDEX_SAVE_SECONDS = 60.0


@dataclass
class OcrProgress:
    done: int
    total: int
    current: str
    started: float
    errors: int = 0

    @property
    def fraction(self) -> float:
        return 1.0 if self.total == 0 else min(1.0, self.done / self.total)

    @property
    def eta_seconds(self) -> float | None:
        elapsed = time.monotonic() - self.started
        if self.done == 0 or elapsed < 1:
            return None
        return elapsed / self.done * (self.total - self.done)


OcrCallback = Callable[[OcrProgress], None]


@dataclass
class OcrReport:
    enabled: bool = True
    reason: str = ""  # why OCR is off, when it is
    read: int = 0  # images read by the engine
    cached: int = 0  # texts found in the cache by digest
    empty: int = 0  # images without any text
    errors: int = 0
    chunks: int = 0
    left: int = 0  # tasks still pending (stopped early, or OCR off)
    seconds: float = 0.0
    error_list: list[dict[str, str | None]] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "enabled": self.enabled,
            "reason": self.reason,
            "read": self.read,
            "cached": self.cached,
            "empty": self.empty,
            "errors": self.errors,
            "chunks": self.chunks,
            "left": self.left,
            "seconds": round(self.seconds, 3),
            "error_list": self.error_list,
        }


def summary_line(report: dict[str, Any]) -> str:
    """One line for the CLI and the log."""
    if not report.get("enabled"):
        left = report.get("left") or 0
        return f"OCR off ({report.get('reason')}): {left} images and scanned pages wait" if left else ""
    parts = f"OCR: {report['read']} read, {report['cached']} from the cache, {report['errors']} errors"
    parts += f", {report['chunks']} chunks in {report['seconds']:.1f}s"
    if report.get("left"):
        parts += f"; {report['left']} left for later"
    return parts


class OcrWorker:
    """A worker process (``ocrworker.py``) reused from image to image; killed and
    replaced when one takes longer than its time limit or crashes it."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        self.process: subprocess.Popen[str] | None = None
        self.replies: queue.Queue[str | None] = queue.Queue()
        self.fresh = True

    def _start(self) -> subprocess.Popen[str]:
        self.replies = queue.Queue()
        process = subprocess.Popen(
            [sys.executable, "-m", "assistant.ingest.ocrworker", "--memory-mb", str(self.memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            env=thread_env(),
            cwd=str(Path(__file__).resolve().parents[2]),
        )
        replies = self.replies

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                replies.put(line)
            replies.put(None)

        threading.Thread(target=read, daemon=True, name="satchel-ocr-read").start()
        self.fresh = True
        return process

    def read(self, request: dict[str, Any], time_limit: float) -> dict[str, Any]:
        if self.process is None or self.process.poll() is not None:
            self.process = self._start()
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            self.kill()
            raise OcrImageError("the OCR worker stopped (crashed on an earlier image?)") from None
        allowance = time_limit + (WORKER_START_SECONDS if self.fresh else 0)
        self.fresh = False
        try:
            line = self.replies.get(timeout=allowance)
        except queue.Empty:
            self.kill()
            raise OcrImageError(f"reading took longer than the limit of {time_limit:g} s") from None
        if line is None:
            self.kill()
            raise OcrImageError("the OCR worker crashed reading it (over its memory limit?)")
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            self.kill()
            raise OcrImageError("the OCR worker answered something unreadable")
        return reply

    def kill(self) -> None:
        if self.process is not None:
            with contextlib.suppress(OSError):
                self.process.kill()
            with contextlib.suppress(Exception):
                self.process.wait(timeout=10)
            for pipe in (self.process.stdin, self.process.stdout):
                with contextlib.suppress(Exception):
                    if pipe is not None:
                        pipe.close()
        self.process = None

    def close(self) -> None:
        if self.process is not None and self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        self.kill()


def _sha256_file(path: str, limit: int | None = None) -> str:
    digest = hashlib.sha256()
    read = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            read += len(block)
            if limit is not None and read > limit:
                raise OcrImageError(f"the image is over the {limit // 1024**2} MB limit")
            digest.update(block)
    return digest.hexdigest()


def _sha256_member(path: str, member: str) -> str:
    digest = hashlib.sha256()
    try:
        with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
            read = 0
            while block := handle.read(1 << 20):
                read += len(block)
                if read > MAX_IMAGE_BYTES:
                    raise OcrImageError(f"{member} inflates beyond {MAX_IMAGE_BYTES // 1024**2} MB")
                digest.update(block)
    except KeyError:
        raise OcrImageError(f"{member} is not in the archive any more") from None
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, ValueError, EOFError) as exc:
        raise OcrImageError(f"{member} cannot be read from the archive ({exc})") from None
    return digest.hexdigest()


class OcrPass:
    """Reads the pending OCR tasks of a store (the caller holds the writer lock)."""

    def __init__(
        self, store: Store, embedder: Embedder, index: VectorIndex, settings: Settings, options: ChunkingOptions
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.index = index
        self.settings = settings
        self.options = options
        self.config = f"{settings.ocr_engine}:{'+'.join(settings.ocr_languages)}"
        self._file_digests: dict[str, str] = {}

    def pending(self) -> int:
        return ocr_store.pending_count(self.store.conn, self.settings.ocr_min_page_chars)

    def run(
        self,
        progress: OcrCallback | None = None,
        *,
        stop: threading.Event | Callable[[], bool] | None = None,
        seconds: float | None = None,
    ) -> OcrReport:
        """Read pending tasks until none is left, ``stop`` is set (an event, or a
        function that says so), or ``seconds`` have passed (watch mode reads while no
        file changes)."""
        started = time.monotonic()
        report = OcrReport()
        s = self.settings
        status = engine_status(s.ocr, s.ocr_engine, s.ocr_languages)
        if not status.enabled:
            report.enabled, report.reason = False, status.reason
            report.left = self.pending()
            return report
        rows = ocr_store.pending_tasks(self.store.conn, s.ocr_min_page_chars)
        state = OcrProgress(0, len(rows), "", started)
        if rows:
            self.store.check_embedding_model(self.embedder.identity, self.embedder.dimension)
            self.index.open(self.store)
        worker = OcrWorker(s.ocr_memory_mb)
        wrote = False
        saved = time.monotonic()
        try:
            for row in rows:
                stopped = stop is not None and (stop.is_set() if isinstance(stop, threading.Event) else stop())
                if stopped or (seconds is not None and time.monotonic() - started > seconds):
                    break
                state.current = f"{row['unit_path']} · {row['locator']}"
                try:
                    text, from_cache, digest = self._text(row, worker)
                except OcrImageError as exc:
                    self._fail(row, str(exc), report)
                    state.errors += 1
                else:
                    report.cached += from_cache
                    report.read += not from_cache
                    report.empty += not text
                    report.chunks += self._add(row, text, digest)
                    wrote = True
                state.done += 1
                if wrote and time.monotonic() - saved > INDEX_SAVE_SECONDS:
                    # readers load a current index file instead of each rebuilding one
                    # in memory while a long pass goes on
                    self.index.save(self.store.generation())
                    saved, wrote = time.monotonic(), False
                if progress is not None:
                    progress(state)
        finally:
            worker.close()
        if wrote or state.done:
            self.index.reshape(self.store)
            self.index.save(self.store.generation())
        report.left = self.pending()
        report.seconds = time.monotonic() - started
        return report

    # --- one task ----------------------------------------------------------------------
    def _digest(self, ref: dict[str, Any], row: Any, data: bytes | None) -> str:
        kind, path = ref.get("kind"), str(ref.get("path") or "")
        try:
            if kind in ("bytes", "pdf-bytes"):
                return hashlib.sha256(data or b"").hexdigest()
            if kind == "zip-member":
                return _sha256_member(path, str(ref.get("member") or ""))
            if kind == "pdf-page":
                if path not in self._file_digests:
                    self._file_digests[path] = _sha256_file(path)
                return f"{self._file_digests[path]}:page {ref.get('page')}"
            return _sha256_file(path, MAX_IMAGE_BYTES)
        except FileNotFoundError:
            raise OcrImageError("the file is gone") from None
        except OSError as exc:
            raise OcrImageError(f"cannot be read ({exc.strerror or exc})") from None

    def _text(self, row: Any, worker: OcrWorker) -> tuple[str, bool, str]:
        ref = json.loads(row["ref"])
        data = None
        if row["has_data"]:
            data = ocr_store.task_data(self.store.conn, row["id"])
        digest = self._digest(ref, row, data)
        cached = ocr_store.cached_text(self.store.conn, digest, self.config)
        if cached is not None:
            return cached, True, digest
        request = {
            **ref,
            "engine": self.settings.ocr_engine,
            "languages": list(self.settings.ocr_languages),
            "timeout": self.settings.ocr_page_seconds,
        }
        time_limit = self.settings.ocr_page_seconds
        if ref.get("kind") in ("bytes", "pdf-bytes"):
            # sent through the pipe, never written to disk: with an encrypted store,
            # an attachment's bytes must not lie in a plain file even for a moment
            request["data"] = base64.b64encode(data or b"").decode("ascii")
        if ref.get("kind") == "pdf-bytes":
            time_limit *= MAX_PDF_BYTES_PAGES  # one request reads all its pages
            request["timeout"] = self.settings.ocr_page_seconds
        started = time.monotonic()
        reply = worker.read(request, time_limit)
        if "error" in reply:
            raise OcrImageError(str(reply["error"]))
        text = str(reply.get("text") or "")
        with self.store.transaction():
            ocr_store.cache_text(self.store.conn, digest, self.config, text, time.monotonic() - started)
        return text, False, digest

    def _add(self, row: Any, text: str, digest: str) -> int:
        """The text's chunks added to the document, the task marked done, in one
        transaction; the vectors go to the index after it commits."""
        chunks = []
        if text.strip():
            timestamp = datetime.fromisoformat(row["timestamp"]) if row["timestamp"] else None
            piece = Document(
                key="ocr",
                kind=row["kind"],
                title=row["title"] or "",
                text=text,
                author=row["author"],
                participants=json.loads(row["participants"] or "[]"),
                timestamp=timestamp,
                sections=[Section(text=text, locator=row["locator"])],
            )
            chunks = chunk_document(piece, self.embedder.tokenizer, self.options)
        texts = [c.embed_text for c in chunks]
        vectors, hashes, _ = embed_reusing(self.store, self.embedder, texts)
        ids: list[int] = []
        removed: list[int] = []
        store = self.store
        with store.transaction():
            if ocr_store.task_state(store.conn, row["id"]) != "pending":
                return 0  # the document went meanwhile
            if chunks:
                removed = ocr_store.remove_stand_in(store.conn, row["document_id"])
                first = ocr_store.last_ordinal(store.conn, row["document_id"])
                for n, chunk in enumerate(chunks):
                    chunk.record.ordinal = first + 1 + n
                ids = store.insert_chunks(
                    row["document_id"],
                    kind=row["kind"],
                    source_id=row["source_id"],
                    title=row["title"] or "",
                    chunks=[c.record for c in chunks],
                    vectors=vectors,
                    embed_hashes=hashes,
                )
                # the document as shown to a reader (satchel show, the TUI) has it too
                ocr_store.append_text(store.conn, row["document_id"], row["locator"], text)
            ocr_store.mark_done(store.conn, row["id"], digest, len(ids))
            store.bump_generation()
        if removed:
            self.index.remove(removed)
        if ids:
            self.index.add(ids, vectors)
        return len(ids)

    def _fail(self, row: Any, reason: str, report: OcrReport) -> None:
        item = f"{row['locator']} (OCR)"
        with self.store.transaction():
            ocr_store.mark_error(self.store.conn, row["id"], reason)
            self.store.record_error(row["source_id"], row["unit_path"], reason, item)
        report.errors += 1
        report.error_list.append({"path": row["unit_path"], "item": item, "reason": reason})
