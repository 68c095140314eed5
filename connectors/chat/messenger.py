"""Facebook Messenger and Instagram direct messages from "Download your information".

Both platforms export a thread as ``message_1.json`` (long threads continue in
``message_2.json`` ...): ``participants``, ``title`` and ``messages`` newest first,
each with ``sender_name``, ``timestamp_ms`` and ``content``, plus ``photos``,
``videos``, ``files``, ``share``, ``reactions``. Facebook writes the text as UTF-8
bytes mis-decoded as Latin-1 (``"Ã©"`` for ``"é"``); it is repaired here. The
newer end-to-end-encrypted Messenger export (``senderName``, ``timestamp``,
``text``, ``threadName``) is read too.

A file whose path names Instagram is marked ``platform="instagram"``, else
``"messenger"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.base import Connector, Document, ItemError
from connectors.chat.common import (
    ChatMessage,
    clean_key,
    epoch_to_utc,
    fix_mojibake,
    json_head,
    load_json_export,
    month_documents,
    platform_title,
)
from connectors.kinds import KIND_CHAT

_TIMESTAMP_MS = re.compile(r'"timestamp_ms"\s*:')
_SENDER = re.compile(r'"sender_name"\s*:|"participants"\s*:')
_E2EE = re.compile(r'"senderName"\s*:')
_E2EE_TS = re.compile(r'"timestamp"\s*:\s*\d{12,}')
_MEDIA_KEYS = ("photos", "videos", "audio_files", "files", "gifs", "media")
_SYSTEM_TYPES = frozenset({"Subscribe", "Unsubscribe"})


def _platform(path: Path) -> str:
    # Instagram's download nests threads as .../your_instagram_activity/messages/
    # inbox/<thread>/message_1.json, often inside an "instagram-<user>-<date>" folder.
    return "instagram" if any("instagram" in p.lower() for p in path.parts[-7:]) else "messenger"


def _media_names(msg: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for key in _MEDIA_KEYS:
        for item in msg.get(key) or []:
            if isinstance(item, dict) and item.get("uri"):
                names.append(str(item["uri"]).rsplit("/", 1)[-1])
    sticker = msg.get("sticker")
    if isinstance(sticker, dict) and sticker.get("uri"):
        names.append(str(sticker["uri"]).rsplit("/", 1)[-1])
    return names


def _message(raw: dict[str, Any]) -> ChatMessage:
    if "timestamp_ms" in raw:
        moment = epoch_to_utc(int(raw["timestamp_ms"]) / 1000)
        author = raw.get("sender_name")
        content = raw.get("content")
    else:  # end-to-end-encrypted export
        moment = epoch_to_utc(int(raw["timestamp"]) / 1000)
        author = raw.get("senderName")
        content = raw.get("text")
    text = fix_mojibake(str(content)) if content else ""
    media = _media_names(raw)
    extras: list[str] = []
    share = raw.get("share")
    if isinstance(share, dict):
        link = share.get("link")
        share_text = share.get("share_text")
        if share_text:
            extras.append(f"[shared: {fix_mojibake(str(share_text))}]")
        if link and str(link) not in text:
            extras.append(f"[link: {link}]")
    if media and not text:
        extras.append(" ".join(f"[attachment: {name}]" for name in media))
    if raw.get("is_unsent") or raw.get("isUnsent"):
        extras.append("[message unsent]")
    if raw.get("call_duration") is not None:
        extras.append(f"[call, {raw['call_duration']} s]")
    reactions = raw.get("reactions")
    if isinstance(reactions, list) and reactions:
        pairs = [
            fix_mojibake(f"{r.get('actor', '')} {r.get('reaction', '')}") for r in reactions if isinstance(r, dict)
        ]
        extras.append("[reactions: " + ", ".join(pairs) + "]")
    body = " ".join(p for p in (text, *extras) if p)
    name = fix_mojibake(str(author)) if author else None
    if raw.get("type") in _SYSTEM_TYPES:
        # "Alice added Bob to the group": the text already names who did it.
        return ChatMessage(timestamp=moment, author=None, text=body or f"{name} (group change)", media=media)
    return ChatMessage(timestamp=moment, author=name, text=body, media=media)


class MessengerConnector(Connector):
    """Facebook Messenger and Instagram JSON message exports."""

    name = "messenger"
    kind = KIND_CHAT
    patterns = ("*.json",)
    priority = 10
    description = "Facebook Messenger and Instagram JSON exports"

    def claims(self, path: Path) -> bool:
        head = json_head(path)
        if head is None:
            return False
        if _TIMESTAMP_MS.search(head) and _SENDER.search(head):
            return True
        return _E2EE.search(head) is not None and _E2EE_TS.search(head) is not None

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        data = load_json_export(path, "Messenger/Instagram")
        where = str(path)
        messages: list[ChatMessage] = []
        for index, raw in enumerate(data["messages"]):
            if not isinstance(raw, dict):
                yield ItemError(where, "message is not an object", f"message {index}")
                continue
            try:
                messages.append(_message(raw))
            except (KeyError, TypeError, ValueError, OverflowError) as exc:
                yield ItemError(where, f"unreadable message: {exc!r}", f"message {index}")
        participants: list[str] = []
        for p in data.get("participants") or []:
            name = p.get("name") if isinstance(p, dict) else p
            if isinstance(name, str) and name:
                participants.append(fix_mojibake(name))
        title = data.get("title") or data.get("threadName")
        chat = fix_mojibake(str(title)) if title else ", ".join(participants) or path.parent.name
        thread = data.get("thread_path") or data.get("thread_type")
        platform = _platform(path)
        key = clean_key(str(data.get("thread_path") or chat))
        label = "Instagram" if platform == "instagram" else "Messenger"
        yield from month_documents(
            messages,
            platform=platform,
            chat=chat,
            chat_id=str(thread) if thread else None,
            key_prefix=key,
            title=platform_title(label, chat),
            time_zone="UTC",
            extra={"thread_participants": participants} if participants else None,
        )
