"""Maildir folders: cur/ and new/ (never tmp/), Maildir++ sub-folders and nested trees.

A Maildir is one unit: its messages are threaded together. Layouts in the wild:

* plain Maildir: ``cur/ new/ tmp/``;
* Maildir++ (Dovecot, Courier): the root is INBOX and sub-folders are dot-folders,
  ``.Sent/cur``, ``.Work.Projects/cur`` (hierarchy separated by dots);
* trees (mbsync "Verbatim", notmuch): ``bar/cur``, ``bar/baz/new``, and message files
  lying directly in a folder, which are taken when they look like RFC 822 messages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from connectors.base import Connector, Document, ItemError
from connectors.email.message import MessageContext, message_documents
from connectors.email.parse import parse_headers, parse_message
from connectors.email.sniff import MAILDIR_INFO, looks_like_rfc822, read_head
from connectors.email.threads import ThreadFields, ThreadIndex
from connectors.kinds import KIND_EMAIL

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 32
_HEADER_READ = 256 * 1024
# The standard Maildir info flags (https://cr.yp.to/proto/maildir.html)
FLAG_NAMES = {
    "D": "draft",
    "F": "flagged",
    "P": "passed",
    "R": "replied",
    "S": "seen",
    "T": "trashed",
}
_MESSAGE_DIRS = ("new", "cur")


def is_maildir(path: Path) -> bool:
    return any((path / sub).is_dir() for sub in _MESSAGE_DIRS)


def parse_flags(name: str) -> list[str]:
    """``1234.host:2,FRS`` → ``["flagged", "replied", "seen"]``."""
    match = MAILDIR_INFO.search(name)
    if not match:
        return []
    return sorted({FLAG_NAMES[c] for c in match.group(1) if c in FLAG_NAMES})


def message_key(relative: Path) -> str:
    """Stable key of a message file: its path without cur/ or new/ (a message moves
    from new/ to cur/ when read) and without the flags suffix (which changes)."""
    parts = [p for p in relative.parts[:-1] if p not in _MESSAGE_DIRS]
    name = MAILDIR_INFO.sub("", relative.name)
    return "/".join([*parts, name])


def _scandir(path: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as entries:
            return sorted(entries, key=lambda e: e.name)
    except OSError:
        return []


def iter_maildir_files(root: Path) -> Iterator[tuple[Path, str]]:
    """(message file, folder name) for every message in a Maildir tree."""
    plusplus = any(
        e.name.startswith(".") and e.is_dir(follow_symlinks=False) and is_maildir(Path(e.path)) for e in _scandir(root)
    )
    root_folder = "INBOX" if plusplus else root.name

    def visit(directory: Path, folder: str, depth: int) -> Iterator[tuple[Path, str]]:
        if depth > MAX_DEPTH:
            return
        entries = _scandir(directory)
        for sub in _MESSAGE_DIRS:
            sub_dir = directory / sub
            if sub_dir.is_dir() and not sub_dir.is_symlink():
                for entry in _scandir(sub_dir):
                    if not entry.name.startswith(".") and entry.is_file(follow_symlinks=False):
                        yield Path(entry.path), folder
        for entry in entries:
            name = entry.name
            if entry.is_dir(follow_symlinks=False):
                if name in ("cur", "new", "tmp"):
                    continue
                child = Path(entry.path)
                if name.startswith("."):
                    if not is_maildir(child):
                        continue  # .notmuch, .git and other tools' folders
                    # Maildir++: ".Work.Projects" is "Work/Projects", beside INBOX
                    sub_folder = "/".join(p for p in name[1:].split(".") if p)
                    if depth > 0:
                        sub_folder = f"{folder}/{sub_folder}"
                else:
                    sub_folder = f"{folder}/{name}"
                yield from visit(child, sub_folder, depth + 1)
            elif (
                entry.is_file(follow_symlinks=False)
                and not name.startswith(".")
                and looks_like_rfc822(read_head(Path(entry.path)))
            ):
                yield Path(entry.path), folder  # a message lying in the folder itself

    yield from visit(root, root_folder, 0)


def read_header_block(path: Path) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(_HEADER_READ)
    for sep in (b"\n\n", b"\r\n\r\n"):
        end = data.find(sep)
        if end >= 0:
            return data[:end]
    return data


class MaildirConnector(Connector):
    """A Maildir folder (cur/new), including Maildir++ and nested sub-folders."""

    name = "maildir"
    kind = KIND_EMAIL
    priority = 20
    claims_directories = True
    description = "Maildir folders (cur/new, Maildir++ and nested sub-folders)"

    def claims(self, path: Path) -> bool:
        if not path.is_dir():
            return False
        if is_maildir(path):
            return True
        return any(
            e.name.startswith(".") and e.is_dir(follow_symlinks=False) and is_maildir(Path(e.path))
            for e in _scandir(path)
        )

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        files = list(iter_maildir_files(path))
        threads = ThreadIndex()
        for file, _ in files:
            node = file.relative_to(path).as_posix()
            try:
                threads.add(node, ThreadFields.of(parse_headers(read_header_block(file))))
            except Exception:  # noqa: BLE001 - reported when the message is parsed
                continue
        threads.finish()
        seen: set[str] = set()
        for file, folder in files:
            relative = file.relative_to(path)
            key = message_key(relative)
            n, base = 1, key
            while key in seen:
                n += 1
                key = f"{base}#{n}"
            seen.add(key)
            try:
                size = file.stat().st_size
                if size > MAX_MESSAGE_BYTES:
                    yield ItemError(str(file), f"message larger than {MAX_MESSAGE_BYTES} bytes, skipped")
                    continue
                msg = parse_message(file.read_bytes())
                if not msg.keys():
                    yield ItemError(str(file), "no mail headers found")
                    continue
                extra: dict[str, object] = {
                    "flags": parse_flags(file.name),
                    "path": relative.as_posix(),
                }
                if relative.parts and "new" in relative.parts[:-1]:
                    extra["new"] = True
                context = MessageContext(folder=folder, thread_id=threads.thread_id(relative.as_posix()), extra=extra)
                docs = message_documents(msg, key, context)
            except Exception as exc:  # noqa: BLE001 - one bad message, not the folder
                yield ItemError(str(file), f"cannot parse message: {type(exc).__name__}: {exc}")
                continue
            yield from docs
