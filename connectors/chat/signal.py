"""Signal chats exported with signal-export (``sigexport``) and similar tools.

signal-export writes one folder per chat holding ``chat.md`` (one message per
``[YYYY-MM-DD HH:MM:SS] Sender: body`` line, a quoted reply as ``> `` lines,
reactions as ``(- name: emoji -)``, attachments as Markdown links into ``media/``)
and ``data.json`` (JSON Lines, one ``{"date", "sender", "body", "quote",
"attachments", ...}`` object per message). Older tools wrote the same lines as
``[YYYY-MM-DD, HH:MM] Sender: body`` text files.

WhatsApp's iOS layout in ISO locales (``[2019-04-16 02:09] Name: text``) looks the
same, so a text file counts as Signal only when it is a ``chat.md`` or its path
names Signal (a ``signal`` folder or file name); this connector is asked before the
WhatsApp one. Times are the computer's wall clock, kept as local time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.base import Connector, Document, ItemError, to_utc
from connectors.chat.common import (
    ChatExportError,
    ChatMessage,
    clean_key,
    decode_bytes,
    first_lines,
    month_documents,
    platform_title,
    read_head,
    strip_marks,
)
from connectors.kinds import KIND_CHAT

HEADER = re.compile(r"\[(\d{4})-(\d{2})-(\d{2}),? (\d{1,2}):(\d{2})(?::(\d{2}))?\] (?:([^:\n]{1,100}?):(?: |$))?")
_REACTIONS = re.compile(r"^\(- .* -\)$")
_ATTACHMENT = re.compile(r"!?\[([^\]\n]*)\]\((?:\.\./|\./)?[^)\n]*\)")
_STICKER = re.compile(r"^\(\( (.*) \)\)$")
_JSON_HEAD = re.compile(r'^\s*\{\s*"date"\s*:\s*"[^"]*"\s*,\s*"sender"\s*:')


def _mentions_signal(path: Path) -> bool:
    """Whether the file, its folder or the folder above names Signal."""
    return any("signal" in part.lower() for part in path.parts[-3:])


def _chat_name(path: Path) -> str:
    if path.name.lower() in ("chat.md", "data.json") and path.parent.name:
        return path.parent.name
    return path.stem


def _quote_note(quote: str) -> str | None:
    text = " ".join(line.lstrip(">").strip() for line in quote.strip().splitlines()).strip()
    if not text:
        return None
    short = text if len(text) <= 80 else text[:77] + "..."
    return f'"{short}"'


def _clean_body(lines: list[str]) -> tuple[str, str | None, list[str]]:
    """(body text, quoted-reply note, attachment names) from a message's md lines."""
    lines = [line.rstrip() for line in lines]
    while lines and not lines[0]:
        lines.pop(0)
    quote: list[str] = []
    while lines and lines[0].startswith(">"):
        quote.append(lines.pop(0))
    media: list[str] = []
    kept: list[str] = []
    for line in lines:
        if _REACTIONS.match(line):
            continue
        sticker = _STICKER.match(line)
        if sticker:
            kept.append(f"[sticker {sticker.group(1)}]")
            continue
        if "](" in line:

            def attach(m: re.Match[str]) -> str:
                media.append(m.group(1))
                return f"[attachment: {m.group(1)}]"

            line = _ATTACHMENT.sub(attach, line).replace("  [attachment:", " [attachment:")
        kept.append(line)
    body = "\n".join(kept).strip()
    return body, _quote_note("\n".join(quote)) if quote else None, media


def parse_signal_text(text: str, where: str) -> tuple[list[ChatMessage], list[ItemError]]:
    text = strip_marks(text)
    if not text.strip():
        raise ChatExportError(f"empty file: {where} contains no messages")
    lines = text.splitlines()
    heads: list[tuple[int, re.Match[str]]] = []
    for index, line in enumerate(lines):
        if line.startswith("["):
            m = HEADER.match(line)
            if m is not None:
                heads.append((index, m))
    if not heads:
        raise ChatExportError(f"no Signal message lines found in {where}")
    messages: list[ChatMessage] = []
    errors: list[ItemError] = []
    for n, (index, m) in enumerate(heads):
        end = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        year, month, day, hour, minute = (int(m.group(i)) for i in range(1, 6))
        second = int(m.group(6)) if m.group(6) else 0
        try:
            moment = to_utc(datetime(year, month, day, hour, minute, second))
        except ValueError as exc:
            errors.append(ItemError(where, f"unreadable date: {exc}", f"line {index + 1}"))
            continue
        assert moment is not None
        author = m.group(7).strip() if m.group(7) else None
        rest = lines[index][m.end() :]
        body, quote, media = _clean_body([rest, *lines[index + 1 : end]])
        messages.append(ChatMessage(timestamp=moment, author=author, text=body, media=media, reply_to=quote))
    return messages, errors


def parse_signal_json(text: str, where: str) -> tuple[list[ChatMessage], list[ItemError]]:
    """signal-export's ``data.json``: JSON Lines (or a JSON array) of messages."""
    text = strip_marks(text).strip()
    if not text:
        raise ChatExportError(f"empty file: {where} contains no messages")
    records: list[tuple[int, Any]] = []
    errors: list[ItemError] = []
    if text.startswith("["):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ChatExportError(f"truncated or invalid JSON in {where}: {exc.msg}") from None
        records = list(enumerate(loaded if isinstance(loaded, list) else [], start=1))
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                errors.append(ItemError(where, f"unreadable JSON line: {exc.msg}", f"line {number}"))
    messages: list[ChatMessage] = []
    for number, rec in records:
        if not isinstance(rec, dict) or "date" not in rec:
            errors.append(ItemError(where, "not a Signal message object", f"line {number}"))
            continue
        try:
            moment = to_utc(datetime.fromisoformat(str(rec["date"])))
        except ValueError as exc:
            errors.append(ItemError(where, f"unreadable date: {exc}", f"line {number}"))
            continue
        assert moment is not None
        body = str(rec.get("body") or "").strip()
        if rec.get("deleted"):
            body = "(This message was deleted)"
        media = [str(a.get("name") or a.get("path") or "") for a in rec.get("attachments") or [] if isinstance(a, dict)]
        extras = [f"[attachment: {name}]" for name in media if name]
        sticker = rec.get("sticker")
        if isinstance(sticker, dict) and sticker.get("emoji"):
            extras.append(f"[sticker {sticker['emoji']}]")
        elif isinstance(sticker, str) and sticker:
            extras.append(f"[sticker {sticker}]")
        quote = rec.get("quote")
        messages.append(
            ChatMessage(
                timestamp=moment,
                author=str(rec.get("sender") or "") or None,
                text=" ".join(p for p in (body, *extras) if p),
                media=[m for m in media if m],
                reply_to=_quote_note(quote) if isinstance(quote, str) and quote.strip() else None,
            )
        )
    if not messages and not errors:
        raise ChatExportError(f"no Signal messages found in {where}")
    return messages, errors


def _looks_like_signal_json(head: str) -> bool:
    first = first_lines(head, 1)
    if not first:
        return False
    try:
        obj = json.loads(first[0])
    except json.JSONDecodeError:
        return _JSON_HEAD.match(head) is not None
    return isinstance(obj, dict) and {"date", "sender", "body"} <= obj.keys()


class SignalConnector(Connector):
    """signal-export chats (``chat.md``, ``data.json``) and Signal text exports."""

    name = "signal"
    kind = KIND_CHAT
    patterns = ("chat.md", "data.json", "*.txt", "*.md", "*.json", "*.jsonl")
    # Above WhatsApp: both read "[date time] Name: text" lines.
    priority = 11
    description = "Signal chat exports (signal-export chat.md / data.json)"

    def claims(self, path: Path) -> bool:
        if path.is_dir():
            return False
        name = path.name.lower()
        suffix = path.suffix.lower()
        if suffix in (".json", ".jsonl"):
            if name != "data.json" and not _mentions_signal(path):
                return False
            return _looks_like_signal_json(read_head(path))
        if suffix not in (".md", ".txt"):
            return False
        if name != "chat.md" and not _mentions_signal(path):
            return False
        lines = first_lines(read_head(path), 1)
        return bool(lines) and HEADER.match(lines[0]) is not None

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        text = decode_bytes(path.read_bytes())
        where = str(path)
        if path.suffix.lower() in (".json", ".jsonl"):
            messages, errors = parse_signal_json(text, where)
        else:
            messages, errors = parse_signal_text(text, where)
        yield from errors
        chat = _chat_name(path)
        yield from month_documents(
            messages,
            platform="signal",
            chat=chat,
            chat_id=None,
            key_prefix=clean_key(chat),
            title=platform_title("Signal", chat),
            time_zone="local",
        )
