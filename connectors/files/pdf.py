"""PDF documents: text per page (locator "page N"), title and outline as metadata.

pypdf reads the file in a worker process (``pdfworker.py``), reused from file to
file, so that a pathological PDF costs at most ``time_limit`` seconds: past it the
worker is killed, a fresh one serves the next file, and the pages read so far are
kept. Signals (``signal.alarm``) are not used because connectors also run in worker
threads (watch mode, the TUI). Inside the worker a cooperative per-page deadline
and a page cap stop early enough to hand back partial text; the kill is the backstop
for a single page that never finishes.

After extraction, in this process: lines repeated at the top or bottom of most
pages (running headers, footers, page numbers) are dropped, words hyphenated at a
line end are joined, whitespace is normalised, and pages with no text left are
listed in ``metadata["pages_without_text"]``. Pages with fewer than
``OCR_CANDIDATE_CHARS`` characters are handed to the OCR pass as images
(``Document.images``, locator "page N"); the pass reads those below the
``ocr_min_page_chars`` setting. A PDF with no text on any page (a scan) is a
document whose text comes from OCR alone.
"""

from __future__ import annotations

import contextlib
import json
import math
import queue
import re
import subprocess
import sys
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.base import Connector, Document, ImageRef, ItemError, Section
from connectors.files.pdfworker import iter_pdf_messages
from connectors.files.textutil import (
    clean_text,
    file_mtime,
    normalise_whitespace,
    parse_iso_date,
)
from connectors.kinds import KIND_FILE

# Seconds one PDF may take, all pages included. Change it here, per connector
# (``PdfConnector(time_limit=...)``) or per call (``extract_pdf(time_limit=...)``).
DEFAULT_TIME_LIMIT = 60.0
# Pages read at most from one PDF; the rest is reported, not indexed.
DEFAULT_MAX_PAGES = 3000
# Address space the worker may use; a decompression bomb fails there, not here.
WORKER_MEMORY_LIMIT: int | None = 3 * 1024**3
# Idle workers kept for the next file (a thread pool may parse several at once).
MAX_IDLE_WORKERS = 2
# The worker stops between pages at this share of the time limit, so it can hand
# back what it has before it is killed.
_SOFT_SHARE = 0.85
# Seconds a new worker may take to start (an interpreter and pypdf's imports).
_WORKER_START_TIMEOUT = 60.0
# Pages with less text than this are offered to OCR (a scanned page often carries a
# stamp or a page number of text); the ``ocr_min_page_chars`` setting picks among
# them, so it has no effect above this value.
OCR_CANDIDATE_CHARS = 200


class PdfError(ValueError):
    """The PDF cannot be read at all (broken, encrypted, too slow)."""


class PdfPasswordError(PdfError):
    """Encrypted with a user password: the text cannot be read without it."""


class PdfTimeoutError(PdfError):
    """Reading took longer than the time limit and produced no text."""


@dataclass
class PdfExtraction:
    """Raw result of reading one PDF: page texts as pypdf gave them, and metadata."""

    page_count: int = 0
    pages: dict[int, str] = field(default_factory=dict)  # 1-based page → raw text
    page_errors: dict[int, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    stopped: str | None = None  # "time" or "pages" when not every page was read


# ---------------------------------------------------------------------------------------
# Worker processes


# The worker is a fresh interpreter started with ``python -I -c``: no fork of a
# process that runs threads (the TUI, torch), and no re-import of the caller's
# ``__main__`` as multiprocessing's "spawn" would do. It gets this process's
# ``sys.path`` so it imports the same pypdf and the same ``connectors``.
_BOOTSTRAP = (
    "import json, sys; sys.path[:] = json.loads(sys.stdin.readline()); "
    "from connectors.files.pdfworker import serve; serve({memory})"
)


class _Worker:
    def __init__(self, memory_limit: int | None) -> None:
        if not sys.executable:
            raise PdfError("cannot start the PDF worker: no Python executable known")
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOTSTRAP.format(memory=repr(memory_limit))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        self.messages: queue.Queue[list[Any] | None] = queue.Queue()
        self.used = False
        self.ready = False
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(sys.path) + "\n")
        self.process.stdin.flush()
        self._reader = threading.Thread(target=self._read, name="pdf-worker-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        """Move the worker's JSON lines into the queue; None marks its end."""
        stdout = self.process.stdout
        assert stdout is not None
        try:
            for line in stdout:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if isinstance(message, list) and message:
                    self.messages.put(message)
        except (OSError, ValueError):
            pass
        finally:
            self.messages.put(None)

    def send(self, request: dict[str, Any]) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(json.dumps(request) + "\n")
        stdin.flush()
        self.used = True

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.wait(5)
        self._close_pipes()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            assert self.process.stdin is not None
            self.process.stdin.close()  # end of input: the worker exits
        with contextlib.suppress(Exception):
            self.process.wait(2)
        if self.alive():
            self.kill()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(Exception):
                if pipe is not None:
                    pipe.close()


class _WorkerPool:
    """Idle workers for reuse; a thread that finds none starts its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []

    def checkout(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.kill()
        return _Worker(WORKER_MEMORY_LIMIT)

    def checkin(self, worker: _Worker) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE_WORKERS and worker.alive():
                self._idle.append(worker)
                return
        worker.stop()

    def shutdown(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()


_POOL = _WorkerPool()


def shutdown_pdf_workers() -> None:
    """Stop the idle PDF worker processes (they also exit with this process, and on
    their own after a few minutes without work)."""
    _POOL.shutdown()


def _collect(messages: Iterator[Sequence[Any]], result: PdfExtraction) -> None:
    """Fold worker messages into ``result``; raise for a whole-file failure."""
    for message in messages:
        kind = message[0]
        if kind == "meta":
            result.meta = dict(message[1])
            result.page_count = int(result.meta.pop("page_count", 0))
        elif kind == "page":
            result.pages[int(message[1])] = str(message[2])
        elif kind == "page_error":
            result.page_errors[int(message[1])] = str(message[2])
        elif kind == "done":
            result.stopped = message[1].get("stopped")
            return
        elif kind == "error":
            if message[1] == "password":
                raise PdfPasswordError(message[2])
            raise PdfError(message[2])


def _remote_messages(worker: _Worker, request: dict[str, Any], time_limit: float) -> Iterator[list[Any]]:
    """Messages from the worker until "done"/"error"; raises TimeoutError when the
    time limit passes (the caller kills the worker) and EOFError if it died."""
    if not worker.ready:
        # Start-up (an interpreter, pypdf's imports) is not the file's time.
        try:
            first = worker.messages.get(timeout=_WORKER_START_TIMEOUT)
        except queue.Empty:
            first = None
        if not first or first[0] != "ready":
            worker.kill()
            raise PdfError("the PDF worker process did not start")
        worker.ready = True
    deadline = time.monotonic() + time_limit
    worker.send(request)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        try:
            message = worker.messages.get(timeout=remaining)
        except queue.Empty:
            raise TimeoutError from None
        if message is None:
            raise EOFError("the PDF worker exited")
        yield message
        if message[0] in ("done", "error"):
            return


def extract_pdf(
    path: Path | str,
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
    max_pages: int = DEFAULT_MAX_PAGES,
    password: str = "",
    isolate: bool = True,
) -> PdfExtraction:
    """Read the raw text of every page of a PDF, within ``time_limit`` seconds.

    With ``isolate`` (the default) pypdf runs in a reusable worker process that is
    killed when the time is up; without it, in this process with only the per-page
    deadline (a single pathological page can then still hang). When time runs out
    the pages read so far come back with ``stopped="time"``; if there are none,
    :class:`PdfTimeoutError` is raised. An encrypted file that the given password
    (empty by default) does not open raises :class:`PdfPasswordError`, an
    unreadable one :class:`PdfError`.
    """
    request = {
        "path": str(path),
        "password": password,
        "max_pages": max_pages,
        "soft_deadline": time_limit * _SOFT_SHARE,
    }
    result = PdfExtraction()
    if not isolate:
        _collect(iter_pdf_messages(request), result)
        return result
    for attempt in (1, 2):
        worker = _POOL.checkout()
        reused = worker.used
        try:
            _collect(_remote_messages(worker, request, time_limit), result)
        except TimeoutError:
            worker.kill()
            if not result.pages:
                raise PdfTimeoutError(
                    f"PDF took longer than the {time_limit:g} s time limit and gave no text"
                ) from None
            result.stopped = "time"
            return result
        except (EOFError, OSError):
            worker.kill()
            # An idle worker may have exited just as we picked it: try a fresh one.
            if reused and attempt == 1 and not result.meta:
                result = PdfExtraction()
                continue
            if result.pages:
                result.stopped = "crash"
                return result
            raise PdfError("PDF reader crashed on this file") from None
        except PdfError:
            _POOL.checkin(worker)  # the worker reported the error and is ready again
            raise
        except BaseException:
            worker.kill()  # interrupted mid-file (Ctrl-C here): the worker is busy
            raise
        else:
            _POOL.checkin(worker)
            return result
    raise PdfError("PDF reader crashed on this file")  # pragma: no cover


# ---------------------------------------------------------------------------------------
# Text clean-up across pages

_DIGITS = re.compile(r"\d+")
_ROMAN = re.compile(r"^[ivxlcdm]+$")
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"})
# Lines at each end of a page looked at for running headers and footers.
EDGE_LINES = 3
# Share of pages a line must repeat on (at an edge) to count as header or footer.
REPEAT_SHARE = 0.6
MIN_PAGES_FOR_REPEATS = 3


def _edge_key(line: str) -> str:
    """A line's identity for header/footer matching: case, spacing and numbers
    (page numbers, dates) ignored, so "Page 3 of 9" matches "Page 4 of 9"."""
    stripped = line.strip()
    if _ROMAN.match(stripped):  # lower-case roman page numbers of front matter
        return "#"
    return " ".join(_DIGITS.sub("#", stripped.lower()).split())


def remove_repeated_edges(pages: dict[int, list[str]]) -> dict[int, list[str]]:
    """Drop lines repeated among the first or last ``EDGE_LINES`` lines of most
    pages: running headers, footers, page numbers. Needs three pages or more."""
    with_text = {n: lines for n, lines in pages.items() if lines}
    if len(with_text) < MIN_PAGES_FOR_REPEATS:
        return pages
    counts: Counter[str] = Counter()
    for lines in with_text.values():
        edge = lines[:EDGE_LINES] + lines[-EDGE_LINES:]
        counts.update({_edge_key(line) for line in edge})
    needed = max(MIN_PAGES_FOR_REPEATS, math.ceil(REPEAT_SHARE * len(with_text)))
    repeated = {key for key, count in counts.items() if count >= needed}
    if not repeated:
        return pages
    cleaned: dict[int, list[str]] = {}
    for number, lines in pages.items():
        keep = []
        last = len(lines) - 1
        for index, line in enumerate(lines):
            at_edge = index < EDGE_LINES or index > last - EDGE_LINES
            if at_edge and _edge_key(line) in repeated:
                continue
            keep.append(line)
        # A page that is nothing but the repeated line (the same form or label on
        # every page) keeps it: that line is its content, not decoration.
        if not keep and any(_edge_key(line) != "#" for line in lines):
            keep = lines
        cleaned[number] = keep
    return cleaned


def clean_pages(raw_pages: dict[int, str]) -> dict[int, str]:
    """Per-page text after header/footer removal and clean-up (page → text)."""
    lined: dict[int, list[str]] = {}
    for number, raw in raw_pages.items():
        text = unicodedata.normalize("NFC", raw.translate(_LIGATURES))
        text = normalise_whitespace(text)
        lined[number] = [line for line in text.split("\n") if line.strip()]
    lined = remove_repeated_edges(lined)
    return {n: clean_text("\n".join(lines)) for n, lines in lined.items()}


_JUNK_TITLES = {
    "untitled", "title", "document", "doc", "no title", "microsoft word document",
    "powerpoint presentation", "slide 1", "print", "(anonymous)", "unknown",
    "untitled document",
}  # fmt: skip
_TITLE_PREFIX = re.compile(r"^(microsoft (word|powerpoint|excel) - )", re.I)
_FILE_LIKE = re.compile(r"\.(pdf|docx?|odt|rtf|tex|dvi|ps|txt|pptx?|xlsx?|indd|qxd)$", re.I)


def choose_title(meta: dict[str, Any], fallback: str) -> str:
    """Title from the document info, else XMP, else the first outline entry, else
    ``fallback``; titles that are file names or placeholders do not count."""
    for candidate in (meta.get("title"), meta.get("xmp_title")):
        title = _TITLE_PREFIX.sub("", str(candidate or "")).strip()
        if (
            title
            and title.lower() not in _JUNK_TITLES
            and not _FILE_LIKE.search(title)
            and "/" not in title
            and "\\" not in title
        ):
            return title
    for entry in meta.get("outline") or []:
        if entry.get("title"):
            return str(entry["title"])
    return fallback


# ---------------------------------------------------------------------------------------
# The connector


class PdfConnector(Connector):
    """PDF documents."""

    name = "pdf"
    kind = KIND_FILE
    patterns = ("*.pdf",)
    description = "PDF documents: text per page (scanned pages by OCR), title and outline from metadata"

    def __init__(self, time_limit: float | None = None, max_pages: int | None = None) -> None:
        self.time_limit = time_limit
        self.max_pages = max_pages

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        time_limit = self.time_limit if self.time_limit is not None else DEFAULT_TIME_LIMIT
        max_pages = self.max_pages if self.max_pages is not None else DEFAULT_MAX_PAGES
        with path.open("rb") as handle:
            head = handle.read(1024)
        if b"%PDF" not in head:
            raise PdfError("not a PDF file (no %PDF header)")
        extraction = extract_pdf(path, time_limit=time_limit, max_pages=max_pages)
        yield from pdf_documents(path, extraction, time_limit)


def pdf_documents(
    path: Path, extraction: PdfExtraction, time_limit: float = DEFAULT_TIME_LIMIT
) -> Iterator[Document | ItemError]:
    """The document (or errors) for one extraction; separate so it can be tested."""
    where = str(path)
    for number, message in sorted(extraction.page_errors.items()):
        yield ItemError(path=where, reason=f"page unreadable: {message}", item=f"page {number}")
    pages = clean_pages(extraction.pages)
    read = sorted(pages)
    with_text = [n for n in read if pages[n]]
    without_text = [n for n in read if not pages[n]]
    last_read = max(read, default=0)
    if extraction.stopped:
        reason = {
            "time": f"time limit of {time_limit:g} s reached",
            "pages": "page limit reached",
            "crash": "the PDF reader crashed",
        }.get(extraction.stopped, extraction.stopped)
        yield ItemError(
            path=where,
            reason=f"{reason}: pages {last_read + 1}-{extraction.page_count} not read",
            item=f"page {last_read + 1}",
        )
    if extraction.page_count == 0:
        yield ItemError(path=where, reason="PDF has no pages")
        return
    if not read:
        return  # nothing read at all: the errors above say why
    meta = dict(extraction.meta)
    metadata: dict[str, Any] = {"format": "pdf", "page_count": extraction.page_count}
    for key in ("subject", "keywords", "creator", "producer", "created", "modified",
                "outline", "attachments", "form_fields", "metadata_error"):  # fmt: skip
        if meta.get(key):
            metadata[key] = meta[key]
    if meta.get("encrypted"):
        metadata["encrypted"] = True
    if without_text:
        metadata["pages_without_text"] = without_text
    if extraction.stopped:
        metadata["incomplete"] = extraction.stopped
        metadata["pages_read"] = last_read
    if not with_text:
        metadata["scanned"] = True  # no text layer at all: its text comes from OCR
    sections = [Section(text=pages[n], locator=f"page {n}") for n in with_text]
    images = [
        ImageRef(locator=f"page {n}", kind="pdf-page", path=where, page=n, text_chars=len(pages[n]))
        for n in read
        if len(pages[n]) < OCR_CANDIDATE_CHARS
    ]
    yield Document(
        key=path.name,
        kind=KIND_FILE,
        title=choose_title(meta, path.stem),
        text="\n\n".join(section.text for section in sections),
        author=meta.get("author") or None,
        timestamp=parse_iso_date(meta.get("created")) or parse_iso_date(meta.get("modified")) or file_mtime(path),
        metadata=metadata,
        sections=sections,
        images=images,
    )
