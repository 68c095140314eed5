"""Cheap looks at a file's first bytes: is it an mbox, an RFC 822 message, an OLE file?

``claims()`` runs for every file in a tree, so these read a few KB at most and only
for files whose names do not already say what they are.
"""

from __future__ import annotations

import re
from pathlib import Path

SNIFF_BYTES = 8192
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# Maildir names end in an info suffix (":2,FRS", "!2,S" where ":" is not allowed).
MAILDIR_INFO = re.compile(r"[:!;]2,([A-Za-z]*)$")

_HEADER_NAME = re.compile(rb"^([!-9;-~]+)[ \t]*:")
# Headers that say "this is mail" on their own, and ones that only help.
_STRONG = {
    b"received",
    b"message-id",
    b"return-path",
    b"delivered-to",
    b"mime-version",
    b"x-original-to",
    b"in-reply-to",
    b"references",
    b"dkim-signature",
    b"x-mailer",
    b"envelope-to",
    b"x-gmail-labels",
    b"thread-index",
}
_WEAK = {
    b"from",
    b"to",
    b"cc",
    b"subject",
    b"date",
    b"reply-to",
    b"sender",
    b"content-type",
    b"content-transfer-encoding",
    b"x-mozilla-status",
    b"bcc",
}


def read_head(path: Path, size: int = SNIFF_BYTES) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError:
        return b""


def looks_extensionless(name: str) -> bool:
    """Whether a file name carries no real extension: "Inbox", "1382298587.001724:2,",
    "mail_test_1", "msg-1-1:2,S". Real extensions are short and alphabetic."""
    if MAILDIR_INFO.search(name):
        return True
    suffix = Path(name).suffix
    if not suffix or suffix == ".":
        return True
    ext = suffix[1:]
    return not ext.isalnum() or ext.isdigit() or len(ext) > 8


def looks_like_rfc822(head: bytes) -> bool:
    """Whether bytes open with an RFC 822 header block ("From:", "Received:", ...).

    An mbox (first line "From " without a colon) is not a message by this test.
    """
    if not head or b"\x00" in head or head.startswith(b"From "):
        return False
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    lines = head.split(b"\n")
    if len(head) >= SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    score = 0
    fields = 0
    for line in lines:
        line = line.rstrip(b"\r")
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            if fields == 0:
                return False
            continue
        match = _HEADER_NAME.match(line)
        if not match:
            break  # garbage after the headers: judge on what came before
        fields += 1
        name = match.group(1).lower()
        if name in _STRONG:
            score += 2
        elif name in _WEAK:
            score += 1
    return score >= 2


def is_ole(head: bytes) -> bool:
    return head.startswith(OLE_MAGIC)
