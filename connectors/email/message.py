"""One RFC 822 message → Documents: the message itself and its text-bearing attachments.

Shared by the mbox, Maildir, .eml and Outlook connectors. Real mail is hostile and
broken: wrong or unknown charsets, raw 8-bit headers, multiparts without boundaries,
invalid dates. Every accessor here degrades to a best-effort value instead of raising,
so one odd header never costs the whole message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from typing import Any

from connectors.base import MIN_IMAGE_BYTES, Document, ImageRef, Section, is_image_name, to_utc
from connectors.email.attachments import attachment_text
from connectors.email.headers import addresses, decode_header_value, header_text, message_date, raw_header
from connectors.email.mime import (
    TEXT_ATTACHMENT_EXTS,
    TEXT_ATTACHMENT_TYPES,
    Attachment,
    MessageBody,
    child_parts,
    declared_charset,
    part_bytes,
    walk_parts,
)
from connectors.email.parse import MAX_ATTACHED_MESSAGE_DEPTH, MAX_EXTRACT_BYTES
from connectors.email.quotes import html_text, html_without_quotes, strip_quotes, tidy_quoted_text
from connectors.email.threads import ThreadFields, ThreadIndex
from connectors.kinds import KIND_EMAIL

# ----------------------------------------------------------------------- documents


@dataclass
class MessageContext:
    """Where a message came from, for its metadata."""

    folder: str | None = None
    thread_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # A date to fall back on (an mbox "From " line) when the headers have none.
    fallback_date: datetime | None = None


def gmail_labels(msg: Message) -> list[str]:
    raw = raw_header(msg, "X-Gmail-Labels")
    if not raw:
        return []
    import csv

    value = decode_header_value(raw)
    try:
        labels = next(csv.reader([value], skipinitialspace=True))
    except (csv.Error, StopIteration):
        labels = value.split(",")
    return [label.strip() for label in labels if label.strip()]


def message_documents(msg: Message, key: str, context: MessageContext | None = None, depth: int = 0) -> list[Document]:
    """The Document for ``msg`` followed by one child Document per text-bearing
    attachment."""
    context = context or MessageContext()
    charset = declared_charset(msg) or (_first_charset(msg) if _has_raw_8bit(msg) else None)
    subject = header_text(msg, "Subject", charset)
    senders = addresses(msg, "From", charset) or addresses(msg, "Sender", charset)
    to = addresses(msg, "To", charset)
    cc = addresses(msg, "Cc", charset)
    bcc = addresses(msg, "Bcc", charset)
    fields = ThreadFields.of(msg)
    timestamp, date_source, date_error = message_date(msg)
    if timestamp is None and context.fallback_date is not None:
        timestamp, date_source = to_utc(context.fallback_date), "mbox"

    body = MessageBody()
    walk_parts(msg, body, 0, True, charset)
    full_parts: list[str] = []
    new_parts: list[str] = []
    _, is_forward = _forward_subject(subject)
    for kind, text in body.segments:
        if kind == "html":
            full_parts.append(html_text(text))
            try:
                trimmed = html_without_quotes(text, is_forward)
            except Exception:  # noqa: BLE001
                trimmed = text
            new_parts.append(strip_quotes(html_text(trimmed), is_forward))
        else:
            full_parts.append(tidy_quoted_text(text))
            new_parts.append(strip_quotes(text, is_forward))
    full_body = "\n\n".join(p for p in full_parts if p.strip())
    new_body = "\n\n".join(p for p in new_parts if p.strip())

    author = senders[0].formatted() if senders else None
    participants = _unique([p.formatted() for p in to + cc])
    head = [f"From: {author}"] if author else []
    if to:
        head.append(f"To: {', '.join(p.formatted() for p in to)}")
    if cc:
        head.append(f"Cc: {', '.join(p.formatted() for p in cc)}")
    date_text = header_text(msg, "Date") or (timestamp.isoformat() if timestamp else "")
    if date_text:
        head.append(f"Date: {date_text}")
    head.append(f"Subject: {subject}")
    if body.attachments:
        head.append("Attachments: " + ", ".join(a.filename for a in body.attachments))
    text = "\n".join(head) + "\n\n" + full_body if full_body else "\n".join(head)

    message_id = fields.message_id
    thread_id = context.thread_id
    if thread_id is None:
        single = ThreadIndex()
        single.add("m", fields)
        thread_id = single.thread_id("m")
    metadata: dict[str, Any] = {
        "message_id": message_id,
        "in_reply_to": fields.in_reply_to,
        "references": fields.references,
        "thread_id": thread_id,
        "folder": context.folder,
        "to": [p.formatted() for p in to],
        "cc": [p.formatted() for p in cc],
        "from_address": senders[0].address.lower() if senders and senders[0].address else None,
        "attachments": [
            {"filename": a.filename, "size": a.size, "content_type": a.content_type} for a in body.attachments
        ],
    }
    if bcc:
        metadata["bcc"] = [p.formatted() for p in bcc]
    labels = gmail_labels(msg)
    if labels:
        metadata["labels"] = labels
    if date_error:
        metadata["date_error"] = date_error
    if date_source and date_source != "date":
        metadata["date_source"] = date_source
    if body.encrypted:
        metadata["encrypted"] = True
    defects = _defects(msg)
    if defects:
        metadata["defects"] = defects
    metadata.update(context.extra)

    locator = f"message <{message_id}>" if message_id else f"message {key}"
    indexed = new_body or subject or full_body
    doc = Document(
        key=key,
        kind=KIND_EMAIL,
        title=subject or "(no subject)",
        text=text,
        author=author,
        participants=participants,
        timestamp=timestamp,
        metadata=metadata,
        sections=[Section(text=indexed, locator=locator)] if indexed else [],
        dedup_key=message_id,
    )
    docs = [doc]
    for index, att in enumerate(body.attachments, start=1):
        docs.extend(_attachment_documents(att, index, doc, context, depth))
    return docs


def _forward_subject(subject: str) -> tuple[str, bool]:
    is_forward = bool(re.match(r"^\s*(fwd?|wg|tr|enc|fw)\s*:", subject or "", re.IGNORECASE))
    return subject, is_forward


def _has_raw_8bit(msg: Message) -> bool:
    try:
        return any(not str(v).isascii() for _, v in msg.raw_items())  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001
        return False


def _first_charset(msg: Message) -> str | None:
    try:
        for part in msg.walk():
            charset = declared_charset(part)
            if charset:
                return charset
    except Exception:  # noqa: BLE001
        pass
    return None


def _defects(msg: Message) -> list[str]:
    names: list[str] = []
    try:
        for part in msg.walk():
            for defect in getattr(part, "defects", []):
                name = type(defect).__name__
                if name not in names:
                    names.append(name)
    except Exception:  # noqa: BLE001
        pass
    return names[:20]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


_GENERIC_TYPES = {
    "application/octet-stream",
    "application/x-download",
    "application/download",
    "application/force-download",
    "binary/octet-stream",
    "application/unknown",
    "application/x-pdf",
    "application/msword",
}


def _is_text_bearing(att: Attachment) -> bool:
    """Text we can extract: by content type, or by file name when the type is generic
    (many clients send every attachment as application/octet-stream)."""
    if att.content_type in TEXT_ATTACHMENT_TYPES:
        return True
    by_name = att.filename.lower().endswith(TEXT_ATTACHMENT_EXTS)
    return by_name and (att.content_type in _GENERIC_TYPES or att.content_type.startswith("text/"))


def _is_pdf(att: Attachment) -> bool:
    return att.content_type in ("application/pdf", "application/x-pdf") or att.filename.lower().endswith(".pdf")


def _is_image(att: Attachment) -> bool:
    """A picture OCR may read: by content type, or by name when the type is generic."""
    if att.content_type.startswith("image/"):
        return True
    return att.content_type in _GENERIC_TYPES and is_image_name(att.filename)


def _attachment_documents(
    att: Attachment, index: int, parent: Document, context: MessageContext, depth: int
) -> list[Document]:
    image = _is_image(att)
    if not image and not _is_text_bearing(att):
        return []
    key = f"{parent.key}/attachment-{index}"
    meta_base = {
        "attachment": att.filename,
        "content_type": att.content_type,
        "size": att.size,
        "parent_message_id": parent.metadata.get("message_id"),
        "thread_id": parent.metadata.get("thread_id"),
        "folder": parent.metadata.get("folder"),
        "from_address": parent.metadata.get("from_address"),
    }
    if image:
        if att.size > MAX_EXTRACT_BYTES:
            return []
        data = part_bytes(att.part)
        if len(data) < MIN_IMAGE_BYTES:
            return []
        # the bytes travel with the document until the OCR pass has read them
        # (never written anywhere but the store, never opened by another program)
        name = att.filename or f"image-{index}"
        return [
            Document(
                key=key,
                kind=KIND_EMAIL,
                title=name,
                text="",
                author=parent.author,
                participants=list(parent.participants),
                timestamp=parent.timestamp,
                metadata=meta_base,
                parent_key=parent.key,
                images=[ImageRef(locator=name, kind="bytes", data=data)],
            )
        ]
    if att.content_type == "message/rfc822":
        inner = child_parts(att.part)
        if not inner or depth >= MAX_ATTACHED_MESSAGE_DEPTH:
            return []
        sub_context = MessageContext(folder=context.folder, extra={})
        docs = message_documents(inner[0], key, sub_context, depth + 1)
        docs[0].parent_key = parent.key
        docs[0].title = att.filename
        # the forwarded message keeps its own sender, thread and dates
        keep = ("attachment", "content_type", "size", "parent_message_id")
        docs[0].metadata.update({k: meta_base[k] for k in keep})
        return docs
    if att.size > MAX_EXTRACT_BYTES:
        return []
    data = part_bytes(att.part)
    text = attachment_text(data, att.content_type, att.filename, declared_charset(att.part))
    if not text or not text.strip():
        if _is_pdf(att) and data[:1024].find(b"%PDF") >= 0:
            # a scanned PDF (no text layer): its pages are read by the OCR pass
            return [
                Document(
                    key=key,
                    kind=KIND_EMAIL,
                    title=att.filename,
                    text="",
                    author=parent.author,
                    participants=list(parent.participants),
                    timestamp=parent.timestamp,
                    metadata={**meta_base, "scanned": True},
                    parent_key=parent.key,
                    images=[ImageRef(locator=att.filename, kind="pdf-bytes", data=data)],
                )
            ]
        return []
    return [
        Document(
            key=key,
            kind=KIND_EMAIL,
            title=att.filename,
            text=text,
            author=parent.author,
            participants=list(parent.participants),
            timestamp=parent.timestamp,
            metadata=meta_base,
            sections=[],
            parent_key=parent.key,
            dedup_key=None,
        )
    ]


def content_digest(raw: bytes) -> str:
    """Short stable hash of message bytes, for keys of messages without Message-ID."""
    return hashlib.sha256(raw).hexdigest()[:16]
