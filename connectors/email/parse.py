"""Raw bytes into a message object, with the limits that keep hostile mail (deep MIME nesting,
huge headers) from exhausting the parser."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import cast

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
