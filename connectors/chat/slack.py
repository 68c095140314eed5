"""Slack workspace exports, as the downloaded ``.zip`` or its unpacked folder.

The export holds ``users.json`` (member ids and names), ``channels.json`` (public
channels; ``groups.json``, ``mpims.json`` and ``dms.json`` for private ones where
the plan allows) and one folder per channel with a ``YYYY-MM-DD.json`` file per
day, each a list of messages. Mentions are written ``<@U123>``, channel links
``<#C123|name>``, links ``<https://...|label>``; threads are replies whose
``thread_ts`` names their parent. Timestamps (``ts``) are Unix instants (UTC).

Slack's Web API history (``{"ok": true, "messages": [...], "has_more": ...}``, as
fetched by perceval and similar tools) is not a user export and is not claimed.
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from connectors.base import Connector, Document, ItemError
from connectors.chat.common import (
    ChatExportError,
    ChatMessage,
    clean_key,
    epoch_to_utc,
    is_junk_member,
    month_documents,
    parse_json_bytes,
    platform_title,
    read_zip_member,
)
from connectors.kinds import KIND_CHAT

_DAY_FILE = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
_MARKUP = re.compile(r"<([^<>\n]+)>")
_BOT_LABEL = re.compile(r"\|([^<>|]+)>\s*$")
_CHANNEL_FILES = ("channels.json", "groups.json", "mpims.json", "dms.json")
_SYSTEM_SUBTYPES = frozenset(
    {
        "channel_join",
        "channel_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "group_join",
        "group_leave",
        "group_topic",
        "group_purpose",
        "group_name",
        "group_archive",
        "group_unarchive",
        "bot_add",
        "bot_remove",
        "pinned_item",
        "unpinned_item",
        "reminder_add",
        "tombstone",
        "channel_convert_to_private",
        "channel_convert_to_public",
    }
)


class _Tree:
    """Uniform read access to an export folder or zip (paths relative to its root)."""

    def __init__(self, read: Callable[[str], bytes], names: list[str], label: str) -> None:
        self._read = read
        self.names = names
        self.label = label
        self._set = set(names)

    def has(self, name: str) -> bool:
        return name in self._set

    def read_json(self, name: str) -> Any:
        return parse_json_bytes(self._read(name), f"{self.label}/{name}")

    def folders(self) -> dict[str, list[str]]:
        """Day files per channel folder, in date order."""
        out: dict[str, list[str]] = {}
        for name in self.names:
            parts = name.split("/")
            if len(parts) == 2 and _DAY_FILE.match(parts[1]):
                out.setdefault(parts[0], []).append(name)
        for files in out.values():
            files.sort()
        return out


def _zip_root(names: list[str]) -> str:
    """The folder inside the zip that holds channels.json ("" for the root)."""
    for name in names:
        if PurePosixPath(name).name in ("channels.json", "users.json") and not is_junk_member(name):
            parent = str(PurePosixPath(name).parent)
            return "" if parent == "." else parent + "/"
    return ""


def _open_zip(path: Path, zf: zipfile.ZipFile) -> _Tree:
    infos = {i.filename: i for i in zf.infolist() if not i.is_dir() and not is_junk_member(i.filename)}
    root = _zip_root(list(infos))
    names = [n[len(root) :] for n in infos if n.startswith(root)]

    def read(name: str) -> bytes:
        return read_zip_member(zf, infos[root + name])

    return _Tree(read, names, str(path))


def _open_folder(path: Path) -> _Tree:
    names: list[str] = []
    for child in sorted(path.iterdir()):
        if child.is_file() and child.suffix.lower() == ".json":
            names.append(child.name)
        elif child.is_dir():
            names.extend(
                f"{child.name}/{day.name}"
                for day in sorted(child.iterdir())
                if day.is_file() and _DAY_FILE.match(day.name)
            )

    def read(name: str) -> bytes:
        return (path / name).read_bytes()

    return _Tree(read, names, str(path))


def _user_name(user: dict[str, Any]) -> str | None:
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    assert isinstance(profile, dict)
    for value in (
        user.get("real_name"),
        profile.get("real_name"),
        profile.get("display_name"),
        user.get("name"),
    ):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


class SlackText:
    """Resolves Slack's markup with the export's users and channels."""

    def __init__(self, users: dict[str, str], channels: dict[str, str]) -> None:
        self.users = users
        self.channels = channels

    def _replace(self, m: re.Match[str]) -> str:
        inner = m.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            uid = target[1:]
            return "@" + (self.users.get(uid) or label or uid)
        if target.startswith("#"):
            cid = target[1:]
            return "#" + (label or self.channels.get(cid) or cid)
        if target.startswith("!"):
            word = target[1:]
            if word.startswith("subteam^"):
                return label or "@group"
            if word.startswith("date^"):
                return label or word
            return label if label else "@" + word.split("^")[0]
        if label:
            return label if label == target or target.endswith(label) else f"{label} ({target})"
        return target.removeprefix("mailto:")

    def render(self, text: str) -> str:
        if "<" in text:
            text = _MARKUP.sub(self._replace, text)
        return html.unescape(text) if "&" in text else text


def _attachment_text(msg: dict[str, Any], fmt: SlackText) -> str:
    parts: list[str] = []
    for att in msg.get("attachments") or []:
        if not isinstance(att, dict):
            continue
        piece = " ".join(fmt.render(str(att[k])) for k in ("pretext", "title", "text") if att.get(k)) or fmt.render(
            str(att.get("fallback") or "")
        )
        if piece:
            parts.append(piece)
    return "\n".join(parts)


def _channel_names(tree: _Tree, where: str, errors: list[ItemError]) -> dict[str, dict[str, Any]]:
    """Channel folder name -> channel record, for every listed channel kind."""
    out: dict[str, dict[str, Any]] = {}
    for listing in _CHANNEL_FILES:
        if not tree.has(listing):
            continue
        try:
            data = tree.read_json(listing)
        except ChatExportError as exc:
            errors.append(ItemError(where, str(exc), listing))
            continue
        for channel in data if isinstance(data, list) else []:
            if not isinstance(channel, dict):
                continue
            folder = channel.get("name") or channel.get("id")
            if folder:
                out[str(folder)] = {**channel, "_kind": listing[:-5]}
    return out


def _iter_export(tree: _Tree) -> Iterator[Document | ItemError]:
    where = tree.label
    errors: list[ItemError] = []
    users: dict[str, str] = {}
    if tree.has("users.json"):
        try:
            data = tree.read_json("users.json")
            for user in data if isinstance(data, list) else []:
                if isinstance(user, dict) and user.get("id"):
                    name = _user_name(user)
                    if name:
                        users[str(user["id"])] = name
        except ChatExportError as exc:
            errors.append(ItemError(where, str(exc), "users.json"))
    channels = _channel_names(tree, where, errors)
    fmt = SlackText(users, {str(c.get("id")): name for name, c in channels.items() if c.get("id")})
    yield from errors
    folders = tree.folders()
    if not folders and not channels:
        raise ChatExportError(f"no Slack channels found in {where}")
    for folder, files in folders.items():
        channel = channels.get(folder, {})
        raw: list[dict[str, Any]] = []
        for name in files:
            try:
                data = tree.read_json(name)
            except ChatExportError as exc:
                yield ItemError(where, str(exc), name)
                continue
            if not isinstance(data, list):
                yield ItemError(where, "day file is not a list of messages", name)
                continue
            raw.extend(m for m in data if isinstance(m, dict))
        messages = list(_messages(raw, fmt, where, folder, users))
        errors_here = [m for m in messages if isinstance(m, ItemError)]
        yield from errors_here
        chat_messages = [m for m in messages if isinstance(m, ChatMessage)]
        if not chat_messages:
            continue
        kind = channel.get("_kind", "channels")
        label = folder if kind == "dms" else f"#{folder}"
        if kind in ("dms", "mpims") and channel.get("members"):
            names = ", ".join(users.get(str(u), str(u)) for u in channel["members"])
            label = ("DM: " if kind == "dms" else "Group DM: ") + names
        threads = sum(
            1 for m in raw if m.get("thread_ts") and m.get("thread_ts") == m.get("ts") and m.get("reply_count")
        )
        yield from month_documents(
            chat_messages,
            platform="slack",
            chat=label,
            chat_id=str(channel["id"]) if channel.get("id") else None,
            key_prefix=clean_key(folder),
            title=platform_title("Slack", label),
            time_zone="UTC",
            extra={"channel_kind": kind, **({"threads": threads} if threads else {})},
        )


def _messages(
    raw: list[dict[str, Any]], fmt: SlackText, where: str, folder: str, users: dict[str, str]
) -> Iterator[ChatMessage | ItemError]:
    by_ts: dict[str, str] = {}
    parsed: list[tuple[dict[str, Any], ChatMessage]] = []
    # Integrations post as bots; their "bot_add" line names them ("...|github>").
    bots: dict[str, str] = {}
    for msg in raw:
        if msg.get("subtype") == "bot_add" and msg.get("bot_id"):
            label = _BOT_LABEL.search(str(msg.get("text") or ""))
            if label:
                bots[str(msg["bot_id"])] = label.group(1)
    for msg in raw:
        try:
            moment = epoch_to_utc(float(msg["ts"]))
        except (KeyError, TypeError, ValueError, OverflowError):
            yield ItemError(where, "message without a readable ts", f"{folder}: {str(msg)[:60]}")
            continue
        subtype = msg.get("subtype")
        profile = msg.get("user_profile") if isinstance(msg.get("user_profile"), dict) else {}
        assert isinstance(profile, dict)
        uid = str(msg.get("user") or "")
        author = (
            users.get(uid)
            or profile.get("real_name")
            or profile.get("display_name")
            or msg.get("username")
            or (msg.get("bot_profile") or {}).get("name")
            or (bots.get(str(msg["bot_id"]), "bot") if msg.get("bot_id") else None)
            or uid
            or None
        )
        text = fmt.render(str(msg.get("text") or ""))
        if not text.strip():
            text = _attachment_text(msg, fmt)
        media: list[str] = []
        for f in msg.get("files") or []:
            if isinstance(f, dict) and (f.get("name") or f.get("title")):
                media.append(str(f.get("name") or f.get("title")))
        if media and not text.strip():
            text = " ".join(f"[file: {name}]" for name in media)
        if subtype in _SYSTEM_SUBTYPES:
            author = None
        item = ChatMessage(
            timestamp=moment,
            author=str(author) if author else None,
            text=text.strip(),
            media=media,
            msg_id=str(msg.get("ts")),
        )
        if item.author:
            by_ts[str(msg.get("ts"))] = item.author
        parsed.append((msg, item))
    for msg, item in parsed:
        thread_ts = msg.get("thread_ts")
        if thread_ts and str(thread_ts) != str(msg.get("ts")):
            parent = by_ts.get(str(thread_ts)) or users.get(str(msg.get("parent_user_id") or ""))
            item.reply_to = f"{parent} in thread" if parent else "a thread"
        elif thread_ts and msg.get("reply_count"):
            count = int(msg["reply_count"])
            item.thread = f"thread with {count} repl{'y' if count == 1 else 'ies'}"
        yield item


def _zip_is_slack(zf: zipfile.ZipFile) -> bool:
    return any(
        PurePosixPath(n).name == "channels.json" and n.count("/") <= 1 and not is_junk_member(n) for n in zf.namelist()
    )


def _folder_is_slack(path: Path) -> bool:
    if (path / "channels.json").is_file():
        return True
    if not (path / "users.json").is_file():
        return False
    # users.json alone is common; a Slack export also has day files in a folder.
    return any(child.is_dir() and any(_DAY_FILE.match(p.name) for p in child.iterdir()) for child in path.iterdir())


class SlackConnector(Connector):
    """Slack workspace exports: the ``.zip`` or the unpacked folder."""

    name = "slack"
    kind = KIND_CHAT
    patterns = ("*.zip",)
    priority = 10
    claims_directories = True
    description = "Slack workspace exports (zip or folder)"

    def claims(self, path: Path) -> bool:
        if path.is_dir():
            return _folder_is_slack(path)
        if path.suffix.lower() != ".zip":
            return False
        try:
            with zipfile.ZipFile(path) as zf:
                return _zip_is_slack(zf)
        except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
            return False

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        if path.is_dir():
            yield from _iter_export(_open_folder(path))
            return
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise ChatExportError(f"not a readable zip archive: {exc}") from None
        with zf:
            if not _zip_is_slack(zf):
                raise ChatExportError(f"no Slack export (channels.json) inside {path.name}")
            yield from _iter_export(_open_zip(path, zf))
