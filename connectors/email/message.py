"""One RFC 822 message → Documents: the message itself and its text-bearing attachments.

Shared by the mbox, Maildir, .eml and Outlook connectors. Real mail is hostile and
broken: wrong or unknown charsets, raw 8-bit headers, multiparts without boundaries,
invalid dates. Every accessor here degrades to a best-effort value instead of raising,
so one odd header never costs the whole message.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email import errors, policy
from email.header import decode_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from typing import Any, cast

from connectors.base import MIN_IMAGE_BYTES, Document, ImageRef, Section, is_image_name, to_utc
from connectors.email.attachments import attachment_text
from connectors.email.charsets import decode_bytes
from connectors.htmltext import too_many_tags
from connectors.kinds import KIND_EMAIL

# Attachments larger than this are listed but their text is not extracted.
MAX_EXTRACT_BYTES = 50 * 1024 * 1024
# Deeper MIME nesting than this is treated as hostile (a zip bomb of multiparts).
MAX_MIME_DEPTH = 40
# Forwarded messages attached as message/rfc822 become documents down to this depth.
MAX_ATTACHED_MESSAGE_DEPTH = 3

_PARSER = BytesParser(policy=policy.default)
_HEADERS_PARSER = BytesParser(policy=policy.default)


# The modern policy's header parser is quadratic on some hostile values (thousands of
# encoded words, unbalanced quotes): longer headers are cut, or for address lists
# read by the linear tolerant parser instead.
MAX_STRICT_HEADER = 16 * 1024
MAX_ADDRESS_HEADER = 1024 * 1024
_ADDRESS_HEADERS = {"from", "to", "cc", "bcc", "sender", "reply-to"}


def parse_message(raw: bytes) -> EmailMessage:
    """Parse message bytes with the modern policy. The parser is lenient: broken MIME
    ends up as defects on the message rather than exceptions."""
    return _defused(cast(EmailMessage, _PARSER.parsebytes(raw)))


def parse_headers(raw: bytes) -> EmailMessage:
    """Parse only the header block (for the threading pass, which needs no body)."""
    return _defused(cast(EmailMessage, _HEADERS_PARSER.parsebytes(raw, headersonly=True)))


def _defused(msg: EmailMessage) -> EmailMessage:
    """Cut oversized raw header values before anything parses them (header objects
    are built lazily, on first access)."""
    try:
        parts = list(msg.walk())
    except Exception:  # noqa: BLE001
        parts = [msg]
    for part in parts:
        headers = getattr(part, "_headers", None)
        if not isinstance(headers, list):
            continue
        for index, (name, value) in enumerate(headers):
            if not isinstance(value, str) or len(value) <= MAX_STRICT_HEADER:
                continue
            limit = MAX_ADDRESS_HEADER if str(name).lower() in _ADDRESS_HEADERS else MAX_STRICT_HEADER
            if len(value) > limit:
                headers[index] = (name, value[:limit])
    return msg


# --------------------------------------------------------------------------- text


def fix_surrogates(text: str, charset: str | None = None) -> str:
    """Raw 8-bit header bytes arrive as surrogate escapes: decode them for real."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"), charset)


def _clean(text: str) -> str:
    """One line, single spaces: folding leaves tabs and runs of spaces behind."""
    return " ".join(text.replace("\x00", "").split())


def decode_header_value(raw: str, charset: str | None = None) -> str:
    """Decode an unstructured header ourselves (RFC 2047 with any charset, raw 8-bit)."""
    raw = fix_surrogates(raw, charset)
    unfolded = re.sub(r"\r?\n[ \t]*", " ", raw)
    try:
        parts = decode_header(unfolded)
    except Exception:  # noqa: BLE001
        return _clean(unfolded)
    out: list[str] = []
    for value, part_charset in parts:
        if isinstance(value, str):
            out.append(value)
        elif part_charset is None:
            out.append(value.decode("raw-unicode-escape", errors="replace"))
        else:
            out.append(decode_bytes(value, part_charset))
    return _clean("".join(out))


def _raw_header(msg: Message, name: str) -> str | None:
    lname = name.lower()
    try:
        items = msg.raw_items() if isinstance(msg, EmailMessage) else msg.items()
        for key, value in items:
            if key.lower() == lname:
                return str(value)
    except Exception:  # noqa: BLE001
        pass
    return None


def _raw_headers(msg: Message, name: str) -> list[str]:
    lname = name.lower()
    try:
        items = msg.raw_items() if isinstance(msg, EmailMessage) else msg.items()
        return [str(v) for k, v in items if k.lower() == lname]
    except Exception:  # noqa: BLE001
        return []


def header_text(msg: Message, name: str, charset: str | None = None) -> str:
    """A header as readable text: the policy's decoding, or ours if that went wrong."""
    raw = _raw_header(msg, name)
    if raw is not None and len(raw) > MAX_STRICT_HEADER:
        return decode_header_value(raw[:MAX_STRICT_HEADER], charset)
    try:
        value = msg.get(name)
        if value is not None:
            text = str(value)
            if "\ufffd" not in text and not any("\udc80" <= c <= "\udcff" for c in text):
                return _clean(text)
    except Exception:  # noqa: BLE001
        pass
    return decode_header_value(raw, charset) if raw is not None else ""


# ---------------------------------------------------------------------- addresses


@dataclass(frozen=True)
class Person:
    name: str
    address: str

    def formatted(self) -> str:
        if self.name and self.address and self.name.lower() != self.address.lower():
            return f"{self.name} <{self.address}>"
        return self.address or self.name


_OBFUSCATED_AT = re.compile(r"^([^\s@<>()]+) at ([^\s@<>()]+\.[^\s@<>()]+)$")


def _person(name: str, address: str, charset: str | None) -> Person | None:
    name = fix_surrogates(name or "", charset).strip().strip('"').strip()
    address = fix_surrogates(address or "", charset).strip().strip("<>").strip()
    if "=?" in name:
        name = decode_header_value(name, charset)
    # Mailman archives write "user at example.com"
    match = _OBFUSCATED_AT.match(address)
    if match:
        address = f"{match.group(1)}@{match.group(2)}"
    if not name and not address:
        return None
    return Person(name=name, address=address.lower() if "@" in address else address)


def addresses(msg: Message, name: str, charset: str | None = None) -> list[Person]:
    """Every address in the header(s) ``name`` (all of them: some messages carry two
    Cc headers), decoded; never raises."""
    found: list[Person] = []
    seen: set[Person] = set()
    raws = _raw_headers(msg, name)
    headers: list[Any] = []
    if all(len(raw) <= MAX_STRICT_HEADER for raw in raws):
        try:
            headers = msg.get_all(name) or []
        except Exception:  # noqa: BLE001
            headers = []
    for index, raw in enumerate(raws):
        if index < len(headers):
            people = _header_addresses(headers[index], raw, charset)
        else:  # too long for the strict parser, or it failed
            people = tolerant_addresses(decode_header_value(raw, charset), charset)
        for person in people:
            if person not in seen:
                seen.add(person)
                found.append(person)
    return found


def _header_addresses(header: Any, raw: str, charset: str | None) -> list[Person]:
    try:
        addrs = getattr(header, "addresses", None)
        defects = getattr(header, "defects", ())
        clean = not any(isinstance(d, errors.InvalidHeaderDefect) for d in defects)
        if addrs is not None and clean:
            people = [_person(a.display_name, a.addr_spec, charset) for a in addrs]
            result = [p for p in people if p is not None]
            if all("@" in p.address for p in result):
                comment = re.search(r"\(([^()]+)\)\s*$", raw)
                if len(result) == 1 and not result[0].name and comment:
                    # old style "user@host (Full Name)"
                    name = decode_header_value(comment.group(1), charset).strip()
                    result = [Person(name=name, address=result[0].address)]
                return result
    except Exception:  # noqa: BLE001
        pass
    return tolerant_addresses(decode_header_value(raw, charset), charset)


def _split_address_list(value: str) -> list[str]:
    items: list[str] = []
    current: list[str] = []
    quoted = False
    angle = 0
    paren = 0
    escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"' and not angle:
            quoted = not quoted
        elif not quoted:
            if ch == "<":
                angle += 1
            elif ch == ">" and angle:
                angle -= 1
            elif ch == "(":
                paren += 1
            elif ch == ")" and paren:
                paren -= 1
            elif ch in ",;" and not angle and not paren:
                items.append("".join(current))
                current = []
                continue
        current.append(ch)
    items.append("".join(current))
    items = [item.strip() for item in items if item.strip()]
    merged: list[str] = []
    for item in items:
        # "Doe, John <j@x.com>": an unquoted comma inside a name
        if merged and "@" not in merged[-1] and "<" not in merged[-1] and "<" in item:
            merged[-1] = f"{merged[-1]}, {item}"
        else:
            merged.append(item)
    return merged


def tolerant_addresses(value: str, charset: str | None = None) -> list[Person]:
    """Addresses from a header the strict parser rejects: "a@b.c <d@e.f>" (the angle
    address is the address), "user at host (Name)", unquoted commas in names."""
    people: list[Person] = []
    for item in _split_address_list(value):
        angle = re.search(r"<([^<>]*)>", item)
        if angle:
            name = (item[: angle.start()] + item[angle.end() :]).strip()
            address = angle.group(1)
        else:
            comment = re.search(r"\(([^()]*)\)", item)
            name = comment.group(1) if comment else ""
            address = (item[: comment.start()] + item[comment.end() :]) if comment else item
        name = name.strip().strip('"').strip()
        address = address.strip()
        match = _OBFUSCATED_AT.match(address)
        if match:
            address = f"{match.group(1)}@{match.group(2)}"
        if " " in address and "@" not in address:
            name, address = name or address, ""
        person = _person(name, address, charset)
        if person is not None:
            people.append(person)
    return people


# ---------------------------------------------------------------- ids and threads


def normalize_message_id(value: str | None) -> str | None:
    """``<ABC@Example.com>`` → ``abc@example.com``; None when there is no id."""
    if not value:
        return None
    value = value.strip()
    match = re.search(r"<([^<>]+)>", value)
    ident = match.group(1) if match else value.split()[0] if value.split() else ""
    ident = re.sub(r"\s+", "", ident).strip("<>").lower()
    return ident or None


def parse_id_list(value: str | None) -> list[str]:
    """Message-IDs in a References / In-Reply-To header, in order, de-duplicated."""
    if not value:
        return []
    ids = re.findall(r"<([^<>]+)>", value)
    if not ids:
        ids = [w for w in value.split() if "@" in w]
    seen: list[str] = []
    for ident in ids:
        norm = normalize_message_id(ident)
        # An id without "@" is junk (git-send-email once wrote "References: <yes>"),
        # and one junk id shared by many messages would merge unrelated threads.
        if norm and "@" in norm and norm not in seen:
            seen.append(norm)
    return seen


_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|sv|vs|wg|antw|antwort|odp|tr|rif|r|ref|res|enc|doorst|"
    r"vl|vb|ynt|atb|fs|trs)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*|\[[^\]]{1,60}\]\s*)",
    re.IGNORECASE,
)


def normalize_subject(subject: str) -> tuple[str, bool]:
    """Subject without reply/forward prefixes and list tags, lowercased; and whether
    any reply/forward prefix was removed."""
    text = subject or ""
    had_prefix = False
    while True:
        match = _SUBJECT_PREFIX.match(text)
        if not match:
            break
        if not match.group(0).lstrip().startswith("["):
            had_prefix = True
        text = text[match.end() :]
    return re.sub(r"\s+", " ", text).strip().lower(), had_prefix


@dataclass
class ThreadFields:
    """What threading needs from a message's headers."""

    message_id: str | None
    references: list[str]
    in_reply_to: str | None
    subject: str
    date: str | None

    @classmethod
    def of(cls, msg: Message) -> ThreadFields:
        refs = parse_id_list(_raw_header(msg, "References"))
        irt_list = parse_id_list(_raw_header(msg, "In-Reply-To"))
        return cls(
            message_id=normalize_message_id(_raw_header(msg, "Message-ID")),
            references=refs,
            in_reply_to=irt_list[-1] if irt_list else None,
            subject=header_text(msg, "Subject"),
            date=_raw_header(msg, "Date"),
        )


@dataclass
class _Member:
    node: str
    fields: ThreadFields
    order: int
    subject_joined: bool = False


class ThreadIndex:
    """Conversations within one unit (an mbox, a Maildir, a single file).

    Messages are linked through Message-ID, In-Reply-To and every References entry
    (union-find), so a broken or reordered References header still lands in the right
    thread; a reply with no such headers ("Re: subject") joins the thread of an
    earlier message with the same normalised subject. A thread's id is the
    Message-ID of its root: the earliest message without parents when the unit has
    it, else the ancestor its members reference most (a root outside the unit), so
    the same conversation gets the same id from two exports.
    """

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}
        self._members: list[_Member] = []
        self._thread: dict[str, str | None] = {}
        self._finished = False

    def _find(self, item: str) -> str:
        parent = self._parent.setdefault(item, item)
        root = item
        while parent != root:
            root = parent
            parent = self._parent[root]
        while item != root:  # path compression
            item, self._parent[item] = self._parent[item], root
        return root

    def _union(self, a: str, b: str) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)

    def add(self, node: str, fields: ThreadFields) -> None:
        """Register a message under ``node``, a key unique within the unit."""
        node = "\x00" + node  # never equal to a Message-ID
        self._members.append(_Member(node, fields, len(self._members)))
        self._find(node)
        for ident in [fields.message_id, *fields.references, fields.in_reply_to]:
            if ident:
                self._union(node, ident)

    def finish(self) -> None:
        by_subject: dict[str, _Member] = {}
        for member in self._members:
            norm, _ = normalize_subject(member.fields.subject)
            if norm and norm not in by_subject:
                by_subject[norm] = member
        for member in self._members:
            f = member.fields
            if f.references or f.in_reply_to:
                continue
            norm, had_prefix = normalize_subject(f.subject)
            first = by_subject.get(norm) if norm and had_prefix else None
            if first is not None and first is not member:
                self._union(member.node, first.node)
                member.subject_joined = True
        components: dict[str, list[_Member]] = {}
        for member in self._members:
            components.setdefault(self._find(member.node), []).append(member)
        for members in components.values():
            thread_id = _thread_root(members)
            for member in members:
                self._thread[member.node] = thread_id
        self._finished = True

    def thread_id(self, node: str) -> str | None:
        if not self._finished:
            self.finish()
        return self._thread.get("\x00" + node)


def _thread_root(members: list[_Member]) -> str | None:
    roots = [
        m
        for m in members
        if m.fields.message_id and not m.fields.references and not m.fields.in_reply_to and not m.subject_joined
    ]
    if roots:

        def order(m: _Member) -> tuple[float, int]:
            moment = _parse_date(m.fields.date)
            return (moment.timestamp() if moment else float("inf"), m.order)

        return min(roots, key=order).fields.message_id
    votes: Counter[str] = Counter()
    for m in members:
        vote = m.fields.references[0] if m.fields.references else m.fields.in_reply_to
        if vote:
            votes[vote] += 1
    if votes:
        best = max(votes.values())
        return min(v for v, n in votes.items() if n == best)
    ids = sorted(m.fields.message_id for m in members if m.fields.message_id)
    return ids[0] if ids else None


# ------------------------------------------------------------------------- dates


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(re.sub(r"\s+", " ", value.strip()))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    try:
        return to_utc(moment)
    except (ValueError, OverflowError):
        return None


def message_date(msg: Message) -> tuple[datetime | None, str | None, str | None]:
    """(UTC date, where it came from, why the Date header was not used)."""
    error: str | None = None
    raw = _raw_header(msg, "Date")
    if raw is None:
        error = "missing Date header"
    else:
        moment = None
        try:
            header = msg.get("Date")
            moment = getattr(header, "datetime", None)
        except Exception:  # noqa: BLE001
            moment = None
        if isinstance(moment, datetime):
            try:
                return to_utc(moment), "date", None
            except (ValueError, OverflowError):
                pass
        moment = _parse_date(raw)
        if moment is not None:
            return moment, "date", None
        error = f"unparsable Date header: {fix_surrogates(raw).strip()[:100]!r}"
    # The newest Received header is stamped by the receiving server: a good stand-in.
    for received in _raw_headers(msg, "Received"):
        _, _, stamp = received.rpartition(";")
        moment = _parse_date(stamp)
        if moment is not None:
            return moment, "received", error
    return None, None, error


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
_TEXT_ATTACHMENT_TYPES = {
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
_TEXT_ATTACHMENT_EXTS = (
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
class _Attachment:
    filename: str
    content_type: str
    size: int
    part: Message


@dataclass
class _Body:
    segments: list[tuple[str, str]] = field(default_factory=list)  # (plain|html, text)
    attachments: list[_Attachment] = field(default_factory=list)
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


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:  # noqa: BLE001
        return None


def part_text(part: Message) -> str:
    """A text part decoded from its declared (or guessed) charset; never raises."""
    text = decode_bytes(part_bytes(part), _charset(part))
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _children(part: Message) -> list[Message]:
    try:
        payload = part.get_payload()
    except Exception:  # noqa: BLE001
        return []
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    if isinstance(payload, Message):
        return [payload]
    return []


def _walk(
    part: Message,
    body: _Body,
    depth: int,
    body_allowed: bool,
    charset: str | None,
) -> None:
    if depth > MAX_MIME_DEPTH:
        return
    ctype = _content_type(part)
    if part.is_multipart():
        children = _children(part)
        if ctype == "multipart/alternative":
            chosen: _Body | None = None
            fallback: _Body | None = None
            subs: list[_Body] = []
            for child in children:
                sub = _Body()
                _walk(child, sub, depth + 1, body_allowed, charset)
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
            _walk(child, body, depth + 1, allowed, charset)
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
            _walk(repaired, body, depth + 1, body_allowed, charset)
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
        inner = _children(part)
        subject = header_text(inner[0], "Subject") if inner else ""
        filename = filename or f"{subject or 'message'}.eml"
    if not filename:
        ext = mimetypes.guess_extension(ctype) or ".bin"
        filename = f"part-{len(body.attachments) + 1}{ext}"
    body.attachments.append(_Attachment(filename, ctype, size, part))


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
        return sum(len(c.as_bytes()) for c in _children(part))
    except Exception:  # noqa: BLE001
        return 0


# ------------------------------------------------------------------- quote removal


_ATTRIBUTION = re.compile(
    r"^(On\b.+\bwrote|Am\b.+\bschrieb\b.*|Le\b.+\ba écrit|El\b.+\bescribió|"
    r"Il giorno\b.+\bha scritto|Op\b.+\bschreef\b.*|Em\b.+\bescreveu|"
    r"\S.*\b(wrote|writes|schrieb|a écrit|escribió|scrisse)):?\s*$",
    re.IGNORECASE,
)
_ORIGINAL_MARKER = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|"
    r"Mensaje original|Messaggio originale|Oorspronkelijk bericht|Originalmeddelande)"
    r"\s*-{2,}|_{20,})\s*$",
    re.IGNORECASE,
)
_HEADER_BLOCK_FROM = re.compile(r"^\s*\**(From|Von|De|Da|Van|Från)\**\s*:\s*\S", re.IGNORECASE)
_HEADER_BLOCK_NEXT = re.compile(
    r"^\s*\**(Sent|Date|Gesendet|Datum|Envoyé|Enviado|Inviato|Verzonden|Skickat|To|An|À)"
    r"\**\s*:",
    re.IGNORECASE,
)
_FORWARD_MARKER = re.compile(
    r"^\s*(-+\s*Forwarded message\s*-+|Begin forwarded message:|-+\s*Weitergeleitete "
    r"Nachricht\s*-+|-+\s*Message transféré\s*-+)\s*$",
    re.IGNORECASE,
)


def strip_quotes(text: str, is_forward: bool = False) -> str:
    """The new text of a message: without quoted replies, attribution lines, the
    Outlook "Original Message" tail and the signature. Forwarded content is kept: it
    is usually the point of a forward."""
    lines = text.split("\n")
    out: list[str] = []
    forwarded = False
    count = len(lines)
    i = 0
    while i < count:
        line = lines[i]
        stripped = line.strip()
        if _FORWARD_MARKER.match(line):
            forwarded = True
            out.append(line)
            i += 1
            continue
        if not forwarded:
            if line.rstrip("\r") in ("-- ", "--", "-- \u00a0") or stripped == "-- ":
                break
            if _ORIGINAL_MARKER.match(line) and not is_forward:
                break
            if (
                not is_forward
                and _HEADER_BLOCK_FROM.match(line)
                and any(_HEADER_BLOCK_NEXT.match(n) for n in lines[i + 1 : i + 5])
                and _quoted_tail_follows(out)
            ):
                break
        if stripped.startswith(">"):
            i += 1
            continue
        if stripped and _is_attribution(lines, i):
            i += 2 if not _ATTRIBUTION.match(stripped) else 1
            continue
        out.append(line)
        i += 1
    return _tidy("\n".join(out))


def _quoted_tail_follows(out: list[str]) -> bool:
    # An Outlook-style header block ends the new text unless it is the very start.
    return any(line.strip() for line in out)


def _is_attribution(lines: list[str], i: int) -> bool:
    line = lines[i].strip()
    if len(line) > 300:  # checked first: the pattern backtracks on very long lines
        return False
    following = [ln.strip() for ln in lines[i + 1 : i + 4] if ln.strip()]
    if _ATTRIBUTION.match(line):
        # only when quoted text follows (or nothing does)
        return not following or following[0].startswith(">")
    if (
        line.lower().startswith(("on ", "am ", "le ", "el "))
        and i + 1 < len(lines)
        and len(lines[i + 1]) < 300
        and _ATTRIBUTION.match(f"{line} {lines[i + 1].strip()}")
    ):
        rest = [ln.strip() for ln in lines[i + 2 : i + 5] if ln.strip()]
        return not rest or rest[0].startswith(">")
    return False


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _html_without_quotes(html: str, is_forward: bool) -> str:
    if too_many_tags(html):
        return html  # text-level quote removal still applies
    from bs4 import BeautifulSoup  # imported on use: bs4 is slow to import

    soup = BeautifulSoup(html, "html.parser")
    selectors = [
        ".gmail_signature",
        ".moz-signature",
        ".moz-cite-prefix",
        "#divRplyFwdMsg",
        "#appendonsend",
        ".yahoo_quoted",
        "blockquote[type=cite]",
    ]
    if not is_forward:
        selectors += [".gmail_quote", "blockquote"]
    for selector in selectors:
        try:
            for tag in soup.select(selector):
                tag.decompose()
        except Exception:  # noqa: BLE001
            continue
    return str(soup)


def html_text(html: str) -> str:
    from connectors.htmltext import html_to_text

    return html_to_text(html)


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
    raw = _raw_header(msg, "X-Gmail-Labels")
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
    charset = _charset(msg) or (_first_charset(msg) if _has_raw_8bit(msg) else None)
    subject = header_text(msg, "Subject", charset)
    senders = addresses(msg, "From", charset) or addresses(msg, "Sender", charset)
    to = addresses(msg, "To", charset)
    cc = addresses(msg, "Cc", charset)
    bcc = addresses(msg, "Bcc", charset)
    fields = ThreadFields.of(msg)
    timestamp, date_source, date_error = message_date(msg)
    if timestamp is None and context.fallback_date is not None:
        timestamp, date_source = to_utc(context.fallback_date), "mbox"

    body = _Body()
    _walk(msg, body, 0, True, charset)
    full_parts: list[str] = []
    new_parts: list[str] = []
    _, is_forward = _forward_subject(subject)
    for kind, text in body.segments:
        if kind == "html":
            full_parts.append(html_text(text))
            try:
                trimmed = _html_without_quotes(text, is_forward)
            except Exception:  # noqa: BLE001
                trimmed = text
            new_parts.append(strip_quotes(html_text(trimmed), is_forward))
        else:
            full_parts.append(_tidy(text))
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
            charset = _charset(part)
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


def _is_text_bearing(att: _Attachment) -> bool:
    """Text we can extract: by content type, or by file name when the type is generic
    (many clients send every attachment as application/octet-stream)."""
    if att.content_type in _TEXT_ATTACHMENT_TYPES:
        return True
    by_name = att.filename.lower().endswith(_TEXT_ATTACHMENT_EXTS)
    return by_name and (att.content_type in _GENERIC_TYPES or att.content_type.startswith("text/"))


def _is_pdf(att: _Attachment) -> bool:
    return att.content_type in ("application/pdf", "application/x-pdf") or att.filename.lower().endswith(".pdf")


def _is_image(att: _Attachment) -> bool:
    """A picture OCR may read: by content type, or by name when the type is generic."""
    if att.content_type.startswith("image/"):
        return True
    return att.content_type in _GENERIC_TYPES and is_image_name(att.filename)


def _attachment_documents(
    att: _Attachment, index: int, parent: Document, context: MessageContext, depth: int
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
        inner = _children(att.part)
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
    text = attachment_text(data, att.content_type, att.filename, _charset(att.part))
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
