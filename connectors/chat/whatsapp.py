"""WhatsApp "Export chat" files: the ``.txt`` and the ``.zip`` with media.

The app writes one line per message, in a layout that depends on the phone and its
locale::

    12/31/20, 11:59 PM - Alice: text          Android, US
    31/12/2020, 23:59 - Alice: text           Android, most locales
    [31/12/2020, 23:59:59] Alice: text        iOS
    [2019-04-16 02:09] Alice: text            iOS, ISO locales
    15.04.2016, 15:04 - Alice: text           dotted dates (de, ru, ...)
    2020/01/05 午後3:04 - Alice: text          localized AM/PM markers

A message continues on the following lines until the next line that starts with a
date; a line whose rest has no ``Name:`` is a system line (group created, member
added, encryption notice). Whether the first number is the day or the month is
decided from the whole file (a first field above 12 is a day; the order under which
the dates never run backwards wins), never from one line.

Times carry no time zone: they are the phone's wall clock, kept as they read and
stored as if UTC (see :mod:`connectors.chat.common`).
"""

from __future__ import annotations

import calendar
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from connectors.base import (
    MIN_IMAGE_BYTES,
    Connector,
    Document,
    ImageRef,
    ItemError,
    is_image_name,
)
from connectors.chat.common import (
    ChatExportError,
    ChatMessage,
    clean_key,
    decode_bytes,
    first_lines,
    head_text,
    is_junk_member,
    month_documents,
    platform_title,
    read_head,
    read_zip_member,
    strip_marks,
)
from connectors.kinds import KIND_CHAT

# AM/PM markers as far as WhatsApp's locales write them: a.m./p.m. in all their
# spellings, Japanese, Korean, Chinese, Arabic, Persian, Greek, Hungarian,
# Swedish/Norwegian, Vietnamese, German.
_AMPM = (
    r"(?:[AaPp]\.?[^\S\r\n]?[Mm]\.?|午前|午後|오전|오후|上午|下午|中午|凌晨|早上|晚上|"
    r"ص|م|ق\.ظ|ب\.ظ|π\.μ\.|μ\.μ\.|de\.|du\.|fm|em|f\.m\.|e\.m\.|SA|CH|vorm\.|nachm\.)"
)
_PM_MARKERS = frozenset(
    {
        "pm",
        "午後",
        "오후",
        "下午",
        "中午",
        "晚上",
        "م",
        "ب.ظ",
        "μ.μ.",
        "du.",
        "em",
        "e.m.",
        "ch",
        "nachm.",
    }
)

_SP = r"[^\S\r\n]"  # horizontal white space, narrow no-break space included
HEADER = re.compile(
    r"(?P<open>\[)?"
    r"(?P<d1>\d{1,4})(?P<sep>[./-])(?P<d2>\d{1,2})(?P=sep)(?P<d3>\d{1,4})\.?"
    rf"(?:,{_SP}*|{_SP}+)(?:(?:klo|kl\.|um|à|a{_SP}+las|at|alle|às|в){_SP}+)?"
    rf"(?:(?P<ap1>{_AMPM}){_SP}*)?"
    r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?"
    rf"(?:{_SP}*(?P<ap2>{_AMPM}))?"
    rf"(?(open)\]{_SP}*|{_SP}*[-–:]{_SP}+)"
)
# The same header at any line start of a whole export, with the author if any
# ("Name: "). Matching the whole text at once keeps the per-message work small.
_MESSAGE = re.compile("^" + HEADER.pattern + r"(?:(?P<author>[^:\n]{1,100}?):(?: |(?=\n)|\Z))?", re.M)
_ATTACHED = re.compile(r"<[^<>:\n]{2,30}:\s*([^<>\n]+?\.[A-Za-z0-9]{1,6})>")
_FILE_ATTACHED = re.compile(
    r"^(?P<name>[^\n]+?\.[A-Za-z0-9]{1,6}) \((?:file attached|attached|Datei angehängt|"
    r"archivo adjunto|arquivo anexado|fichier joint|file allegato|bestand bijgevoegd|"
    r"plik załączony|файл прикреплен|dosya ekli)\)",
    re.I,
)
_CHAT_NAME = re.compile(
    r"^(?:whatsapp[\s_-]*chat|chat\s+de\s+whatsapp|conversa\s+do\s+whatsapp|"
    r"whatsapp[\s_-]*(?:chat|gespräch|conversation))"
    r"\s*(?:-|–|with|mit|con|com|avec|met|med)?\s*(?P<name>.+)$",
    re.I,
)

_MARKED = "\ue000"
_MEDIA_NOTE = re.compile(
    r"^<[^<>\n]{2,30}:|(?:omitted|weggelassen|omitid[oa]|omis[e]?|omess[oa]|weggelaten|"
    r"pominięt\w*|опущен\w*|dahil edilmedi)$",
    re.I,
)
_ENCRYPTION_NOTICE = re.compile(
    r"^(?:Messages and calls are|Messages to this (?:group|chat)"
    r" (?:are|and calls are) now secured).{0,40}end-to-end",
    re.I,
)


def _ampm_key(marker: str | None) -> str | None:
    if not marker:
        return None
    key = marker.replace(" ", "").replace("\u202f", "").replace("\xa0", "").lower()
    if key in ("am", "a.m.", "a.m", "am."):
        return "am"
    if key in ("pm", "p.m.", "p.m", "pm."):
        return "pm"
    return "pm" if key in _PM_MARKERS else "am"


def _fields(order: str, a: int, b: int, c: int) -> tuple[int, int, int]:
    """(year, month, day) from the three date numbers read in ``order``."""
    if order == "dmy":
        return c, b, a
    if order == "mdy":
        return c, a, b
    if order == "ymd":
        return a, b, c
    return a, c, b  # ydm


def _valid(year: int, month: int, day: int) -> bool:
    if not 1 <= month <= 12 or day < 1:
        return False
    full = year + 2000 if year < 100 else year
    return day <= calendar.monthrange(full, month)[1] and 1970 <= full <= 2200


def decide_date_order(triples: list[tuple[str, str, str]], prefer_month_first: bool = False) -> str:
    """The field order (``"dmy"``, ``"mdy"``, ``"ymd"`` or ``"ydm"``) that reads
    every date of the file as a valid date with the fewest steps back in time.

    A chat export is chronological, so among the orders that give valid dates the one
    under which the dates never (or least often) decrease wins; ties go to the most
    common order for the layout (day first, or month first for US-style 12-hour
    exports).
    """
    unique: list[tuple[str, str, str]] = []
    for triple in triples:
        if not unique or unique[-1] != triple:
            unique.append(triple)
    if not unique:
        return "dmy"
    year_first = len(unique[0][0]) >= 3
    if year_first:
        preference = ["ymd", "ydm", "dmy", "mdy"]
    elif prefer_month_first:
        preference = ["mdy", "dmy", "ymd", "ydm"]
    else:
        preference = ["dmy", "mdy", "ymd", "ydm"]
    best: tuple[int, int, int] | None = None
    best_order = preference[0]
    for rank, order in enumerate(preference):
        invalid = 0
        back = 0
        previous: tuple[int, int, int] | None = None
        year_index = order.index("y")
        for t in unique:
            if any(len(t[i]) > 2 for i in range(3) if i != year_index):
                invalid += 1
                continue
            date = _fields(order, int(t[0]), int(t[1]), int(t[2]))
            if not _valid(*date):
                invalid += 1
                continue
            full = (date[0] + 2000 if date[0] < 100 else date[0], date[1], date[2])
            if previous is not None and full < previous:
                back += 1
            previous = full
        score = (invalid, back, rank)
        if best is None or score < best:
            best = score
            best_order = order
    return best_order


def chat_name_from(file_name: str, fallback: str) -> str:
    stem = file_name.rsplit("/", 1)[-1]
    if stem.lower().endswith((".txt", ".zip")):
        stem = stem[:-4]
    match = _CHAT_NAME.match(stem.strip())
    if match:
        return match.group("name").strip() or fallback
    if stem.lower() in ("_chat", "chat", ""):
        return fallback
    return stem


def looks_like_whatsapp(text: str) -> bool:
    """Whether the first non-empty lines of ``text`` read as a WhatsApp export: the
    first is a message line, and it has an author or another message line follows
    (so that a note starting "2021-03-04 10:00 - called the plumber" stays a note)."""
    lines = first_lines(text, 10)
    if not lines or HEADER.match(lines[0]) is None:
        return False
    first = _MESSAGE.match(lines[0])
    if first is not None and first.group("author"):
        return True
    return sum(1 for line in lines[1:] if HEADER.match(line)) >= 1


def parse_whatsapp_text(text: str, where: str, chat: str | None = None) -> tuple[list[ChatMessage], list[ItemError]]:
    """Parse a whole export; returns its messages and per-line errors.

    ``chat`` is the chat's name where the file name gives it: iOS writes a group's
    system lines ("Mom added Dad") as if the group itself spoke, with the text
    starting with U+200E, so such a line "by" the chat is a system line.
    """
    if "\u200e" in text:
        # iOS starts the text of system lines (and of media notes) with U+200E.
        # The marks go, but this one is remembered as a private-use sentinel.
        text = text.replace(": \u200e", ": " + _MARKED)
    text = strip_marks(text)
    if not text.strip():
        raise ChatExportError(f"empty file: {where} contains no messages")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    heads = list(_MESSAGE.finditer(text))
    if not heads:
        raise ChatExportError(f"no WhatsApp message lines found in {where}")
    # open, d1, sep, d2, d3, ap1, h, mi, s, ap2, author
    groups = [m.groups() for m in heads]

    # The layout (brackets, date separator) used by most lines is the file's layout;
    # a line in another layout is message text that happens to start with a date.
    signature = Counter((g[0], g[2]) for g in groups)
    (use_open, use_sep), _ = signature.most_common(1)[0]
    if len(signature) > 1:
        keep = [i for i, g in enumerate(groups) if g[0] == use_open and g[2] == use_sep]
        heads = [heads[i] for i in keep]
        groups = [groups[i] for i in keep]
    # Plain "AM"/"PM" with slashes is the US layout, month first; other locales with
    # a 12-hour clock ("p. m.", "午後") put the day first or the year first.
    english_12h = any((g[9] or "").strip().upper() in ("AM", "PM") for g in groups[:50])
    order = decide_date_order(
        list(dict.fromkeys((g[1] or "", g[3] or "", g[4] or "") for g in groups)),
        prefer_month_first=english_12h and use_sep == "/" and not use_open,
    )

    errors: list[ItemError] = []
    messages: list[ChatMessage] = []
    day_cache: dict[tuple[str | None, ...], datetime | None] = {}
    time_cache: dict[tuple[str | None, ...], timedelta | None] = {}
    n_heads = len(heads)
    size = len(text)
    for n in range(n_heads):
        m = heads[n]
        g = groups[n]
        dkey = (g[1], g[3], g[4])
        day = day_cache.get(dkey, _UNSEEN)
        if day is _UNSEEN:
            day = day_cache[dkey] = _make_day(order, dkey)
        tkey = (g[6], g[7], g[8], g[5] or g[9])
        offset = time_cache.get(tkey, _NO_TIME)
        if offset is _NO_TIME:
            offset = time_cache[tkey] = _time_of_day(tkey)
        if day is None or offset is None:
            line = text.count("\n", 0, m.start()) + 1
            errors.append(
                ItemError(
                    path=where,
                    reason=f"unreadable date or time: {m.group(0)[:60]!r}",
                    item=f"line {line}",
                )
            )
            continue
        assert isinstance(day, datetime) and isinstance(offset, timedelta)
        end = heads[n + 1].start() if n + 1 < n_heads else size
        author = g[10]
        if author is not None:
            author = author.strip()
            if author[:1] == "~":  # "~ Name": a group member not in the contacts
                author = author[1:].strip()
            # A colon inside a quoted group subject is not an author separator.
            if not author or (
                ('"' in author or "\u201c" in author)
                and (author.count('"') % 2 or author.count("\u201c") != author.count("\u201d"))
            ):
                author = None
                body = text[m.start(11) : end].strip()
            else:
                body = text[m.end() : end].strip()
        else:
            body = text[m.end() : end].strip()
        marked = False
        if _MARKED in body:
            marked = body[:1] == _MARKED
            body = body.replace(_MARKED, "").lstrip()
        if author is not None and (
            # iOS writes a group's system lines ("Mom added Dad") as if the group had
            # said them, text marked with U+200E; in a one-to-one chat, named after
            # the contact, the contact's own media notes are marked the same way.
            (marked and author == chat and not _MEDIA_NOTE.search(body))
            or (body[:1] in ("M", "m") and _ENCRYPTION_NOTICE.search(body))
        ):
            author = None
        media: list[str] = []
        if "<" in body:
            media.extend(name.strip() for name in _ATTACHED.findall(body))
        if "(" in body:
            fm = _FILE_ATTACHED.match(body)
            if fm is not None:
                media.append(fm.group("name").strip())
        messages.append(ChatMessage(timestamp=day + offset, author=author, text=body, media=media))
    return messages, errors


_UNSEEN = datetime.min
_NO_TIME = timedelta(days=-1)


def _make_day(order: str, triple: tuple[str | None, ...]) -> datetime | None:
    """Midnight (aware UTC) of the date the three fields give in ``order``."""
    try:
        year, month, dom = _fields(order, int(triple[0] or 0), int(triple[1] or 0), int(triple[2] or 0))
        if year < 100:
            year += 2000
        return datetime(year, month, dom, tzinfo=UTC)
    except ValueError:
        return None


def _time_of_day(key: tuple[str | None, ...]) -> timedelta | None:
    """Time since midnight from (hour, minute, second, AM/PM marker); None if invalid."""
    hour, minute = int(key[0] or 0), int(key[1] or 0)
    second = int(key[2]) if key[2] else 0
    ampm = _ampm_key(key[3])
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    return timedelta(hours=hour, minutes=minute, seconds=second)


class WhatsAppConnector(Connector):
    """WhatsApp "Export chat" ``.txt`` files and the ``.zip`` archives with media."""

    name = "whatsapp"
    kind = KIND_CHAT
    patterns = ("*.txt", "*.zip")
    priority = 10
    description = "WhatsApp chat exports (.txt, .zip)"
    platform: ClassVar[str] = "whatsapp"

    def claims(self, path: Path) -> bool:
        if path.is_dir():
            return False
        suffix = path.suffix.lower()
        if suffix == ".txt":
            return looks_like_whatsapp(read_head(path))
        if suffix == ".zip":
            try:
                with zipfile.ZipFile(path) as zf:
                    return bool(_chat_members(zf))
            except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
                return False
        return False

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        if path.suffix.lower() == ".zip":
            yield from self._iter_zip(path)
            return
        raw = path.read_bytes()
        chat = chat_name_from(path.name, path.stem)
        folder = path.parent

        def image_beside(name: str, locator: str) -> ImageRef | None:
            # an export "with media" unpacked: the photos lie beside the .txt
            image = folder / name
            if "/" in name or not is_image_name(name) or not image.is_file():
                return None
            if image.stat().st_size < MIN_IMAGE_BYTES:
                return None
            return ImageRef(locator=locator, kind="file", path=str(image))

        yield from self._documents(decode_bytes(raw), str(path), chat, media_in_archive=None, media_image=image_beside)

    def _iter_zip(self, path: Path) -> Iterator[Document | ItemError]:
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise ChatExportError(f"not a readable zip archive: {exc}") from None
        with zf:
            members = _chat_members(zf)
            if not members:
                raise ChatExportError(
                    f"no WhatsApp chat .txt inside the zip {path.name} ({len(zf.namelist())} entries)"
                )
            chat_names = {m.filename for m in members}
            media = sorted(
                info.filename.rsplit("/", 1)[-1]
                for info in zf.infolist()
                if not info.is_dir() and not is_junk_member(info.filename) and info.filename not in chat_names
            )
            fallback = chat_name_from(path.name, path.stem)
            for info in members:
                chat = chat_name_from(info.filename, fallback)
                if len(members) > 1 and chat == fallback:
                    chat = info.filename.rsplit("/", 1)[-1][:-4]
                text = decode_bytes(read_zip_member(zf, info))
                images = {
                    i.filename.rsplit("/", 1)[-1]: i.filename
                    for i in zf.infolist()
                    if not i.is_dir()
                    and not is_junk_member(i.filename)
                    and is_image_name(i.filename)
                    and i.file_size >= MIN_IMAGE_BYTES  # stickers, thumbnails
                }

                def image_in_zip(name: str, locator: str, images: dict[str, str] = images) -> ImageRef | None:
                    member = images.get(name)
                    if member is None:
                        return None
                    return ImageRef(locator=locator, kind="zip-member", path=str(path), member=member)

                yield from self._documents(
                    text, f"{path}!{info.filename}", chat, media_in_archive=media, media_image=image_in_zip
                )

    def _documents(
        self,
        text: str,
        where: str,
        chat: str,
        media_in_archive: list[str] | None,
        media_image: Callable[[str, str], ImageRef | None] | None = None,
    ) -> Iterator[Document | ItemError]:
        messages, errors = parse_whatsapp_text(text, where, chat)
        yield from errors
        if media_in_archive is not None:
            # The messages name their media ("<attached: x.jpg>", "x.jpg (file
            # attached)"); each month lists the names its messages give. Files the
            # archive holds that no message names go with the month their file name
            # dates them to, else nowhere.
            _assign_unnamed_media(messages, media_in_archive)
        yield from month_documents(
            messages,
            platform=self.platform,
            chat=chat,
            chat_id=None,
            key_prefix=clean_key(chat),
            title=platform_title("WhatsApp", chat),
            time_zone="local",
            media_image=media_image,
        )


_MEDIA_DATE = re.compile(r"(20\d\d)-?(\d\d)-?(\d\d)")


def _assign_unnamed_media(messages: list[ChatMessage], archive_media: list[str]) -> None:
    """Attach archive media that no message names to a message of the same day.

    WhatsApp names media after their date (``IMG-20200131-WA0001.jpg``,
    ``00000012-PHOTO-2020-01-31-12-00-00.jpg``), so a file whose message line was
    lost still lands in the right month.
    """
    named = {name for msg in messages for name in msg.media}
    by_day: dict[str, ChatMessage] = {}
    for msg in messages:
        by_day.setdefault(msg.timestamp.strftime("%Y%m%d"), msg)
    for name in archive_media:
        if name in named:
            continue
        m = _MEDIA_DATE.search(name)
        target = by_day.get("".join(m.groups())) if m else None
        if target is not None:
            target.media.append(name)


def _chat_members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The WhatsApp chat texts in an archive (``_chat.txt``, ``WhatsApp Chat with X.txt``),
    recognised by their first line; ``__MACOSX/`` resource forks are skipped."""
    candidates = [
        info
        for info in zf.infolist()
        if not info.is_dir() and info.filename.lower().endswith(".txt") and not is_junk_member(info.filename)
    ]

    def rank(info: zipfile.ZipInfo) -> int:
        base = info.filename.rsplit("/", 1)[-1].lower()
        return 0 if base == "_chat.txt" or base.startswith("whatsapp") else 1

    candidates.sort(key=rank)
    found: list[zipfile.ZipInfo] = []
    for info in candidates[:20]:
        with zf.open(info) as fh:
            head = head_text(fh.read(4096))
        if looks_like_whatsapp(head):
            found.append(info)
    return found
