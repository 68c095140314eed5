"""The part of PDF extraction that touches pypdf, run in a worker process.

A PDF is hostile input: a broken or malicious file can make a parser loop for
minutes or eat gigabytes. So pypdf runs in a child process (see ``pdf.py``) that the
caller kills when its time is up; ``serve`` is what runs there. It is also usable
in process (``iter_pdf_messages``), with only the cooperative per-page deadline.

Messages (tuples, sent as JSON lines: the parent never unpickles what a process
parsing hostile files sends it):

- ``("meta", dict)``: after opening: page count, document info, outline, flags;
- ``("page", number, text)``: raw text of one page, 1-based;
- ``("page_error", number, message)``: one page could not be read;
- ``("done", dict)``: the end; ``stopped`` says why it ended early, if it did;
- ``("error", kind, message)``: the file cannot be read at all; kind is
  ``"password"`` for an encrypted file needing a password, else ``"broken"``.
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings
from collections.abc import Iterator
from datetime import datetime
from typing import Any

# Outline entries and form fields kept in the metadata, at most.
MAX_OUTLINE = 500
MAX_FIELDS = 200
# Seconds an idle worker waits for the next file before it exits on its own.
IDLE_EXIT_SECONDS = 300.0

Message = tuple[Any, ...]


def _text(value: Any) -> str:
    return " ".join(str(value).replace("\x00", "").split()) if value is not None else ""


def _date(getter: Any) -> str | None:
    try:
        value = getter()
    except Exception:
        return None
    return value.isoformat() if isinstance(value, datetime) else None


def _info(reader: Any) -> dict[str, Any]:
    """Document information dictionary and XMP title, each field defensively:
    one unreadable field must not lose the others."""
    info: dict[str, Any] = {}
    try:
        meta = reader.metadata
    except Exception as exc:
        return {"metadata_error": _text(exc)[:200]}
    if meta is not None:
        for key, name in (
            ("/Title", "title"),
            ("/Author", "author"),
            ("/Subject", "subject"),
            ("/Keywords", "keywords"),
            ("/Creator", "creator"),
            ("/Producer", "producer"),
        ):
            try:
                value = _text(meta.get(key))
            except Exception:
                continue
            if value:
                info[name] = value[:1000]
        created = _date(lambda: meta.creation_date)
        modified = _date(lambda: meta.modification_date)
        if created:
            info["created"] = created
        if modified:
            info["modified"] = modified
    with contextlib.suppress(Exception):
        xmp = reader.xmp_metadata
        titles = xmp.dc_title if xmp is not None else None
        if titles:
            title = titles.get("x-default") or next(iter(titles.values()), "")
            if _text(title):
                info["xmp_title"] = _text(title)[:1000]
    return info


def _outline(reader: Any) -> list[dict[str, Any]]:
    """The outline (bookmarks) flattened: title, level (1 = top) and 1-based page."""
    entries: list[dict[str, Any]] = []

    def walk(items: Any, level: int) -> None:
        for item in items:
            if len(entries) >= MAX_OUTLINE:
                return
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            title = _text(getattr(item, "title", ""))
            if not title:
                continue
            entry: dict[str, Any] = {"title": title[:300], "level": level}
            try:
                number = reader.get_destination_page_number(item)
                if number is not None and number >= 0:
                    entry["page"] = number + 1
            except Exception:
                pass
            entries.append(entry)

    with contextlib.suppress(Exception):
        walk(reader.outline, 1)
    return entries


def _extras(reader: Any) -> dict[str, Any]:
    """Attachment names and filled-in form fields: small, and worth searching."""
    extras: dict[str, Any] = {}
    with contextlib.suppress(Exception):
        names = [_text(a.name) for a in reader.attachment_list]
        if names:
            extras["attachments"] = names[:100]
    with contextlib.suppress(Exception):
        fields = reader.get_form_text_fields() or {}
        filled = {_text(k): _text(v)[:500] for k, v in fields.items() if _text(v)}
        if filled:
            extras["form_fields"] = dict(list(filled.items())[:MAX_FIELDS])
    return extras


def iter_pdf_messages(request: dict[str, Any]) -> Iterator[Message]:
    """Open the PDF named in ``request`` and yield the messages described above.

    ``request`` holds ``path``, ``password`` (tried only if the file is encrypted;
    the empty one opens files that only restrict permissions), ``max_pages`` and
    ``soft_deadline`` (seconds; reading stops between pages once it has passed).
    """
    started = time.monotonic()
    deadline = started + float(request.get("soft_deadline") or 1e9)
    max_pages = int(request.get("max_pages") or 0)
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = PdfReader(request["path"], strict=False)
    except Exception as exc:
        yield ("error", "broken", f"unreadable PDF: {_text(exc) or type(exc).__name__}")
        return
    encrypted = False
    try:
        encrypted = bool(reader.is_encrypted)
        if encrypted:
            try:
                result = reader.decrypt(request.get("password") or "")
            except (DependencyError, NotImplementedError) as exc:
                yield ("error", "broken", f"encrypted PDF: cannot decrypt ({_text(exc)})")
                return
            if not result:
                yield ("error", "password", "encrypted PDF: needs a password")
                return
        page_count = len(reader.pages)
    except FileNotDecryptedError:
        yield ("error", "password", "encrypted PDF: needs a password")
        return
    except Exception as exc:
        yield ("error", "broken", f"unreadable PDF: {_text(exc) or type(exc).__name__}")
        return

    meta: dict[str, Any] = {"page_count": page_count, "encrypted": encrypted}
    meta.update(_info(reader))
    outline = _outline(reader)
    if outline:
        meta["outline"] = outline
    meta.update(_extras(reader))
    yield ("meta", meta)

    limit = min(page_count, max_pages) if max_pages > 0 else page_count
    stopped: str | None = None
    read = 0
    for index in range(limit):
        if time.monotonic() > deadline:
            stopped = "time"
            break
        try:
            text = reader.pages[index].extract_text()
        except FileNotDecryptedError:
            yield ("error", "password", "encrypted PDF: needs a password")
            return
        except RecursionError:
            yield ("page_error", index + 1, "page structure too deeply nested")
            continue
        except MemoryError:
            raise
        except Exception as exc:
            yield ("page_error", index + 1, _text(exc)[:300] or type(exc).__name__)
            continue
        read += 1
        yield ("page", index + 1, text or "")
    if stopped is None and limit < page_count:
        stopped = "pages"
    yield ("done", {"stopped": stopped, "pages_read": read, "seconds": time.monotonic() - started})


def _quiet() -> None:
    """pypdf reports every oddity of a broken file as a warning or log line: the
    caller turns failures into error records, so the rest is noise."""
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    warnings.simplefilter("ignore")


def _limit_memory(limit: int | None) -> None:
    if not limit:
        return
    try:
        import resource
    except ImportError:  # not on Windows
        return
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def serve(memory_limit: int | None = None) -> None:
    """Worker process main loop (``python -c`` started by ``pdf.py``).

    Requests arrive as JSON lines on stdin, messages leave as JSON lines on the
    original stdout (stray prints from libraries go to stderr instead). It ends
    when stdin closes (the parent went away), on an empty request, or after
    ``IDLE_EXIT_SECONDS`` without work.
    """
    import json
    import os
    import signal
    import sys
    import threading

    # Ctrl-C in the terminal reaches the whole process group; the parent decides.
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", newline="\n")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _quiet()
    _limit_memory(memory_limit)

    state = {"busy": False, "last": time.monotonic()}

    def idle_watch() -> None:
        while True:
            time.sleep(min(5.0, IDLE_EXIT_SECONDS))
            if not state["busy"] and time.monotonic() - float(state["last"]) > IDLE_EXIT_SECONDS:
                os._exit(0)

    threading.Thread(target=idle_watch, name="idle-exit", daemon=True).start()

    def send(message: Message) -> None:
        out.write(json.dumps(message, ensure_ascii=False, default=str) + "\n")
        out.flush()

    import pypdf  # noqa: F401  (imported now, so start-up is not counted as a file's time)

    send(("ready",))
    for line in sys.stdin:
        if not line.strip():
            return
        state["busy"] = True
        try:
            request = json.loads(line)
            for message in iter_pdf_messages(request):
                send(message)
        except MemoryError:
            with contextlib.suppress(Exception):
                send(("error", "broken", "PDF needs too much memory to read"))
            return  # the heap may be in a bad state: the parent starts a fresh worker
        except (BrokenPipeError, OSError):
            return
        except Exception as exc:
            with contextlib.suppress(Exception):
                send(("error", "broken", f"unreadable PDF: {_text(exc)[:300]}"))
        finally:
            state["busy"] = False
            state["last"] = time.monotonic()
