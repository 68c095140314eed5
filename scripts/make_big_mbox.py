#!/usr/bin/env python3
"""Write a large mbox for the streaming benchmark by repeating real messages.

Messages come from the email corpus (mbox files, Maildirs, .eml and extensionless
RFC 822 files). Each repetition ("round") rewrites every Message-ID, In-Reply-To and
References id to a fresh one, ``<id.rN@domain>``, so that no two messages share an id
while the thread structure of the originals is kept within each round. Bodies are
written with mboxrd ``>From`` quoting.

    python scripts/make_big_mbox.py /tmp/big.mbox              # 1 GB
    python scripts/make_big_mbox.py /tmp/small.mbox --size 20M
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpora" / "email"
MAX_SOURCE_MESSAGE = 2 * 1024 * 1024  # skip giant samples so rounds stay varied

_ID = re.compile(rb"<([^<>\s]+)>")
_ID_HEADERS = re.compile(rb"^(message-id|in-reply-to|references)\s*:", re.IGNORECASE)
_FROM_LINE = re.compile(rb"^(>*From )", re.MULTILINE)


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 1G, 500M, 20000)")
    factor = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}[match.group(2)]
    return int(float(match.group(1)) * factor)


def corpus_messages(corpus: Path) -> list[bytes]:
    """Raw bytes of every message the corpus holds, in a stable order."""
    sys.path.insert(0, str(REPO))
    from connectors.email.mbox import split_mbox
    from connectors.email.sniff import looks_like_rfc822, read_head

    messages: list[bytes] = []
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        name = path.name.lower()
        try:
            if name.endswith(".mbox") or name == "mbox":
                with open(path, "rb") as handle:
                    messages.extend(m.data for m in split_mbox(handle))
            elif name.endswith(".eml") or looks_like_rfc822(read_head(path)):
                messages.append(path.read_bytes())
        except OSError:
            continue
    return [m for m in messages if 0 < len(m) <= MAX_SOURCE_MESSAGE]


def _split_headers(raw: bytes) -> tuple[list[bytes], bytes]:
    raw = raw.replace(b"\r\n", b"\n")
    head, sep, body = raw.partition(b"\n\n")
    lines: list[bytes] = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and lines:
            lines[-1] += b"\n" + line
        else:
            lines.append(line)
    return lines, body if sep else b""


def renumber(raw: bytes, round_no: int, serial: int, used: set[bytes]) -> bytes:
    """The message with fresh ids for this round (and an id if it had none).

    ``used`` holds the Message-IDs already written in this round: a corpus message
    that shares its id with another (the corpus has deliberate duplicates) gets a
    serial number too, so every message in the output has an id of its own.
    """
    headers, body = _split_headers(raw)
    suffix = f".r{round_no}".encode()

    def fresh(match: re.Match[bytes], extra: bytes = b"") -> bytes:
        local, _, domain = match.group(1).partition(b"@")
        return b"<" + local + suffix + extra + (b"@" + domain if domain else b"") + b">"

    out: list[bytes] = []
    has_id = False
    for header in headers:
        if _ID_HEADERS.match(header):
            if header[:10].lower() == b"message-id" and _ID.search(header) and not has_id:
                has_id = True
                new = _ID.sub(fresh, header, count=1)
                if new in used:
                    new = _ID.sub(lambda m: fresh(m, f".{serial}".encode()), header, count=1)
                used.add(new)
                header = new
            else:
                header = _ID.sub(fresh, header)
        out.append(header)
    if not has_id:
        out = [h for h in out if h[:11].lower() != b"message-id:"]
        # first, not last: a message may lack the blank line that ends its headers
        out.insert(0, f"Message-ID: <generated-{serial}.r{round_no}@satchel.invalid>".encode())
    return b"\n".join(out) + b"\n\n" + body


def generate(path: Path, size: int, messages: list[bytes]) -> Iterator[int]:
    """Write messages round after round until ``size`` bytes; yields progress."""
    if not messages:
        raise SystemExit("no messages found in the corpus")
    written = 0
    count = 0
    round_no = 0
    with open(path, "wb") as out:
        while written < size:
            round_no += 1
            used: set[bytes] = set()
            for serial, raw in enumerate(messages):
                message = renumber(raw, round_no, serial, used)
                body = _FROM_LINE.sub(rb">\1", message)  # mboxrd quoting
                if not body.endswith(b"\n"):
                    body += b"\n"
                stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(1e9 + count * 60))
                chunk = f"From satchel@example.invalid {stamp}\n".encode() + body + b"\n"
                out.write(chunk)
                written += len(chunk)
                count += 1
                if written >= size:
                    break
            yield written
    print(f"wrote {count} messages, {written} bytes, {round_no} rounds to {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="where to write the mbox")
    parser.add_argument(
        "--size",
        type=parse_size,
        default=parse_size("1G"),
        help="target size, e.g. 1G (default), 500M, 20000",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help=f"folder of real mail to repeat (default {DEFAULT_CORPUS})",
    )
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        parser.error(f"corpus folder not found: {args.corpus}")
    messages = corpus_messages(args.corpus)
    print(f"{len(messages)} source messages from {args.corpus}", file=sys.stderr)
    for _ in generate(args.path, args.size, messages):
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
