"""Pieces shared by the chat-export connectors.

Every chat connector turns its platform's export into a list of :class:`ChatMessage`
and hands it to :func:`month_documents`, which cuts the chat into one
:class:`~connectors.base.Document` per calendar month. Months are the unit so that a
growing export (a WhatsApp chat exported again a month later) changes only the
newest document's content hash, and only that month is re-indexed.

Time zones: exports that carry no time zone (WhatsApp and Signal text) give the
wall-clock time of the exporting phone. Those times are kept as they read, naive,
and :func:`~connectors.base.to_utc` stores them as if they were UTC; the document's
``metadata["time_zone"]`` then says ``"local"``. Exports with real instants (Unix
timestamps, ISO strings with an offset) are converted to true UTC
(``metadata["time_zone"] == "UTC"``).
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import Document, ImageRef, Section, to_utc
from connectors.kinds import KIND_CHAT

# How much of a file a ``claims()`` sniff reads: enough for the header and the
# first messages, little enough to stay cheap on every file of a large tree.
SNIFF_BYTES = 8192

# A chat member or an archive bigger than this is refused rather than read into
# memory (a hostile zip can claim anything); real exports stay far below.
MAX_MEMBER_BYTES = 512 * 1024**2

# Invisible direction and formatting marks that exports sprinkle into lines
# (WhatsApp iOS puts U+200E before every attachment note and many lines).
_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


class ChatExportError(ValueError):
    """A whole export cannot be read (empty, truncated, not the expected format)."""


@dataclass(slots=True)
class ChatMessage:
    """One message, normalised across platforms."""

    timestamp: datetime  # aware, UTC
    author: str | None  # None for system/service lines
    text: str
    media: list[str] = field(default_factory=list)
    reply_to: str | None = None  # the author (or a short description) replied to
    thread: str | None = None  # a note such as "thread of Alice" (Slack)
    msg_id: str | None = None


def strip_marks(text: str) -> str:
    """Remove direction marks and BOMs, which are invisible but break matching."""
    return _MARKS.sub("", text)


def decode_bytes(raw: bytes) -> str:
    """Decode an export: UTF-8 (with or without BOM), UTF-16 with BOM, else detected."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    return str(best) if best is not None else raw.decode("latin-1")


def read_head(path: Path, size: int = SNIFF_BYTES) -> str:
    """The first ``size`` bytes of a file as text, for cheap content sniffing."""
    with path.open("rb") as fh:
        raw = fh.read(size)
    return head_text(raw)


def head_text(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="ignore")
    return strip_marks(raw.decode("utf-8", errors="ignore"))


def first_lines(text: str, count: int) -> list[str]:
    """The first ``count`` non-empty lines of ``text``, stripped of marks."""
    found: list[str] = []
    for line in text.splitlines():
        line = strip_marks(line).strip()
        if line:
            found.append(line)
            if len(found) >= count:
                break
    return found


def load_json(path: Path) -> Any:
    """Parse a JSON file with a clear error for the empty and the truncated case."""
    raw = path.read_bytes()
    return parse_json_bytes(raw, str(path))


def json_head(path: Path) -> str | None:
    """The first bytes of a ``.json`` file as text, for a JSON chat connector's
    ``claims`` to sniff; None for a folder or any other file."""
    if path.is_dir() or path.suffix.lower() != ".json":
        return None
    return read_head(path)


def load_json_export(path: Path, label: str, *, messages: bool = True) -> dict[str, Any]:
    """The top object of a JSON chat export, or :class:`ChatExportError` saying why
    the file is not a ``label`` export: empty, truncated, not a JSON object, or (with
    ``messages``) without a "messages" list."""
    data = load_json(path)
    if not isinstance(data, dict):
        raise ChatExportError(f"not a {label} export: {path.name} is not a JSON object")
    if messages and not isinstance(data.get("messages"), list):
        raise ChatExportError(f'not a {label} export: {path.name} has no "messages" list')
    return data


def parse_json_bytes(raw: bytes, where: str) -> Any:
    if not raw.strip():
        raise ChatExportError(f"empty file: {where} has no content")
    try:
        return json.loads(decode_bytes(raw))
    except json.JSONDecodeError as exc:
        # The parser runs out of input in a truncated file: at the very end, or
        # inside a string that never closes.
        at_end = exc.pos >= len(exc.doc.rstrip()) - 1 or exc.msg.startswith("Unterminated")
        what = "truncated JSON" if at_end else "invalid JSON"
        raise ChatExportError(f"{what} in {where}: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def read_zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Read one archive member, refusing absurd sizes instead of exhausting memory."""
    if info.file_size > MAX_MEMBER_BYTES:
        raise ChatExportError(f"{info.filename} is too large ({info.file_size} bytes)")
    with zf.open(info) as fh:
        data = fh.read(MAX_MEMBER_BYTES + 1)
    if len(data) > MAX_MEMBER_BYTES:
        raise ChatExportError(f"{info.filename} inflates beyond {MAX_MEMBER_BYTES} bytes")
    return data


def is_junk_member(name: str) -> bool:
    """macOS resource forks and folders that zip tools add to archives."""
    base = name.rsplit("/", 1)[-1]
    return name.startswith("__MACOSX/") or "/__MACOSX/" in name or base.startswith("._")


def fix_mojibake(text: str) -> str:
    """Repair UTF-8 text that was mis-decoded as Latin-1 (Facebook's JSON exports).

    ``"Ã©"`` becomes ``"é"``. Text that does not round-trip (already correct
    Unicode, or not mojibake at all) is returned unchanged.
    """
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def epoch_to_utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def parse_iso(value: str) -> datetime:
    """An ISO 8601 string to aware UTC (naive strings are taken as UTC)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = to_utc(datetime.fromisoformat(text))
    assert moment is not None
    return moment


def section_text(msg: ChatMessage) -> str:
    """The message as indexed: its text, with reply and thread notes in front."""
    notes: list[str] = []
    if msg.thread:
        notes.append(f"({msg.thread})")
    if msg.reply_to:
        notes.append(f"(reply to {msg.reply_to})")
    if notes:
        return " ".join(notes) + " " + msg.text
    return msg.text


def month_documents(
    messages: Iterable[ChatMessage],
    *,
    platform: str,
    chat: str,
    chat_id: str | None,
    key_prefix: str,
    title: str | None = None,
    time_zone: str = "UTC",
    extra: dict[str, Any] | None = None,
    media_image: Callable[[str, str], ImageRef | None] | None = None,
) -> Iterator[Document]:
    """One Document per calendar month of a chat, oldest month first.

    ``key_prefix`` identifies the chat within its source unit; the document key
    is ``"<key_prefix>/<YYYY-MM>"``. Messages are ordered by time (stable, so
    messages of the same minute keep their export order).

    ``media_image(name, locator)`` gives the :class:`ImageRef` of a message's media
    file when the export holds it and it is an image; each such photo becomes a
    child document of its month (``"<key>/media/<name>"``), sent by the message's
    author at its time, whose text the OCR pass reads (a photographed receipt, a
    screenshot).
    """
    ordered = sorted(messages, key=lambda m: m.timestamp)
    months: dict[tuple[int, int], list[ChatMessage]] = {}
    for msg in ordered:
        t = msg.timestamp
        bucket = months.get((t.year, t.month))
        if bucket is None:
            bucket = months[(t.year, t.month)] = []
        bucket.append(msg)
    for (year, month_number), items in months.items():
        month = f"{year:04d}-{month_number:02d}"
        participants: list[str] = []
        seen: set[str] = set()
        media: list[str] = []
        lines: list[str] = []
        sections: list[Section] = []
        for msg in items:
            if msg.author and msg.author not in seen:
                seen.add(msg.author)
                participants.append(msg.author)
            media.extend(msg.media)
            locator = str(msg.timestamp)[:16]  # "YYYY-MM-DD HH:MM", the fastest way
            body = section_text(msg) if msg.thread or msg.reply_to else msg.text
            if msg.author:
                lines.append(f"{locator} {msg.author}: {body}")
            else:
                lines.append(f"{locator} {body}")
            sections.append(Section(text=body, locator=locator, author=msg.author, timestamp=msg.timestamp))
        metadata: dict[str, Any] = {
            "platform": platform,
            "chat": chat,
            "chat_id": chat_id,
            "media": media,
            "message_count": len(items),
            "month": month,
            "time_zone": time_zone,
        }
        if extra:
            metadata.update(extra)
        month_key = f"{key_prefix}/{month}"
        yield Document(
            key=month_key,
            kind=KIND_CHAT,
            title=title or chat,
            text="\n".join(lines),
            participants=participants,
            timestamp=items[0].timestamp,
            metadata=metadata,
            sections=sections,
        )
        if media_image is not None:
            yield from _media_documents(items, media_image, month_key, title or chat, platform, chat)


def _media_documents(
    messages: list[ChatMessage],
    media_image: Callable[[str, str], ImageRef | None],
    month_key: str,
    title: str,
    platform: str,
    chat: str,
) -> Iterator[Document]:
    seen: set[str] = set()
    for msg in messages:
        for name in msg.media:
            if name in seen:
                continue
            seen.add(name)
            locator = f"{str(msg.timestamp)[:16]} · {name}"
            image = media_image(name, locator)
            if image is None:
                continue
            yield Document(
                key=f"{month_key}/media/{name}",
                kind=KIND_CHAT,
                title=title,
                text="",
                author=msg.author,
                participants=[msg.author] if msg.author else [],
                timestamp=msg.timestamp,
                metadata={"platform": platform, "chat": chat, "media_file": name, "message_time": locator[:16]},
                parent_key=month_key,
                images=[image],
            )


def platform_title(platform_label: str, chat: str) -> str:
    return f"{platform_label}: {chat}"


_SLUG_BAD = re.compile(r"[\x00-\x1f/\\]+")


def clean_key(value: str) -> str:
    """A chat name usable inside a document key (no slashes or control chars)."""
    return _SLUG_BAD.sub("_", value).strip() or "chat"
