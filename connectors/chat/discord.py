"""Discord channels exported with DiscordChatExporter in its JSON format.

The file holds ``guild`` (server), ``channel`` and ``messages``; each message has
an ``author`` (``name``, ``nickname``), an ISO ``timestamp`` with offset,
``content``, ``attachments`` and, for replies, a ``reference`` to the message
answered. Message types other than ``Default`` and ``Reply`` (member joined,
message pinned, call, thread created) are system lines.
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
    json_head,
    load_json_export,
    month_documents,
    parse_iso,
    platform_title,
)
from connectors.kinds import KIND_CHAT

_GUILD = re.compile(r'"guild"\s*:\s*\{')
_CHANNEL = re.compile(r'"channel"\s*:\s*\{')
_CONTENT_TYPES = frozenset({"Default", "Reply", "ThreadStarterMessage", "0", "19"})
_SYSTEM_WORDS = {
    "GuildMemberJoin": "joined the server",
    "ChannelPinnedMessage": "pinned a message",
    "RecipientAdd": "added a member",
    "RecipientRemove": "removed a member",
    "Call": "started a call",
    "ChannelNameChange": "changed the channel name",
    "ChannelIconChange": "changed the channel icon",
    "ThreadCreated": "started a thread",
}


def _display_name(author: Any) -> str | None:
    if not isinstance(author, dict):
        return None
    for key in ("nickname", "name"):
        value = author.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


class DiscordConnector(Connector):
    """DiscordChatExporter JSON exports (one channel per file)."""

    name = "discord"
    kind = KIND_CHAT
    patterns = ("*.json",)
    priority = 10
    description = "Discord channel exports (DiscordChatExporter JSON)"

    def claims(self, path: Path) -> bool:
        head = json_head(path)
        return head is not None and _GUILD.search(head) is not None and _CHANNEL.search(head) is not None

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        data = load_json_export(path, "DiscordChatExporter")
        guild = data.get("guild") if isinstance(data.get("guild"), dict) else {}
        channel = data.get("channel") if isinstance(data.get("channel"), dict) else {}
        assert isinstance(guild, dict) and isinstance(channel, dict)
        where = str(path)
        authors: dict[str, str] = {}
        for raw in data["messages"]:
            if isinstance(raw, dict) and raw.get("id") is not None:
                name = _display_name(raw.get("author"))
                if name:
                    authors[str(raw["id"])] = name
        messages: list[ChatMessage] = []
        for index, raw in enumerate(data["messages"]):
            if not isinstance(raw, dict):
                yield ItemError(where, "message is not an object", f"message {index}")
                continue
            try:
                moment = parse_iso(str(raw["timestamp"]))
            except (KeyError, ValueError) as exc:
                yield ItemError(where, f"unreadable timestamp: {exc}", f"message {raw.get('id')}")
                continue
            author = _display_name(raw.get("author"))
            content = str(raw.get("content") or "")
            media = [
                str(a.get("fileName") or a.get("url", "").rsplit("/", 1)[-1])
                for a in raw.get("attachments") or []
                if isinstance(a, dict)
            ]
            extras = [f"[attachment: {m}]" for m in media if m]
            for embed in raw.get("embeds") or []:
                if isinstance(embed, dict) and (embed.get("title") or embed.get("description")):
                    extras.append(
                        "[embed: " + " — ".join(str(embed[k]) for k in ("title", "description") if embed.get(k)) + "]"
                    )
            for sticker in raw.get("stickers") or []:
                if isinstance(sticker, dict) and sticker.get("name"):
                    extras.append(f"[sticker {sticker['name']}]")
            text = " ".join(p for p in (content, *extras) if p)
            mtype = str(raw.get("type") or "Default")
            reply_to = None
            ref = raw.get("reference")
            if isinstance(ref, dict) and ref.get("messageId"):
                reply_to = authors.get(str(ref["messageId"]), "an earlier message")
            if mtype not in _CONTENT_TYPES:
                words = _SYSTEM_WORDS.get(mtype, mtype)
                text = f"{author or 'someone'} {words}" + (f": {text}" if text else "")
                author = None
                reply_to = None
            messages.append(
                ChatMessage(
                    timestamp=moment,
                    author=author,
                    text=text,
                    media=[m for m in media if m],
                    reply_to=reply_to,
                    msg_id=str(raw.get("id")),
                )
            )
        guild_name = str(guild.get("name") or "Discord")
        channel_name = str(channel.get("name") or path.stem)
        chat = channel_name if guild_name == "Direct Messages" else f"{guild_name} / #{channel_name}"
        chat_id = str(channel["id"]) if channel.get("id") else None
        yield from month_documents(
            messages,
            platform="discord",
            chat=chat,
            chat_id=chat_id,
            key_prefix=clean_key(chat_id or channel_name),
            title=platform_title("Discord", chat),
            time_zone="UTC",
            extra={
                "guild": guild_name,
                "channel": channel_name,
                **({"category": channel["category"]} if channel.get("category") else {}),
            },
        )
