"""Single messages: ``.eml`` files and extensionless RFC 822 files (one message each)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from connectors.base import Connector, Document, ItemError
from connectors.email.message import MessageContext, message_documents
from connectors.email.parse import parse_message
from connectors.email.sniff import looks_extensionless, looks_like_rfc822, read_head
from connectors.kinds import KIND_EMAIL

MAX_MESSAGE_BYTES = 256 * 1024 * 1024


def parse_eml_bytes(raw: bytes, key: str, folder: str | None = None) -> list[Document]:
    """Documents of one RFC 822 message (the message, then its text attachments).

    Raises ValueError for bytes that hold no message at all."""
    if raw.startswith(b"From ") and b"\n" in raw:
        raw = raw.split(b"\n", 1)[1]  # an mbox postmark line in front of a single message
    msg = parse_message(raw)
    if not msg.keys():
        raise ValueError("no mail headers found")
    return message_documents(msg, key, MessageContext(folder=folder))


def _emlx_message(raw: bytes) -> bytes:
    """Apple Mail's .emlx: a byte count line, the message, then an XML plist."""
    first, _, rest = raw.partition(b"\n")
    try:
        length = int(first.strip())
    except ValueError:
        return raw
    return rest[:length]


def parse_eml_file(path: Path) -> Iterator[Document | ItemError]:
    """Documents of one message file, or one ItemError if it cannot be read."""
    try:
        if path.stat().st_size > MAX_MESSAGE_BYTES:
            yield ItemError(str(path), f"message larger than {MAX_MESSAGE_BYTES} bytes, skipped")
            return
        raw = path.read_bytes()
        if path.suffix.lower() == ".emlx":
            raw = _emlx_message(raw)
        docs = parse_eml_bytes(raw, path.name, path.parent.name or None)
    except Exception as exc:  # noqa: BLE001 - one unreadable message
        yield ItemError(str(path), f"cannot parse message: {type(exc).__name__}: {exc}")
        return
    yield from docs


class EmlConnector(Connector):
    """``.eml`` files and files without extension that are RFC 822 messages."""

    name = "eml"
    kind = KIND_EMAIL
    patterns = ("*.eml", "*.emlx")
    priority = 10
    description = "Single email messages (.eml, and RFC 822 files without extension)"

    def claims(self, path: Path) -> bool:
        if path.is_dir():
            return False
        if super().claims(path):
            return True
        return looks_extensionless(path.name) and looks_like_rfc822(read_head(path))

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        yield from parse_eml_file(path)
