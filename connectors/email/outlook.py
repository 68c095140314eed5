"""Outlook .msg files (OLE2 compound files), read with ``extract_msg``.

The .msg is turned back into a MIME message (headers, plain and HTML bodies,
attachments as parts) and handed to the same code as every other format, so quote
removal, attachment handling and threading are identical. Attachments are only ever
held in memory. PST archives are not supported.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import datetime
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, getaddresses
from pathlib import Path
from typing import Any

from connectors.base import Connector, Document, ItemError
from connectors.email.charsets import decode_bytes
from connectors.email.eml import parse_eml_file
from connectors.email.message import MessageContext, message_documents
from connectors.email.parse import parse_message
from connectors.email.sniff import is_ole, looks_extensionless, looks_like_rfc822, read_head
from connectors.kinds import KIND_EMAIL

MAX_EMBEDDED_DEPTH = 3
# MAPI time properties to fall back on when the message has no sent/received date
_DATE_PROPS = (
    ("00390040", "submit-time"),
    ("0E060040", "delivery-time"),
    ("30070040", "creation-time"),
    ("30080040", "modification-time"),
)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return decode_bytes(value)
    return str(value)


def _header_value(value: str) -> str:
    value = " ".join(value.replace("\x00", "").split())
    return value if value.isascii() else Header(value, "utf-8").encode()


def _address_header(value: str) -> str:
    value = value.replace("\x00", "").replace(";", ",")
    pairs = getaddresses([value])
    out = []
    for name, addr in pairs:
        if not name and not addr:
            continue
        try:
            out.append(formataddr((name, addr), charset="utf-8"))
        except Exception:  # noqa: BLE001
            out.append(addr)
    return ", ".join(out)


def _msg_date(msg: Any) -> tuple[datetime | None, str | None]:
    for attr in ("date", "receivedTime"):
        try:
            value = getattr(msg, attr, None)
        except Exception:  # noqa: BLE001
            value = None
        if isinstance(value, datetime):
            return value, None
    props = getattr(msg, "props", None)
    for prop_id, source in _DATE_PROPS:
        try:
            prop = props.get(prop_id) if props is not None else None
            value = getattr(prop, "value", None)
        except Exception:  # noqa: BLE001
            value = None
        if isinstance(value, datetime):
            return value, source
    return None, None


def _transport_header(msg: Any, name: str) -> str | None:
    try:
        header = getattr(msg, "header", None)
        value = header.get(name) if header is not None else None
    except Exception:  # noqa: BLE001
        return None
    value = _text(value).strip()
    return value or None


def msg_to_mime(msg: Any, depth: int = 0) -> tuple[Message, dict[str, Any]]:
    """An extract_msg message as a MIME message, plus metadata MIME cannot carry."""
    extra: dict[str, Any] = {}
    outer = MIMEMultipart("mixed")
    for name, attr in (("From", "sender"), ("To", "to"), ("Cc", "cc"), ("Bcc", "bcc")):
        try:
            value = _text(getattr(msg, attr, None))
        except Exception:  # noqa: BLE001
            value = ""
        if value.strip():
            outer[name] = _address_header(value)
    try:
        subject = _text(getattr(msg, "subject", None))
    except Exception:  # noqa: BLE001
        subject = ""
    if subject:
        outer["Subject"] = _header_value(subject)
    moment, source = _msg_date(msg)
    if moment is not None:
        outer["Date"] = format_datetime(moment)
        if source:
            extra["date_source"] = f"msg-{source}"
    for name, attr in (("Message-ID", "messageId"), ("In-Reply-To", "inReplyTo")):
        try:
            value = _text(getattr(msg, attr, None)).strip()
        except Exception:  # noqa: BLE001
            value = ""
        value = value or (_transport_header(msg, name) or "")
        if value:
            outer[name] = _header_value(value)
    references = _transport_header(msg, "References")
    if references:
        outer["References"] = _header_value(references)

    alternative = MIMEMultipart("alternative")
    try:
        body = _text(getattr(msg, "body", None))
    except Exception:  # noqa: BLE001
        body = ""
    try:
        html = _text(getattr(msg, "htmlBody", None))
    except Exception:  # noqa: BLE001
        html = ""
    if body.strip():
        alternative.attach(MIMEText(body.replace("\r\n", "\n"), "plain", "utf-8"))
    if html.strip():
        alternative.attach(MIMEText(html, "html", "utf-8"))
    if alternative.get_payload():
        outer.attach(alternative)

    for attachment in getattr(msg, "attachments", None) or []:
        part = _attachment_part(attachment, depth)
        if part is not None:
            outer.attach(part)
    return outer, extra


def _attachment_part(attachment: Any, depth: int) -> Message | None:
    try:
        name = (
            getattr(attachment, "longFilename", None)
            or getattr(attachment, "name", None)
            or getattr(attachment, "shortFilename", None)
            or "attachment"
        )
        data = attachment.data
    except Exception:  # noqa: BLE001 - an unreadable attachment is skipped
        return None
    if isinstance(data, bytes):
        mimetype = getattr(attachment, "mimetype", None) or "application/octet-stream"
        maintype, _, subtype = str(mimetype).partition("/")
        part: Message = MIMEApplication(data, _subtype=subtype or "octet-stream")
        part.replace_header("Content-Type", f"{maintype}/{subtype or 'octet-stream'}")
        part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", str(name)))
        return part
    if data is not None and depth < MAX_EMBEDDED_DEPTH and hasattr(data, "subject"):
        inner, _ = msg_to_mime(data, depth + 1)
        wrapper = MIMEMessage(inner)
        wrapper.add_header("Content-Disposition", "attachment", filename=("utf-8", "", str(name)))
        return wrapper
    return None


def parse_msg_file(path: Path) -> list[Document]:
    """Documents of one Outlook .msg file (the message, then text attachments)."""
    import extract_msg

    logging.getLogger("extract_msg").setLevel(logging.ERROR)
    msg = extract_msg.openMsg(str(path), delayAttachments=False, strict=False)
    try:
        mime, extra = msg_to_mime(msg)
        raw = mime.as_bytes()
    finally:
        with contextlib.suppress(Exception):
            msg.close()
    message = parse_message(raw)
    context = MessageContext(folder=path.parent.name or None, extra={**extra, "format": "msg"})
    return message_documents(message, path.name, context)


def _is_outlook_msg(path: Path) -> bool:
    try:
        import olefile

        with olefile.OleFileIO(str(path)) as ole:
            return bool(ole.exists("__properties_version1.0")) and any(
                entry[0].startswith("__substg1.0_") for entry in ole.listdir()
            )
    except Exception:  # noqa: BLE001
        return False


class OutlookMsgConnector(Connector):
    """Outlook .msg files (drag a message out of Outlook onto a folder)."""

    name = "msg"
    kind = KIND_EMAIL
    patterns = ("*.msg",)
    priority = 10
    description = "Outlook .msg messages"

    def claims(self, path: Path) -> bool:
        if path.is_dir():
            return False
        if super().claims(path):
            return True
        if looks_extensionless(path.name) and is_ole(read_head(path, 8)):
            return _is_outlook_msg(path)
        return False

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        head = read_head(path)
        if not is_ole(head):
            # some tools save plain RFC 822 text under a .msg name
            if looks_like_rfc822(head):
                yield from parse_eml_file(path)
                return
            yield ItemError(str(path), "not an Outlook .msg file (no OLE2 signature)")
            return
        try:
            docs = parse_msg_file(path)
        except Exception as exc:  # noqa: BLE001 - a broken .msg is one bad item
            yield ItemError(str(path), f"cannot read Outlook message: {type(exc).__name__}: {exc}")
            return
        yield from docs
