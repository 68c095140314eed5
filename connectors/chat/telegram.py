"""Telegram Desktop "Export chat history" in JSON (``result.json``).

Two shapes: a single chat (``{"name", "type", "id", "messages": [...]}``) and a
full-account export (``{"chats": {"list": [chat, ...]}, "left_chats": {...}}``).
A message's ``text`` is a string or a list of strings and entity objects
(``{"type": "bold", "text": "..."}``); service messages (group created, member
added, call) have ``actor`` and ``action`` instead of ``from``. Times come from
``date_unixtime`` (a true instant) where the export has it, else from ``date``,
the exporting computer's wall clock, taken as local time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.base import MIN_IMAGE_BYTES, Connector, Document, ImageRef, ItemError, is_image_name
from connectors.chat.common import (
    ChatExportError,
    ChatMessage,
    clean_key,
    epoch_to_utc,
    json_head,
    load_json_export,
    month_documents,
    parse_iso,
    platform_title,
)
from connectors.kinds import KIND_CHAT

_MESSAGES_LIST = re.compile(r'"messages"\s*:\s*\[')
_TELEGRAM_DATE = re.compile(r'"date_unixtime"\s*:|"date"\s*:\s*"\d{4}-\d\d-\d\dT')
_CHAT_TYPE = re.compile(
    r'"type"\s*:\s*"(?:personal_chat|bot_chat|private_group|private_supergroup|'
    r'public_supergroup|private_channel|public_channel|saved_messages|replies)"'
)
_ACCOUNT = re.compile(
    r'"chats"\s*:\s*\{\s*"about"|"chats"\s*:\s*\{\s*"list"|'
    r'"personal_information"\s*:\s*\{'
)
_ABOUT = re.compile(r'"about"\s*:\s*"[^"]*Telegram')

_MEDIA_KEYS = ("photo", "file", "thumbnail")
_FILE_NOT_INCLUDED = "(File not included"


def looks_like_telegram(head: str) -> bool:
    """Sniff the start of a JSON file for a Telegram Desktop export."""
    if _ACCOUNT.search(head) or _ABOUT.search(head):
        return True
    if _MESSAGES_LIST.search(head) is None:
        return False
    return _TELEGRAM_DATE.search(head) is not None or _CHAT_TYPE.search(head) is not None


def flatten_text(value: Any) -> str:
    """Telegram's ``text``: a string, or a list of strings and entity objects."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts: list[str] = []
        for part in value:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict):
                text = part.get("text", "")
                if part.get("type") == "text_link" and part.get("href"):
                    text = f"{text} ({part['href']})"
                parts.append(str(text))
        return "".join(parts)
    return ""


def _moment(msg: dict[str, Any]) -> tuple[datetime, bool]:
    """(aware UTC datetime, whether it is a true instant)."""
    unix = msg.get("date_unixtime")
    if unix not in (None, ""):
        return epoch_to_utc(int(unix)), True
    date = msg.get("date")
    if isinstance(date, str) and date:
        return parse_iso(date), False
    if isinstance(date, int | float):
        return epoch_to_utc(date), True
    raise ValueError("message has no date")


def _service_text(msg: dict[str, Any]) -> str:
    actor = msg.get("actor") or ""
    action = str(msg.get("action") or "service message").replace("_", " ")
    details: list[str] = []
    for key in ("title", "members", "message_id", "duration_seconds", "discard_reason"):
        value = msg.get(key)
        if value in (None, "", []):
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value if v)
        details.append(f"{key.replace('_', ' ')}: {value}")
    text = flatten_text(msg.get("text"))
    out = f"{actor} {action}".strip()
    if details:
        out += " (" + "; ".join(details) + ")"
    if text:
        out += ": " + text
    return out


def parse_chat(chat: dict[str, Any], where: str) -> tuple[list[ChatMessage], list[ItemError], bool]:
    """A chat's messages, the per-message errors and whether all times were instants."""
    raw_messages = chat.get("messages")
    if not isinstance(raw_messages, list):
        raise ChatExportError(f"{where}: chat has no message list")
    authors: dict[Any, str] = {}
    for raw in raw_messages:
        if isinstance(raw, dict) and raw.get("id") is not None:
            author = raw.get("from") or raw.get("actor")
            if author:
                authors[raw["id"]] = str(author)
    messages: list[ChatMessage] = []
    errors: list[ItemError] = []
    all_instants = True
    for index, raw in enumerate(raw_messages):
        if not isinstance(raw, dict):
            errors.append(ItemError(where, "message is not an object", f"message {index}"))
            continue
        try:
            moment, instant = _moment(raw)
        except (ValueError, TypeError, OverflowError) as exc:
            errors.append(ItemError(where, f"unreadable date: {exc}", f"message {raw.get('id')}"))
            continue
        all_instants = all_instants and instant
        media: list[str] = []
        for key in _MEDIA_KEYS:
            value = raw.get(key)
            if isinstance(value, str) and value and not value.startswith(_FILE_NOT_INCLUDED):
                media.append(value.rsplit("/", 1)[-1])
                break
        if raw.get("type") == "service":
            messages.append(
                ChatMessage(
                    timestamp=moment,
                    author=None,
                    text=_service_text(raw),
                    media=media,
                    msg_id=str(raw.get("id")),
                )
            )
            continue
        author = raw.get("from")
        if not author and raw.get("from_id"):
            author = "Deleted Account"  # Telegram exports a deleted user as "from": null
        text = flatten_text(raw.get("text"))
        extras: list[str] = []
        if raw.get("forwarded_from"):
            extras.append(f"[forwarded from {raw['forwarded_from']}]")
        if isinstance(raw.get("poll"), dict):
            question = raw["poll"].get("question", "")
            answers = ", ".join(str(a.get("text", "")) for a in raw["poll"].get("answers", []) if isinstance(a, dict))
            extras.append(f"[poll: {question}" + (f" — {answers}]" if answers else "]"))
        if raw.get("sticker_emoji"):
            extras.append(f"[sticker {raw['sticker_emoji']}]")
        elif raw.get("media_type"):
            extras.append(f"[{str(raw['media_type']).replace('_', ' ')}]")
        elif raw.get("photo"):
            extras.append("[photo]")
        elif raw.get("file"):
            extras.append(f"[file: {raw.get('file_name') or str(raw['file']).rsplit('/', 1)[-1]}]")
        if isinstance(raw.get("location_information"), dict):
            loc = raw["location_information"]
            extras.append(f"[location {loc.get('latitude')}, {loc.get('longitude')}]")
        if isinstance(raw.get("contact_information"), dict):
            info = raw["contact_information"]
            extras.append(
                "[contact: "
                + " ".join(str(info.get(k, "")) for k in ("first_name", "last_name", "phone_number") if info.get(k))
                + "]"
            )
        body = " ".join(part for part in (*extras, text) if part)
        reply_to = None
        if raw.get("reply_to_message_id") is not None:
            reply_to = authors.get(raw["reply_to_message_id"], "an earlier message")
        messages.append(
            ChatMessage(
                timestamp=moment,
                author=str(author) if author else None,
                text=body,
                media=media,
                reply_to=reply_to,
                msg_id=str(raw.get("id")),
            )
        )
    return messages, errors, all_instants


class TelegramConnector(Connector):
    """Telegram Desktop JSON exports: one chat or the whole account."""

    name = "telegram"
    kind = KIND_CHAT
    patterns = ("*.json",)
    priority = 10
    description = "Telegram Desktop JSON exports (result.json)"

    def claims(self, path: Path) -> bool:
        head = json_head(path)
        return head is not None and looks_like_telegram(head)

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        data = load_json_export(path, "Telegram", messages=False)
        chats: list[dict[str, Any]] = []
        if isinstance(data.get("messages"), list):
            chats.append(data)
        for group in ("chats", "left_chats"):
            block = data.get(group)
            if isinstance(block, dict) and isinstance(block.get("list"), list):
                chats.extend(c for c in block["list"] if isinstance(c, dict))
        if not chats:
            raise ChatExportError(
                f'not a Telegram export: {path.name} has neither "messages" nor "chats": {{"list": [...]}}'
            )
        photos = _photos_beside(path.parent)
        used_keys: set[str] = set()
        for index, chat in enumerate(chats):
            where = str(path)
            try:
                messages, errors, instants = parse_chat(chat, where)
            except ChatExportError as exc:
                yield ItemError(where, str(exc), f"chat {index}")
                continue
            yield from errors
            if not messages:
                continue
            name = chat.get("name") or ("Saved Messages" if chat.get("type") == "saved_messages" else None) or path.stem
            chat_id = chat.get("id")
            key = clean_key(str(chat_id) if chat_id is not None else str(name))
            if key in used_keys:
                key = f"{key}-{index}"
            used_keys.add(key)
            yield from month_documents(
                messages,
                platform="telegram",
                chat=str(name),
                chat_id=str(chat_id) if chat_id is not None else None,
                key_prefix=key,
                title=platform_title("Telegram", str(name)),
                time_zone="UTC" if instants else "local",
                extra={"chat_type": chat.get("type")} if chat.get("type") else None,
                media_image=photos,
            )


def _photos_beside(folder: Path) -> Callable[[str, str], ImageRef | None]:
    """The photos of an export made with "Photos" ticked: ``photos/`` and ``files/``
    beside result.json (``chats/chat_N/photos/`` in an account export), found by the
    file name the message gives; listed once, on the first photo asked for."""
    found: dict[str, Path] | None = None

    def lookup(name: str, locator: str) -> ImageRef | None:
        nonlocal found
        if not is_image_name(name):
            return None
        if found is None:
            found = {}
            for pattern in ("photos/*", "files/*", "chats/*/photos/*", "chats/*/files/*"):
                for file in sorted(folder.glob(pattern)):
                    found.setdefault(file.name, file)
        image = found.get(name)
        try:
            if image is None or not image.is_file() or image.stat().st_size < MIN_IMAGE_BYTES:
                return None
        except OSError:
            return None
        return ImageRef(locator=locator, kind="file", path=str(image))

    return lookup
