"""mbox files (Gmail Takeout, Thunderbird, Apple Mail, mailing-list archives), streamed.

A multi-gigabyte mbox is read line by line and split at "From " lines, one message in
memory at a time; ``mailbox.mbox`` is not used because it seeks around the file and
rebuilds a table of contents, which buys nothing for a single forward pass. The file
is read twice: a first pass reads only headers to build the thread index, the second
parses and yields messages, so every message carries its final thread id.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from connectors.base import Connector, Document, ItemError, to_utc
from connectors.email.message import MessageContext, content_digest, gmail_labels, message_documents
from connectors.email.parse import parse_headers, parse_message
from connectors.email.sniff import looks_extensionless, read_head
from connectors.email.threads import ThreadFields, ThreadIndex, normalize_message_id
from connectors.kinds import KIND_EMAIL

# A single message larger than this is skipped and reported, not parsed.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
# Headers longer than this mean the "message" is not mail (one giant line): skipped.
MAX_HEADER_BYTES = 4 * 1024 * 1024
# What is kept of a skipped message: enough to name it in the error.
_OVERSIZED_HEAD = 64 * 1024
# Lines are read in pieces of at most this size, so a file without newlines cannot
# make one giant line.
_READ_LIMIT = 1024 * 1024

# "From sender date" separators as written by real mail programs:
#   From MAILER-DAEMON Mon Jan  1 00:00:00 2001      (Unix, Thunderbird "From - ...")
#   From 1234@xxx Wed Jan 06 11:45:36 +0000 2021     (Gmail Takeout)
#   From jgb at example.com  Thu Apr 14 11:06:56 2016 (Mailman archives)
_POSTMARK = re.compile(rb"^From \S+(?: at \S+)?\s+.*\d{1,2}:\d{2}")
_ESCAPED_FROM = re.compile(rb"^>+From ")
_POSTMARK_DATE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\w*,?\s+)?(\w{3})\s+(\d{1,2})\s+"
    r"(\d{1,2}:\d{2}(?::\d{2})?)\s+(?:([+-]\d{4}|[A-Z]{2,5})\s+)?(\d{4})"
)

_COMPRESSED: dict[str, Callable[..., Any]] = {
    ".gz": gzip.open,
    ".bz2": bz2.open,
    ".xz": lzma.open,
}
_GMAIL_FOLDERS = ("Inbox", "Sent", "Drafts", "Spam", "Trash", "Chat")
_GMAIL_SYSTEM = {"important", "starred", "opened", "unread", "archived"}
# Thunderbird's X-Mozilla-Status bits
_MOZ_FLAGS = {0x0001: "seen", 0x0002: "replied", 0x0004: "flagged", 0x1000: "passed"}
_MOZ_EXPUNGED = 0x0008


@dataclass
class RawMessage:
    """One message cut out of an mbox stream."""

    index: int
    offset: int
    data: bytes
    postmark: bytes
    oversized: bool = False


def split_mbox(stream: IO[bytes], headers_only: bool = False) -> Iterator[RawMessage]:
    """Cut an mbox stream into messages without ever holding more than one.

    A line starting with "From " separates messages when it opens the file, follows
    a blank line, or looks like a postmark with a time; ">From " quoting (mboxrd and
    mboxo) is undone. With ``headers_only`` only each message's header block is kept.
    """
    index = 0
    offset = 0
    start = 0
    postmark = b""
    lines: list[bytes] = []
    size = 0
    oversized = False
    in_headers = True
    prev_blank = True
    at_line_start = True
    started = False  # whether any content (postmark or text) was seen

    def emit() -> RawMessage | None:
        data = b"".join(lines)
        if data.endswith(b"\r\n"):
            data = data[:-2]
        elif data.endswith(b"\n"):
            data = data[:-1]
        if not data.strip() and not postmark:
            return None
        return RawMessage(index, start, data, postmark, oversized)

    while True:
        line = stream.readline(_READ_LIMIT)
        if not line:
            break
        line_start = at_line_start
        at_line_start = line.endswith(b"\n")
        if line_start and line.startswith(b"From ") and (not started or prev_blank or _POSTMARK.match(line)):
            if started:
                message = emit()
                if message is not None:
                    yield message
                    index += 1
            started = True
            start = offset
            postmark = line.rstrip(b"\r\n")
            lines, size, oversized, in_headers = [], 0, False, True
            prev_blank = False
            offset += len(line)
            continue
        started = True
        offset += len(line)
        if line_start:
            prev_blank = line in (b"\n", b"\r\n")
            if _ESCAPED_FROM.match(line):
                line = line[1:]
        else:
            prev_blank = False
        if headers_only and not in_headers:
            continue
        if line_start and prev_blank and in_headers:
            in_headers = False
            if headers_only:
                continue
        if oversized:
            continue
        size += len(line)
        # headers alone past MAX_HEADER_BYTES are no mail headers (a 2 GB file of one
        # line): the first pass must not hand hundreds of megabytes to the parser
        if size > MAX_MESSAGE_BYTES or (in_headers and size > MAX_HEADER_BYTES):
            oversized = True
            lines = [b"".join(lines)[:_OVERSIZED_HEAD]]  # the start, for the error message
            continue
        lines.append(line)
    if started:
        message = emit()
        if message is not None:
            yield message


def postmark_date(postmark: bytes) -> datetime | None:
    """The delivery date in an mbox "From " line, if it has one."""
    text = postmark.decode("latin-1", errors="replace")
    match = _POSTMARK_DATE.search(text)
    if not match:
        return None
    month, day, clock, zone, year = match.groups()
    if len(clock) == 5:
        clock += ":00"
    zone = zone if zone and zone[0] in "+-" else "+0000"
    try:
        return to_utc(datetime.strptime(f"{day} {month} {year} {clock} {zone}", "%d %b %Y %H:%M:%S %z"))
    except ValueError:
        return None


def _moz_status(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value.strip()[:8], 16)
    except ValueError:
        return None


def _folder_from_labels(labels: list[str], default: str) -> str:
    lowered = {label.lower(): label for label in labels}
    for name in _GMAIL_FOLDERS:
        if name.lower() in lowered:
            return name
    for label in labels:
        if label.lower() not in _GMAIL_SYSTEM and not label.lower().startswith("category"):
            return label
    return "Archived" if "archived" in lowered else default


def mbox_folder_name(path: Path, member: str | None = None) -> str:
    """A human folder name: "Sent.mbox" → "Sent", Apple's "INBOX.mbox/mbox" → "INBOX"."""
    if member:
        name = Path(member).name
    elif path.name.lower() in ("mbox", "mbox.gz", "mbox.bz2", "mbox.xz") and path.parent.name:
        name = path.parent.name
    else:
        name = path.name
    for suffix in (".gz", ".bz2", ".xz", ".mbox", ".mbx", ".sbd"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name or path.name


def _zip_members(path: Path) -> list[str] | None:
    """The mbox members of a zip that holds nothing but mbox files, else None."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [i.filename for i in archive.infolist() if not i.is_dir()]
    except (OSError, zipfile.BadZipFile, ValueError):
        return None
    wanted = [n for n in names if n.lower().endswith((".mbox", ".mbx"))]
    others = [n for n in names if n not in wanted and not Path(n).name.startswith(".")]
    return wanted if wanted and not others else None


@contextmanager
def _open_stream(path: Path, member: str | None = None) -> Iterator[IO[bytes]]:
    if member is not None:
        with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
            yield handle
        return
    opener = _COMPRESSED.get(path.suffix.lower())
    if opener is not None:
        with opener(path, "rb") as handle:
            yield handle
        return
    with open(path, "rb") as handle:
        yield handle


class MboxConnector(Connector):
    """mbox files: Gmail Takeout, Thunderbird folders, Apple Mail exports, archives."""

    name = "mbox"
    kind = KIND_EMAIL
    patterns = ("*.mbox", "*.mbx", "*.mbox.gz", "*.mbox.bz2", "*.mbox.xz", "*.mbx.gz", "mbox")
    priority = 20
    description = "mbox mailboxes (Gmail Takeout, Thunderbird, Apple Mail), also .gz/.bz2/.xz"

    def claims(self, path: Path) -> bool:
        if path.is_dir():
            return False
        if super().claims(path):
            return True
        name = path.name.lower()
        if name.endswith(".zip"):
            return _zip_members(path) is not None
        if looks_extensionless(path.name):
            # Thunderbird keeps folders as extensionless mbox files ("Inbox", "Sent")
            return read_head(path, 5) == b"From "
        return False

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        members: list[str | None] = [None]
        if path.name.lower().endswith(".zip"):
            found = _zip_members(path)
            if found is None:
                raise ValueError("zip archive does not hold only mbox files")
            members = list(found)
        # First pass: headers only, to know every message's thread before yielding.
        threads = ThreadIndex()
        for number, member in enumerate(members):
            with _open_stream(path, member) as stream:
                for raw in split_mbox(stream, headers_only=True):
                    if raw.oversized:
                        continue  # reported in the second pass
                    try:
                        headers = parse_headers(raw.data)
                        if not _expunged(headers):
                            threads.add(f"{number}:{raw.index}", ThreadFields.of(headers))
                    except Exception:  # noqa: BLE001 - reported in the second pass
                        continue
        threads.finish()
        seen_keys: set[str] = set()  # keys are unique across the members of a zip
        for number, member in enumerate(members):
            yield from self._parse_member(path, member, number, threads, seen_keys)

    def _parse_member(
        self, path: Path, member: str | None, number: int, threads: ThreadIndex, seen_keys: set[str]
    ) -> Iterator[Document | ItemError]:
        where = f"{path}:{member}" if member else str(path)
        folder = mbox_folder_name(path, member)
        with _open_stream(path, member) as stream:
            for raw in split_mbox(stream):
                item = f"message {raw.index + 1} at byte {raw.offset}"
                if raw.oversized:
                    yield ItemError(
                        where,
                        f"message larger than {MAX_MESSAGE_BYTES:,} bytes (or headers past {MAX_HEADER_BYTES:,}), "
                        "skipped",
                        item,
                    )
                    continue
                try:
                    msg = parse_message(raw.data)
                    if not msg.keys():
                        yield ItemError(where, "no mail headers found", item)
                        continue
                    status = _moz_status(_header(msg, "X-Mozilla-Status"))
                    if status is not None and status & _MOZ_EXPUNGED:
                        continue  # deleted in Thunderbird, not yet compacted away
                    message_id = normalize_message_id(_header(msg, "Message-ID"))
                    key = _unique_key(message_id or f"message-{content_digest(raw.data)}", seen_keys)
                    extra: dict[str, object] = {}
                    labels = gmail_labels(msg)
                    if status is not None:
                        extra["flags"] = sorted(v for k, v in _MOZ_FLAGS.items() if status & k)
                    if member:
                        extra["archive_member"] = member
                    context = MessageContext(
                        folder=_folder_from_labels(labels, folder) if labels else folder,
                        thread_id=threads.thread_id(f"{number}:{raw.index}"),
                        extra=extra,
                        fallback_date=postmark_date(raw.postmark),
                    )
                    docs = message_documents(msg, key, context)
                except Exception as exc:  # noqa: BLE001 - one bad message, not the file
                    yield ItemError(where, f"cannot parse message: {type(exc).__name__}: {exc}", item)
                    continue
                yield from docs


def _header(msg: object, name: str) -> str | None:
    try:
        value = msg.get(name)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001
        return None
    return str(value) if value is not None else None


def _expunged(headers: object) -> bool:
    status = _moz_status(_header(headers, "X-Mozilla-Status"))
    return status is not None and bool(status & _MOZ_EXPUNGED)


def _unique_key(key: str, seen: set[str]) -> str:
    candidate, n = key, 1
    while candidate in seen:
        n += 1
        candidate = f"{key}#{n}"
    seen.add(candidate)
    return candidate
