"""Watch mode: keep every registered source in sync as files change.

watchdog reports create, modify, delete and move events; they are debounced and
coalesced (an editor's save-by-rename, a folder copied in at once) and only the
units they touch are re-synced. A killed watcher never corrupts the store: each sync
is the same transactional pipeline as `satchel index`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.core import Satchel
from assistant.errors import SatchelError
from assistant.ingest.ocr_pass import OcrProgress
from assistant.ingest.reports import SyncReport

log = logging.getLogger("satchel.watch")


class ChangeCollector:
    """Collects changed paths from watchdog threads; drained after a quiet period."""

    def __init__(self, max_wait_s: float = 2.0) -> None:
        self._paths: set[Path] = set()
        self._last = 0.0
        self._first = 0.0  # the oldest event not yet drained
        self.max_wait_s = max_wait_s
        self._lock = threading.Lock()
        self.changed = threading.Event()

    def add(self, *paths: str | bytes) -> None:
        with self._lock:
            for raw in paths:
                if not raw:
                    continue
                path = Path(raw.decode() if isinstance(raw, bytes) else raw)
                if path.name.startswith(".") and path.suffix in (".swp", ".tmp"):
                    continue
                if not self._paths:
                    self._first = time.monotonic()
                self._paths.add(path)
            self._last = time.monotonic()
        self.changed.set()

    def drain_if_quiet(self, quiet_s: float) -> set[Path] | None:
        """The changed paths once no event came for ``quiet_s``, or once the oldest
        has waited ``max_wait_s``: files that never stop changing (a download, a
        busy folder) must not starve the others."""
        with self._lock:
            now = time.monotonic()
            if not self._paths:
                return None
            if now - self._last < quiet_s and now - self._first < self.max_wait_s:
                return None
            paths, self._paths = self._paths, set()
            self.changed.clear()
            return paths

    def pending(self) -> bool:
        """Whether changed paths wait to be synced (the OCR pass yields to them)."""
        with self._lock:
            return bool(self._paths)


def affected_units(paths: set[Path]) -> set[Path]:
    """The unit paths an event may concern: the path itself and its parents (a
    message file inside a Maildir unit changes the Maildir folder)."""
    units: set[Path] = set()
    for path in paths:
        units.add(path)
        units.update(path.parents)
    return units


def watch(
    app: Satchel,
    *,
    debounce_s: float = 0.4,
    on_sync: Callable[[SyncReport, set[Path]], None] | None = None,
    stop: threading.Event | None = None,
    on_ocr: Callable[[OcrProgress], None] | None = None,
) -> None:
    """Run until ``stop`` is set (or KeyboardInterrupt).

    Images and scanned pages waiting for OCR are read whenever no file is changing:
    the OCR pass stops between two images as soon as a change comes in, the change
    is synced, and the pass goes on after it (``on_ocr`` sees its progress)."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    collector = ChangeCollector()

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.event_type in ("opened", "closed_no_write"):
                return
            collector.add(event.src_path, getattr(event, "dest_path", "") or "")

    observer: Any = Observer()
    for source in app.sources():
        root = Path(source["path"])
        if not root.exists():
            log.warning("source %s does not exist; not watched", root)
            continue
        target = root if root.is_dir() else root.parent
        observer.schedule(Handler(), str(target), recursive=root.is_dir())
        log.info("watching %s", root)
    observer.start()
    stop = stop or threading.Event()
    try:
        # a first sync catches up with what changed while nobody watched
        report = app.sync(wait=True, kind="watch")
        if on_sync:
            on_sync(report, set())
        # the first change should not wait for the encoder to load (5-10 s on 2 cores)
        app.serving_embedder.encode(["warm up"])
        log.info("ready: watching for changes")
        ocr_due = True  # images may wait from an earlier run
        while not stop.is_set():
            collector.changed.wait(timeout=0.2)
            paths = collector.drain_if_quiet(debounce_s)
            if paths is None:
                if ocr_due and not collector.pending():
                    ocr_due = _read_images(app, stop, collector, on_ocr)
                continue
            ocr_due = True
            try:
                report = app.sync(only_paths=affected_units(paths), wait=True, kind="watch")
            except SatchelError as exc:
                log.error("sync failed: %s", exc)
                continue
            log.info(
                "synced %d paths: %d added, %d updated, %d deleted, %d chunks embedded, %d errors",
                len(paths),
                report.added,
                report.updated,
                report.deleted,
                report.embedded_chunks,
                report.errors,
            )
            if on_sync:
                on_sync(report, paths)
    finally:
        observer.stop()
        observer.join(timeout=5)


def _read_images(
    app: Satchel,
    stop: threading.Event,
    collector: ChangeCollector,
    on_ocr: Callable[[OcrProgress], None] | None,
) -> bool:
    """One OCR slice; whether images are still waiting (and OCR can read them)."""
    last = [0.0]

    def progress(p: OcrProgress) -> None:
        if on_ocr is not None:
            on_ocr(p)
        if time.monotonic() - last[0] >= 10 or p.done == p.total:
            last[0] = time.monotonic()
            eta = f", ETA {int(p.eta_seconds) // 60}:{int(p.eta_seconds) % 60:02d}" if p.eta_seconds else ""
            log.info("OCR: %d/%d images and scanned pages read%s", p.done, p.total, eta)

    try:
        # a cheap read first: the writer lock is taken only when there is work, so
        # another writer (`satchel index`, the TUI's sync) is not kept waiting for nothing
        if app.ocr_pending() == 0:
            return False
        # slices of 20 s at most: another writer waits for the lock at most that long
        report = app.ocr(
            progress, wait=True, stop=lambda: stop.is_set() or collector.pending(), seconds=20, kind="watch"
        )
    except SatchelError as exc:
        log.error("OCR failed: %s", exc)
        return False
    for error in report.error_list:
        log.warning("error: %s #%s: %s", error.get("path"), error.get("item"), error.get("reason"))
    if not report.enabled:
        if report.left:
            log.warning("OCR is off (%s): %d images and scanned pages wait", report.reason, report.left)
        return False
    return report.left > 0
