"""Walking a message's MIME tree: the body text, the attachments, and repairs of multiparts
whose boundaries are missing or wrong."""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field
from email.message import Message

from connectors.email.charsets import decode_bytes
from connectors.email.headers import decode_header_value, fix_surrogates, header_text
from connectors.email.parse import MAX_MIME_DEPTH, parse_message

# ------------------------------------------------------------------- MIME walking


_SIGNATURE_TYPES = {
    "application/pgp-signature",
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-encrypted",
}
_BODY_TEXT_TYPES = {
    "text/plain",
    "text/html",
    "text/enriched",
    "text/richtext",
    "text/x-patch",
    "text/x-diff",
    "text/markdown",
    "text/x-markdown",
}
TEXT_ATTACHMENT_TYPES = {
    "text/plain",
    "text/markdown",
    "text/x-markdown",
    "text/html",
    "text/csv",
    "text/x-diff",
    "text/x-patch",
    "application/pdf",
    "message/rfc822",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
TEXT_ATTACHMENT_EXTS = (
    ".txt",
    ".md",
    ".markdown",
    ".html",
    ".htm",
    ".csv",
    ".pdf",
    ".docx",
    ".diff",
    ".patch",
    ".eml",
)


@dataclass
class Attachment:
    filename: str
    content_type: str
    size: int
    part: Message


@dataclass
class MessageBody:
    segments: list[tuple[str, str]] = field(default_factory=list)  # (plain|html, text)
    attachments: list[Attachment] = field(default_factory=list)
    encrypted: bool = False


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:  # noqa: BLE001
        return "text/plain"


def _disposition(part: Message) -> str | None:
    try:
        value = part.get_content_disposition()
        return value.lower() if value else None
    except Exception:  # noqa: BLE001
        return None


def _filename(part: Message, charset: str | None) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        name = None
    if not name:
        try:
            name = part.get_param("name")  # type: ignore[assignment]
            if isinstance(name, tuple):
                name = decode_bytes(str(name[2]).encode("latin-1", "replace"), name[0])
        except Exception:  # noqa: BLE001
            name = None
    if not name:
        return None
    name = str(name)
    name = fix_surrogates(name, charset)
    if "=?" in name:
        name = decode_header_value(name, charset)
    # never let a name carry a path: it is only ever shown, but keep it clean
    name = re.split(r"[\\/]", name)[-1].strip().replace("\x00", "")
    return name or None


def part_bytes(part: Message) -> bytes:
    """The decoded payload of a leaf part (base64/quoted-printable undone)."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        payload = None
    if isinstance(payload, bytes):
        return payload
    try:
        raw = part.get_payload()
    except Exception:  # noqa: BLE001
        return b""
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def declared_charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:  # noqa: BLE001
        return None


def part_text(part: Message) -> str:
    """A text part decoded from its declared (or guessed) charset; never raises."""
    text = decode_bytes(part_bytes(part), declared_charset(part))
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def child_parts(part: Message) -> list[Message]:
    try:
        payload = part.get_payload()
    except Exception:  # noqa: BLE001
        return []
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    if isinstance(payload, Message):
        return [payload]
    return []


def walk_parts(
    part: Message,
    body: MessageBody,
    depth: int,
    body_allowed: bool,
    charset: str | None,
) -> None:
    if depth > MAX_MIME_DEPTH:
        return
    ctype = _content_type(part)
    if part.is_multipart():
        children = child_parts(part)
        if ctype == "multipart/alternative":
            chosen: MessageBody | None = None
            fallback: MessageBody | None = None
            subs: list[MessageBody] = []
            for child in children:
                sub = MessageBody()
                walk_parts(child, sub, depth + 1, body_allowed, charset)
                subs.append(sub)
                if chosen is None and any(kind == "plain" for kind, _ in sub.segments):
                    chosen = sub
                if fallback is None and sub.segments:
                    fallback = sub
            best = chosen or fallback
            if best is not None:
                body.segments.extend(best.segments)
            seen: set[int] = set()
            for sub in subs:
                body.encrypted |= sub.encrypted
                for att in sub.attachments:
                    if id(att.part) not in seen:
                        seen.add(id(att.part))
                        body.attachments.append(att)
            return
        if ctype == "multipart/signed":
            children = children[:1]
        if ctype == "multipart/encrypted":
            body.encrypted = True
            return
        for index, child in enumerate(children):
            allowed = body_allowed and (ctype != "multipart/related" or index == 0)
            walk_parts(child, body, depth + 1, allowed, charset)
        return
    if ctype in _SIGNATURE_TYPES:
        return
    disposition = _disposition(part)
    filename = _filename(part, charset)
    if ctype.startswith("multipart/"):
        # A multipart without a (findable) boundary: guess it from the first
        # "--boundary" line and parse again, else read the payload as text.
        repaired = _repair_multipart(part, ctype) if depth < 3 else None
        if repaired is not None:
            walk_parts(repaired, body, depth + 1, body_allowed, charset)
            return
        ctype = "text/plain"
    is_attachment = disposition == "attachment" or (filename is not None and disposition != "inline")
    if body_allowed and ctype in _BODY_TEXT_TYPES and not is_attachment:
        text = part_text(part)
        if text.strip():
            body.segments.append(("html" if ctype == "text/html" else "plain", text))
        return
    if ctype == "application/pkcs7-mime" or ctype == "application/x-pkcs7-mime":
        body.encrypted = True
    size = len(part_bytes(part)) if ctype != "message/rfc822" else _message_size(part)
    if ctype == "message/rfc822":
        inner = child_parts(part)
        subject = header_text(inner[0], "Subject") if inner else ""
        filename = filename or f"{subject or 'message'}.eml"
    if not filename:
        ext = mimetypes.guess_extension(ctype) or ".bin"
        filename = f"part-{len(body.attachments) + 1}{ext}"
    body.attachments.append(Attachment(filename, ctype, size, part))


_BOUNDARY_LINE = re.compile(rb"^--([^\s]{1,200}?)[ \t]*\r?$", re.MULTILINE)


def _repair_multipart(part: Message, ctype: str) -> Message | None:
    raw = part_bytes(part)
    match = _BOUNDARY_LINE.search(raw[:65536])
    if not match or match.group(1).endswith(b"--"):
        return None
    boundary = match.group(1).decode("ascii", errors="replace").replace('"', "")
    header = f'Content-Type: {ctype}; boundary="{boundary}"\n\n'.encode()
    try:
        repaired = parse_message(header + raw)
    except Exception:  # noqa: BLE001
        return None
    return repaired if repaired.is_multipart() else None


def _message_size(part: Message) -> int:
    try:
        return sum(len(c.as_bytes()) for c in child_parts(part))
    except Exception:  # noqa: BLE001
        return 0
