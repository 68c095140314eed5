"""The chat-export connectors against the real public samples and small fixtures.

The shared samples live in ``../shared/corpora/chat`` (see its manifest). Every file
there is accounted for in ``EXPECTED_CLAIMS``: the chat exports are claimed by their
connector and parse without errors; the rest are *not* claimed by any chat
connector, by decision:

* perceval's gitter, mattermost and rocketchat files, its Slack Web-API JSON
  (``{"ok", "messages", "has_more"}``, user and channel records) and its Telegram
  Bot-API ``getUpdates`` dumps are server API responses, not exports a person
  downloads. They are left to the generic connectors (in practice: skipped), and
  forcing a chat connector onto them gives a clear error or nothing, never a crash.
* chat-miner's ``target.json`` files are its expected parses, which the tests below
  compare with.
* whatstk's ``header_format_support.json`` is the list of WhatsApp header layouts
  whatstk supports; a test below renders a chat in every one of them and parses it.
* whatsapp-chat-parser's ``empty.txt`` is zero bytes: no connector can tell what
  it is, so no chat connector claims it; parsed as WhatsApp it is a clear error.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import Connector, Document, ItemError
from connectors.chat import (
    DiscordConnector,
    MessengerConnector,
    SignalConnector,
    SlackConnector,
    TelegramConnector,
    WhatsAppConnector,
)
from connectors.chat.common import ChatExportError, fix_mojibake
from connectors.chat.whatsapp import decide_date_order, parse_whatsapp_text
from connectors.kinds import KIND_CHAT

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "chat"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "chat"

CONNECTORS: list[Connector] = sorted(
    [
        WhatsAppConnector(),
        TelegramConnector(),
        SignalConnector(),
        SlackConnector(),
        DiscordConnector(),
        MessengerConnector(),
    ],
    key=lambda c: (-c.priority, c.name),
)

# Every file of the shared chat corpus, and the connector that must claim it.
EXPECTED_CLAIMS: dict[str, str | None] = {
    "chat-miner/test/instagram/target.json": None,
    "chat-miner/test/instagram/test_export.json": "messenger",
    "chat-miner/test/signal/target.json": None,
    "chat-miner/test/signal/test_export.txt": "signal",
    "chat-miner/test/telegram/target.json": None,
    "chat-miner/test/telegram/test_batch_export.json": "telegram",
    "chat-miner/test/telegram/test_single_export.json": "telegram",
    "chat-miner/test/whatsapp/target.json": None,
    "chat-miner/test/whatsapp/test_[mmddyy]_24hrs.txt": "whatsapp",
    "chat-miner/test/whatsapp/test_ddmmyy_24hrs.txt": "whatsapp",
    "chat-miner/test/whatsapp/test_mmddyy_24hrs.txt": "whatsapp",
    "chat-miner/test/whatsapp/test_mmddyyyy_12hrs.txt": "whatsapp",
    "chat-miner/test/whatsapp/test_yyyymmdd_24hrs.txt": "whatsapp",
    "perceval/tests/data/gitter/message_page_1": None,
    "perceval/tests/data/gitter/message_page_2": None,
    "perceval/tests/data/gitter/rooms": None,
    "perceval/tests/data/mattermost/mattermost_channel.json": None,
    "perceval/tests/data/mattermost/mattermost_posts.json": None,
    "perceval/tests/data/mattermost/mattermost_posts_next.json": None,
    "perceval/tests/data/mattermost/mattermost_user_sduenas.json": None,
    "perceval/tests/data/mattermost/mattermost_user_valcos.json": None,
    "perceval/tests/data/rocketchat/channel_info.json": None,
    "perceval/tests/data/rocketchat/message_page_1.json": None,
    "perceval/tests/data/rocketchat/message_page_2.json": None,
    "perceval/tests/data/slack/slack_history.json": None,
    "perceval/tests/data/slack/slack_history_20150323.json": None,
    "perceval/tests/data/slack/slack_info.json": None,
    "perceval/tests/data/slack/slack_members1.json": None,
    "perceval/tests/data/slack/slack_members2.json": None,
    "perceval/tests/data/slack/slack_user_U0001.json": None,
    "perceval/tests/data/slack/slack_user_U0002.json": None,
    "perceval/tests/data/slack/slack_user_U0003.json": None,
    "perceval/tests/data/telegram/telegram_messages.json": None,
    "perceval/tests/data/telegram/telegram_messages_next.json": None,
    "slack-export-viewer/tests/testarchive.zip": "slack",
    "whatsapp-chat-parser/samples/empty.txt": None,
    "whatsapp-chat-parser/samples/short-chat.txt": "whatsapp",
    "whatstk/chats/whatsapp/lorem-2000.txt": "whatsapp",
    "whatstk/chats/whatsapp/lorem-merge-part1.txt": "whatsapp",
    "whatstk/chats/whatsapp/lorem-merge-part2.txt": "whatsapp",
    "whatstk/chats/whatsapp/lorem.txt": "whatsapp",
    "whatstk/chats/whatsapp/pokemon.txt": "whatsapp",
    "whatstk/whatstk/whatsapp/assets/header_format_support.json": None,
}


@pytest.fixture(scope="module")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared chat samples are missing: {CORPUS}")
    return CORPUS


def dispatch(path: Path) -> str | None:
    """The chat connector the indexer would pick (highest priority first)."""
    for connector in CONNECTORS:
        if path.is_dir() and not connector.claims_directories:
            continue
        if connector.claims(path):
            return connector.name
    return None


def by_name(name: str) -> Connector:
    return next(c for c in CONNECTORS if c.name == name)


def parse(connector: Connector, path: Path) -> tuple[list[Document], list[ItemError]]:
    docs: list[Document] = []
    errors: list[ItemError] = []
    for item in connector.iter_documents(path):
        (errors if isinstance(item, ItemError) else docs).append(item)  # type: ignore[arg-type]
    return docs, errors


def sections_of(docs: list[Document]) -> list:
    return [s for d in docs for s in d.sections]


def squash(text: str) -> str:
    return " ".join(text.split())


def naive(moment: datetime | None) -> datetime:
    assert moment is not None and moment.tzinfo is not None
    return moment.astimezone(UTC).replace(tzinfo=None)


def load_target(path: Path) -> list[tuple[datetime, str, str]]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [(datetime.fromisoformat(r["timestamp"]), r["author"], r["message"]) for r in rows]


# --------------------------------------------------------------------------- corpus


def test_every_corpus_file_is_accounted_for(corpus: Path) -> None:
    found = {str(p.relative_to(corpus)) for p in corpus.rglob("*") if p.is_file()}
    assert found == set(EXPECTED_CLAIMS)


@pytest.mark.parametrize("relative", sorted(EXPECTED_CLAIMS))
def test_corpus_dispatch(corpus: Path, relative: str) -> None:
    assert dispatch(corpus / relative) == EXPECTED_CLAIMS[relative]


@pytest.mark.parametrize("relative", sorted(k for k, v in EXPECTED_CLAIMS.items() if v))
def test_every_corpus_export_parses(corpus: Path, relative: str) -> None:
    path = corpus / relative
    docs, errors = parse(by_name(EXPECTED_CLAIMS[relative] or ""), path)
    assert errors == []
    assert docs, relative
    keys = [d.key for d in docs]
    assert len(keys) == len(set(keys))
    for doc in docs:
        assert doc.kind == KIND_CHAT
        month = doc.key.rsplit("/", 1)[1]
        assert doc.metadata["month"] == month
        assert {"platform", "chat", "chat_id", "media", "message_count"} <= doc.metadata.keys()
        assert doc.metadata["message_count"] == len(doc.sections) > 0
        assert doc.timestamp == doc.sections[0].timestamp
        assert doc.text.count("\n") >= len(doc.sections) - 1
        for section in doc.sections:
            assert section.timestamp is not None and section.timestamp.utcoffset() is not None
            assert section.timestamp.strftime("%Y-%m") == month
            assert section.locator == section.timestamp.strftime("%Y-%m-%d %H:%M")
        authors = [s.author for s in doc.sections if s.author]
        assert set(doc.participants) == set(authors)


@pytest.mark.parametrize("relative", sorted(k for k in EXPECTED_CLAIMS if k.startswith("perceval/")))
def test_api_dumps_never_crash_a_chat_connector(corpus: Path, relative: str) -> None:
    """Forced onto an API dump, a connector yields nothing useful or a clear error."""
    path = corpus / relative
    for connector in CONNECTORS:
        if connector.name in ("slack", "whatsapp", "signal"):
            continue  # they only read folders, zips and text; see dispatch above
        try:
            docs, _ = parse(connector, path)
        except ChatExportError as exc:
            assert str(exc)
            continue
        assert all(d.kind == KIND_CHAT for d in docs)


# ------------------------------------------------------------ expected parses


@pytest.mark.parametrize(
    "name",
    [
        "test_[mmddyy]_24hrs.txt",
        "test_ddmmyy_24hrs.txt",
        "test_mmddyy_24hrs.txt",
        "test_mmddyyyy_12hrs.txt",
        "test_yyyymmdd_24hrs.txt",
    ],
)
def test_whatsapp_matches_chat_miner_target(corpus: Path, name: str) -> None:
    """All five layouts give chat-miner's expected parse, message for message.

    chat-miner lists authored messages newest first, joins continuation lines with
    a space and drops system lines and ``John Doe:.`` (it has no ": " separator,
    so it is a system line here too). Times carry no zone: compared as read.
    """
    folder = corpus / "chat-miner/test/whatsapp"
    target = load_target(folder / "target.json")
    docs, errors = parse(WhatsAppConnector(), folder / name)
    assert errors == []
    sections = sections_of(docs)
    assert len(sections) == 10 - 1  # ten header lines, one message spans two lines
    authored = [(naive(s.timestamp), s.author, squash(s.text)) for s in sections if s.author]
    assert authored == [(t, a, squash(m)) for t, a, m in reversed(target)]
    system = [s.text for s in sections if s.author is None]
    assert system == ["John Doe:.", '+12 345 578 created group "Groupname"', "You were added"]


def test_signal_matches_chat_miner_target(corpus: Path) -> None:
    folder = corpus / "chat-miner/test/signal"
    target = load_target(folder / "target.json")
    docs, errors = parse(SignalConnector(), folder / "test_export.txt")
    assert errors == []
    got = [(naive(s.timestamp), s.author, squash(s.text)) for s in sections_of(docs)]
    assert got == sorted((t, a, squash(m)) for t, a, m in target)
    assert docs[0].metadata["time_zone"] == "local"


@pytest.mark.parametrize("name", ["test_single_export.json", "test_batch_export.json"])
def test_telegram_matches_chat_miner_target(corpus: Path, name: str) -> None:
    """Entity lists carry their own spacing in real exports, so they are joined
    as they are; chat-miner joins them with a space, hence the comparison ignores
    white space."""
    folder = corpus / "chat-miner/test/telegram"
    target = load_target(folder / "target.json")
    docs, errors = parse(TelegramConnector(), folder / name)
    assert errors == []
    got = [(naive(s.timestamp), s.author, "".join(s.text.split())) for s in sections_of(docs)]
    assert got == [(t, a, "".join(m.split())) for t, a, m in target]
    if name == "test_batch_export.json":
        assert docs[0].metadata["chat"] == "Chatname"


def test_instagram_matches_chat_miner_target(corpus: Path) -> None:
    folder = corpus / "chat-miner/test/instagram"
    target = load_target(folder / "target.json")
    docs, errors = parse(MessengerConnector(), folder / "test_export.json")
    assert errors == []
    got = [(naive(s.timestamp), s.author, s.text) for s in sections_of(docs)]
    # The export lists newest first; documents and sections run oldest first.
    assert got == sorted(target)
    assert {d.metadata["platform"] for d in docs} == {"instagram"}


def test_whatsapp_chat_parser_short_chat(corpus: Path) -> None:
    """whatsapp-chat-parser's own test expects 5 messages and keeps blank lines.

    Every date field is 12 or less; read day first (as the manifest guesses) the
    dates would run 6 Mar, 8 May, 9 Apr: backwards. Read month first they run
    forward, which is also what whatsapp-chat-parser's ``checkDecreasing`` picks.
    """
    docs, errors = parse(WhatsAppConnector(), corpus / "whatsapp-chat-parser/samples/short-chat.txt")
    assert errors == []
    sections = sections_of(docs)
    assert len(sections) == 5
    assert [s.author for s in sections] == [None, None, "Sample User", "TestBot", "+410123456789"]
    assert sections[4].text == "How are you?\n\nIs everything alright?"
    assert [naive(s.timestamp) for s in sections[2:]] == [
        datetime(2017, 6, 3, 0, 45),
        datetime(2017, 8, 5, 1, 48),
        datetime(2017, 9, 4, 1, 50),
    ]


def test_whatsapp_chat_parser_empty_file_is_a_clear_error(corpus: Path) -> None:
    path = corpus / "whatsapp-chat-parser/samples/empty.txt"
    with pytest.raises(ChatExportError, match="empty file"):
        parse(WhatsAppConnector(), path)


@pytest.mark.parametrize(
    ("name", "count", "first"),
    [
        ("lorem.txt", 500, (datetime(2020, 1, 15, 2, 22, 56), "Mary")),
        ("lorem-2000.txt", 2000, (datetime(2019, 4, 16, 2, 9), "+1 123 456 789")),
        ("lorem-merge-part1.txt", 300, (datetime(2019, 10, 20, 10, 16), "John")),
        ("lorem-merge-part2.txt", 300, (datetime(2020, 6, 20, 10, 16), "John")),
        ("pokemon.txt", 20, (datetime(2016, 8, 6, 13, 23), "Ash Ketchum")),
    ],
)
def test_whatstk_chats(corpus: Path, name: str, count: int, first: tuple[datetime, str]) -> None:
    path = corpus / "whatstk/chats/whatsapp" / name
    raw_lines = path.read_text(encoding="utf-8").splitlines()
    docs, errors = parse(WhatsAppConnector(), path)
    assert errors == []
    sections = sections_of(docs)
    assert len(sections) == count
    authored = [s for s in sections if s.author]
    assert (naive(authored[0].timestamp), authored[0].author) == first
    times = [s.timestamp for s in sections]
    assert times == sorted(times)
    if name == "pokemon.txt":
        # Both encryption notices are system lines, even the one written as if the
        # chat had said it; the last message spans two lines (a blank one).
        assert [s.author for s in sections[:2]] == [None, None]
        assert raw_lines[-1] == ""
        assert sections[-1].text == "Wo-bbu-ffet"


def _render(fmt: str, moment: datetime, name: str, year4: bool) -> str:
    year = f"{moment.year:04d}" if year4 else f"{moment.year % 100:02d}"
    out = (
        fmt.replace("%y", year)
        .replace("%m", f"{moment.month:02d}")
        .replace("%d", f"{moment.day:02d}")
        .replace("%H", f"{moment.hour:02d}")
        .replace("%I", f"{(moment.hour % 12) or 12:02d}")
        .replace("%M", f"{moment.minute:02d}")
        .replace("%S", f"{moment.second:02d}")
        .replace("%p", "AM" if moment.hour < 12 else "PM")
        .replace("%name", name)
    )
    return out


def test_whatstk_header_formats_all_parse(corpus: Path) -> None:
    """A three-message chat in each of whatstk's supported header layouts, with
    two- and four-digit years, parses to the same authors, times and texts."""
    formats = json.loads((corpus / "whatstk/whatstk/whatsapp/assets/header_format_support.json").read_text())
    assert len(formats) > 50
    moments = [
        datetime(2020, 1, 5, 10, 5, 9),
        datetime(2020, 1, 31, 14, 30, 0),
        datetime(2020, 2, 14, 23, 59, 58),
    ]
    failures: list[str] = []
    for entry in formats:
        fmt = entry["format"]
        for year4 in (True, False):
            lines = [_render(fmt, m, f"Person {i}", year4) + f" message {i}" for i, m in enumerate(moments)]
            messages, errors = parse_whatsapp_text("\n".join(lines), fmt)
            with_seconds = "%S" in fmt
            expected = [
                (m if with_seconds else m.replace(second=0), f"Person {i}", f"message {i}")
                for i, m in enumerate(moments)
            ]
            got = [(naive(m.timestamp), m.author, m.text) for m in messages]
            if errors or got != expected:
                failures.append(f"{fmt} ({'4' if year4 else '2'}-digit year): {got}")
    assert failures == []


# ------------------------------------------------------------------ WhatsApp


def test_whatsapp_ios_fixture() -> None:
    """CRLF, U+200E marks, narrow no-break space before PM, a month-first date
    order that only the 8th message settles, system lines, multi-line text."""
    path = FIXTURES / "WhatsApp Chat - Family.txt"
    assert dispatch(path) == "whatsapp"
    docs, errors = parse(WhatsAppConnector(), path)
    assert errors == []
    assert [d.key for d in docs] == ["Family/2021-01", "Family/2021-02"]
    assert docs[0].title == "WhatsApp: Family"
    assert docs[0].metadata["chat"] == "Family"
    assert docs[0].metadata["platform"] == "whatsapp"
    assert docs[0].metadata["time_zone"] == "local"
    sections = sections_of(docs)
    assert [(s.locator, s.author) for s in sections] == [
        ("2021-01-05 21:03", None),  # encryption notice, written as if by "Family"
        ("2021-01-05 21:03", None),  # "Family: Mom created group" (iOS system line)
        ("2021-01-05 21:04", "Mom"),
        ("2021-01-05 21:05", "Dad"),
        ("2021-01-06 00:00", "Dad"),  # 12:00 AM is midnight (sorted by time)
        ("2021-01-06 07:15", "Mom"),
        ("2021-01-06 12:30", "Dad"),  # 12:30 PM is half past noon
        ("2021-01-13 08:00", None),  # subject change with a colon inside quotes
        ("2021-02-01 10:10", "Sis"),  # "~ Sis": not in the contacts
    ]
    texts = [s.text for s in sections]
    assert texts[1] == "Mom created group “Family”"
    assert texts[3] == "image omitted"
    assert texts[5] == "Dinner on Sunday?\nBring the salad.\n\nAnd the wine."
    assert texts[7] == "Mom changed the subject to “Family: plans”"
    assert all("\u200e" not in t and "\r" not in t for t in texts)
    assert docs[0].participants == ["Mom", "Dad"]
    assert docs[0].metadata["media"] == ["00000005-PHOTO-2021-01-06-12-30-00.jpg"]
    assert docs[0].sections[0].timestamp == datetime(2021, 1, 5, 21, 3, 11, tzinfo=UTC)
    assert docs[0].text.splitlines()[2] == "2021-01-05 21:04 Mom: Hi everyone!"


def test_whatsapp_android_german_dotted_dates() -> None:
    docs, errors = parse(WhatsAppConnector(), FIXTURES / "WhatsApp Chat mit Silvester.txt")
    assert errors == []
    assert [d.key for d in docs] == ["Silvester/2020-12", "Silvester/2021-01"]
    sections = sections_of(docs)
    assert [s.author for s in sections] == [None, None, "Jörg", "Anna", "Jörg", "Anna", None]
    assert sections[3].text == "Danke, dir auch!\nWir sehen uns morgen."
    assert sections[4].text == "<Medien ausgeschlossen>"
    assert sections[6].text == "Anna hat Bernd hinzugefügt"
    assert docs[1].metadata["media"] == ["IMG-20210101-WA0001.jpg"]
    assert naive(sections[2].timestamp) == datetime(2020, 12, 31, 23, 59)


def test_whatsapp_localized_am_pm_markers() -> None:
    docs, errors = parse(WhatsAppConnector(), FIXTURES / "chat_es.txt")
    assert errors == []
    got = [(s.locator, s.author) for s in sections_of(docs)]
    # "3/4/21" is 3 April: only the last line ("25/4/21") shows the day comes first.
    assert got == [
        ("2021-04-03 20:15", "Lucía"),
        ("2021-04-03 20:16", "Mateo"),
        ("2021-04-04 00:05", "Mateo"),
        ("2021-04-04 09:00", "Lucía"),
        ("2021-04-25 18:45", "Mateo"),
    ]
    docs, errors = parse(WhatsAppConnector(), FIXTURES / "chat_ja.txt")
    assert errors == []
    ja = [(s.locator, s.author, s.text) for s in sections_of(docs)]
    assert ja[0] == ("2021-01-05 15:04", "太郎", "こんにちは")
    assert ja[2][0] == "2021-01-06 09:00"  # 午前9:00
    assert ja[3][0] == "2021-01-06 12:10"  # 午後12:10 is ten past noon


def test_date_order_is_decided_from_the_whole_file() -> None:
    # The first lines are ambiguous; a late line with a first field above 12 settles
    # day-first for all of them.
    text = "\n".join(
        [
            "03/04/2021, 10:00 - A: one",
            "05/04/2021, 10:00 - B: two",
            *[f"{d:02d}/04/2021, 11:00 - A: more" for d in range(6, 12)],
            "13/04/2021, 09:00 - B: settles it",
        ]
    )
    messages, _ = parse_whatsapp_text(text, "t")
    assert naive(messages[0].timestamp) == datetime(2021, 4, 3, 10, 0)
    # The same dates in the month-first order read month first.
    text_us = text.replace("03/04", "04/03").replace("05/04", "04/05").replace("13/04", "04/13")
    for d in range(6, 12):
        text_us = text_us.replace(f"{d:02d}/04/2021", f"04/{d:02d}/2021")
    messages, _ = parse_whatsapp_text(text_us, "t")
    assert naive(messages[0].timestamp) == datetime(2021, 4, 3, 10, 0)
    # With every field 12 or less, the order under which time runs forward wins.
    forward_day_first = [
        ("01", "02", "2021"),
        ("05", "02", "2021"),
        ("10", "02", "2021"),
        ("02", "03", "2021"),
    ]
    assert decide_date_order(forward_day_first) == "dmy"
    forward_month_first = [(b, a, y) for a, b, y in forward_day_first]
    assert decide_date_order(forward_month_first) == "mdy"
    # Two-digit years first: "20-01-31" is 31 January 2020.
    assert decide_date_order([("20", "01", "05"), ("20", "01", "31"), ("20", "02", "14")]) == "ymd"
    # Truly ambiguous single date: US 12-hour layout prefers month first.
    assert decide_date_order([("01", "02", "21")], prefer_month_first=True) == "mdy"
    assert decide_date_order([("01", "02", "21")]) == "dmy"


def test_whatsapp_line_starting_with_a_date_inside_a_message() -> None:
    text = (
        "[12/01/2021, 10:00:00] Ann: the dates are\n"
        "13/01/2021, 11:00 - this is not a header of this layout\n"
        "[13/01/2021, 10:00:00] Ben: ok"
    )
    messages, errors = parse_whatsapp_text(text, "t")
    assert errors == []
    assert [m.author for m in messages] == ["Ann", "Ben"]
    assert messages[0].text.endswith("not a header of this layout")


def test_whatsapp_zip(tmp_path: Path) -> None:
    chat = (FIXTURES / "WhatsApp Chat - Family.txt").read_bytes()
    archive = tmp_path / "WhatsApp Chat - Family.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("_chat.txt", chat)
        zf.writestr("00000005-PHOTO-2021-01-06-12-30-00.jpg", b"\xff\xd8fakejpeg")
        zf.writestr("00000007-AUDIO-2021-02-01-10-11-00.opus", b"OggS")
        zf.writestr("__MACOSX/._chat.txt", b"\x00\x05\x16\x07junk")
    assert dispatch(archive) == "whatsapp"
    docs, errors = parse(WhatsAppConnector(), archive)
    assert errors == []
    assert [d.key for d in docs] == ["Family/2021-01", "Family/2021-02"]
    assert docs[0].metadata["media"] == ["00000005-PHOTO-2021-01-06-12-30-00.jpg"]
    # Media no message names land in the month their file name dates them to.
    assert docs[1].metadata["media"] == ["00000007-AUDIO-2021-02-01-10-11-00.opus"]
    assert len(sections_of(docs)) == 9


def test_zip_without_a_chat_is_a_clear_error(tmp_path: Path) -> None:
    archive = tmp_path / "holiday.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("IMG-20210101-WA0001.jpg", b"\xff\xd8")
        zf.writestr("notes.txt", "just some notes, not a chat\n")
        zf.writestr("__MACOSX/._WhatsApp Chat with X.txt", b"\x00\x05")
    assert dispatch(archive) is None
    with pytest.raises(ChatExportError, match="no WhatsApp chat"):
        parse(WhatsAppConnector(), archive)
    with pytest.raises(ChatExportError, match="no Slack export"):
        parse(SlackConnector(), archive)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    assert dispatch(broken) is None
    with pytest.raises(ChatExportError, match="zip"):
        parse(WhatsAppConnector(), broken)


def test_growing_export_only_changes_the_newest_month() -> None:
    base = (FIXTURES / "WhatsApp Chat mit Silvester.txt").read_text(encoding="utf-8")
    before, _ = parse_whatsapp_text(base, "t", "Silvester")
    grown = base + "03.01.21, 12:00 - Jörg: Noch eine Nachricht\n"
    after, _ = parse_whatsapp_text(grown, "t", "Silvester")
    conn = WhatsAppConnector()
    from connectors.chat.common import month_documents

    def docs(messages: list) -> dict[str, str]:
        return {
            d.key: d.content_hash()
            for d in month_documents(
                messages,
                platform=conn.platform,
                chat="Silvester",
                chat_id=None,
                key_prefix="Silvester",
            )
        }

    old, new = docs(before), docs(after)
    assert old.keys() == new.keys()
    assert old["Silvester/2020-12"] == new["Silvester/2020-12"]
    assert old["Silvester/2021-01"] != new["Silvester/2021-01"]


def test_whatsapp_parses_100k_lines_in_linear_time(corpus: Path, tmp_path: Path) -> None:
    """100,000 lines parse completely, and ten times the lines cost about ten times
    the CPU, not a hundred (a quadratic join or lookup). A ratio of two runs in one
    process holds on a loaded machine, where an absolute limit does not; the speed
    itself is measured by scripts/bench (docs/benchmarks.md)."""
    sample = (corpus / "whatstk/chats/whatsapp/lorem-merge-part1.txt").read_text(encoding="utf-8")
    lines = [line for line in sample.splitlines() if line]
    out: list[str] = []
    day = 0
    while len(out) < 100_000:
        day += 1
        stamp = f"{(day % 28) + 1:02d}/{(day // 28) % 12 + 1:02d}/{2000 + day // 336}"
        out.extend(f"{stamp}, {line.split(', ', 1)[1]}" for line in lines[:100])
    spent: dict[int, float] = {}
    for count in (10_000, 100_000):
        path = tmp_path / f"big{count}.txt"
        path.write_text("\n".join(out[:count]), encoding="utf-8")
        start = time.process_time()
        docs, errors = parse(WhatsAppConnector(), path)
        spent[count] = time.process_time() - start
        assert errors == []
        assert sum(len(d.sections) for d in docs) == count
    print(f"WhatsApp lines: 10,000 in {spent[10_000]:.2f} s CPU, 100,000 in {spent[100_000]:.2f} s")
    assert spent[100_000] < 25 * max(spent[10_000], 0.01)


# ------------------------------------------------------------------ Telegram


def test_telegram_full_account_export() -> None:
    path = FIXTURES / "telegram_full_result.json"
    assert dispatch(path) == "telegram"
    docs, errors = parse(TelegramConnector(), path)
    assert errors == []
    assert [d.key for d in docs] == ["4242/2021-03", "4242/2021-04", "777/2021-03"]
    first = docs[0]
    assert first.title == "Telegram: Charles Babbage"
    assert first.metadata["chat_id"] == "4242"
    assert first.metadata["chat_type"] == "personal_chat"
    texts = [s.text for s in first.sections]
    assert texts[1] == ("(reply to Ada Lovelace) The Analytical Engine drawings are at https://example.org/engine.")
    assert texts[2] == "[photo]"
    assert texts[3] == "[sticker 👍]"
    assert first.metadata["media"] == ["photo_1@01-03-2021_09-06-00.jpg"]  # not the missing file
    assert docs[1].sections[0].text == "notes (https://example.org/notes) for April"
    club = docs[2]
    assert club.sections[0].author is None
    assert club.sections[0].text.startswith("Ada Lovelace create group")
    assert "Charles Babbage" in club.sections[0].text
    assert club.participants == ["Charles Babbage"]
    # One message has only "date" (the exporter's wall clock), not "date_unixtime".
    assert club.metadata["time_zone"] == "local"
    assert club.sections[1].timestamp == datetime(2021, 3, 3, 10, 1, tzinfo=UTC)


def test_truncated_json_is_a_clear_error(tmp_path: Path) -> None:
    whole = (FIXTURES / "telegram_full_result.json").read_text(encoding="utf-8")
    cut = tmp_path / "result.json"
    cut.write_text(whole[: len(whole) // 2], encoding="utf-8")
    assert dispatch(cut) == "telegram"  # the sniff sees a Telegram head
    with pytest.raises(ChatExportError, match="truncated JSON"):
        parse(TelegramConnector(), cut)
    for connector in (DiscordConnector(), MessengerConnector()):
        with pytest.raises(ChatExportError, match="truncated JSON"):
            parse(connector, cut)


def test_empty_json_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "result.json"
    empty.write_bytes(b"")
    assert dispatch(empty) is None
    for connector in (TelegramConnector(), DiscordConnector(), MessengerConnector()):
        with pytest.raises(ChatExportError, match="empty file"):
            parse(connector, empty)


# ------------------------------------------------------------- Messenger / Instagram


def test_messenger_mojibake_is_repaired() -> None:
    path = FIXTURES / "facebook" / "message_1.json"
    raw = path.read_text(encoding="utf-8")
    assert "\\u00c3\\u00a9" in raw  # the file really holds the mis-decoded bytes
    assert dispatch(path) == "messenger"
    docs, errors = parse(MessengerConnector(), path)
    assert errors == []
    assert {d.metadata["platform"] for d in docs} == {"messenger"}
    assert docs[0].title == "Messenger: Renée Dupré"
    assert docs[0].metadata["thread_participants"] == ["Renée Dupré", "Sam Smith"]
    sections = sections_of(docs)
    # Newest first in the file, oldest first here.
    assert [s.author for s in sections] == [None, "Renée Dupré", "Renée Dupré", "Sam Smith"]
    assert sections[1].text == "Bonne année ! Ça va ?"
    assert sections[2].text == "[attachment: 1234.jpg]"
    assert sections[3].text == "See you at the café 😀 [reactions: Renée Dupré ❤]"
    assert docs[-1].metadata["media"] == ["1234.jpg"]
    assert sections[3].timestamp == datetime(2021, 2, 2, 0, 0, tzinfo=UTC)


def test_fix_mojibake_leaves_good_text_alone() -> None:
    assert fix_mojibake("CafÃ© Ã¼ber") == "Café über"
    assert fix_mojibake("Café über") == "Café über"  # é alone is not valid UTF-8
    assert fix_mojibake("plain") == "plain"
    assert fix_mojibake("😀 ok") == "😀 ok"  # not Latin-1 at all


# ------------------------------------------------------------------ Slack


def test_slack_archive_resolves_mentions_and_bots(corpus: Path) -> None:
    path = corpus / "slack-export-viewer/tests/testarchive.zip"
    docs, errors = parse(SlackConnector(), path)
    assert errors == []
    assert [d.key for d in docs] == [
        "enrique/2016-01",
        "enrique/2016-02",
        "enrique/2016-03",
        "traveling-sailor/2016-01",
        "traveling-sailor/2016-02",
        "traveling-sailor/2016-03",
    ]
    first = docs[0]
    assert first.title == "Slack: #enrique"
    assert first.metadata["chat_id"] == "C0JGLMMNX"
    texts = [(s.author, s.text) for s in first.sections]
    assert (
        "Hamza Faran",
        "@Harry Potter: Created an issue for a setup.py so that it can be installed to a standard place",
    ) in texts
    assert (None, "@Harry Potter has joined the channel") in texts
    assert all("<@" not in d.text for d in docs)
    # Integration posts are named after the integration added to the channel.
    assert "github" in docs[1].participants
    assert any(s.text.startswith("[enrique:master] 1 new commit by") for s in docs[1].sections)


def test_slack_folder_equals_zip(corpus: Path, tmp_path: Path) -> None:
    archive = corpus / "slack-export-viewer/tests/testarchive.zip"
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp_path / "export")
    folder = tmp_path / "export"
    assert dispatch(folder) == "slack"
    assert dispatch(folder / "enrique") is None
    zipped, _ = parse(SlackConnector(), archive)
    unpacked, errors = parse(SlackConnector(), folder)
    assert errors == []
    assert [(d.key, d.content_hash()) for d in zipped] == [(d.key, d.content_hash()) for d in unpacked]


def test_slack_threads_links_and_files() -> None:
    folder = FIXTURES / "slack-export"
    assert dispatch(folder) == "slack"
    docs, errors = parse(SlackConnector(), folder)
    assert errors == []
    (doc,) = docs
    assert doc.metadata["threads"] == 1
    got = [(s.author, s.text) for s in doc.sections]
    assert got == [
        (None, "@Charles Babbage has joined the channel"),
        (
            "Ada Lovelace",
            "(thread with 1 reply) Plans for the engine & the mill? See #random "
            "and the plans (https://example.org/plans)",
        ),
        (
            "Charles Babbage",
            "(reply to Ada Lovelace in thread) @Ada Lovelace I will bring the gears <3",
        ),
        ("Charles Babbage", "[file: gears.pdf]"),
    ]
    assert doc.metadata["media"] == ["gears.pdf"]


# ------------------------------------------------------------------ Discord


def test_discord_export() -> None:
    path = FIXTURES / "discord_general.json"
    assert dispatch(path) == "discord"
    docs, errors = parse(DiscordConnector(), path)
    assert errors == []
    assert [d.key for d in docs] == ["222/2023-04", "222/2023-05"]
    assert docs[0].title == "Discord: Makers / #general"
    sections = sections_of(docs)
    assert [(s.author, s.text) for s in sections] == [
        (None, "Grace H. joined the server"),
        ("Grace H.", "Hi all, the soldering station is fixed. [attachment: station.jpg]"),
        ("linus", "(reply to Grace H.) Great news!"),
    ]
    # "+02:00" in the export: stored in UTC.
    assert sections[1].timestamp == datetime(2023, 4, 30, 6, 1, 30, 123000, tzinfo=UTC)
    assert docs[0].metadata["media"] == ["station.jpg"]


# ------------------------------------------------------------------ Signal


def test_signal_export_markdown_and_json_agree() -> None:
    folder = FIXTURES / "signal-export" / "Alice"
    assert dispatch(folder / "chat.md") == "signal"
    assert dispatch(folder / "data.json") == "signal"
    md_docs, md_errors = parse(SignalConnector(), folder / "chat.md")
    js_docs, js_errors = parse(SignalConnector(), folder / "data.json")
    assert md_errors == js_errors == []
    for docs in (md_docs, js_docs):
        assert [d.key for d in docs] == ["Alice/2022-07", "Alice/2022-08"]
        assert docs[0].title == "Signal: Alice"
        got = [(s.locator, s.author, s.text) for s in sections_of(docs)]
        assert got == [
            ("2022-07-01 18:30", "Alice", "Are we still on for the hike?"),
            (
                "2022-07-01 18:31",
                "Me",
                '(reply to "Are we still on for the hike?") Yes! Meet at the trailhead at 8.',
            ),
            ("2022-07-01 18:32", "Alice", "Map attached [attachment: trail-map.png]"),
            ("2022-08-02 07:00", "Alice", "Another hike\nnext month?"),
        ]
        assert docs[0].metadata["media"] == ["trail-map.png"]


def test_iso_bracket_text_needs_a_hint_to_be_read_as_signal(tmp_path: Path) -> None:
    """The ISO bracket layout is also WhatsApp's: outside a Signal path it is WhatsApp."""
    line = "[2019-12-24, 12:23] Jane Doe: Hello John!\n"
    plain = tmp_path / "exports" / "phone" / "chat.txt"
    plain.parent.mkdir(parents=True)
    plain.write_text(line, encoding="utf-8")
    assert dispatch(plain) == "whatsapp"
    hinted = tmp_path / "signal" / "chat.txt"
    hinted.parent.mkdir()
    hinted.write_text(line, encoding="utf-8")
    assert dispatch(hinted) == "signal"


# ------------------------------------------------------------ plugins, script


def test_connector_names_and_priorities() -> None:
    names = {c.name: c for c in CONNECTORS}
    assert set(names) == {"whatsapp", "telegram", "signal", "slack", "discord", "messenger"}
    assert all(c.priority > 0 and c.kind == KIND_CHAT for c in CONNECTORS)
    assert names["signal"].priority > names["whatsapp"].priority
    assert names["slack"].claims_directories


def test_make_big_chats_small(tmp_path: Path) -> None:
    out = tmp_path / "big"
    needle = "The spare boat key is under the blue flowerpot."
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "make_big_chats.py"),
            str(out),
            "--telegram-messages",
            "300",
            "--whatsapp-lines",
            "700",
            "--needle",
            needle,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    wa = out / "WhatsApp Chat with Big Family.txt"
    tg = out / "telegram" / "result.json"
    assert len(wa.read_text(encoding="utf-8").splitlines()) == 700
    assert dispatch(wa) == "whatsapp"
    assert dispatch(tg) == "telegram"
    wa_docs, wa_errors = parse(WhatsAppConnector(), wa)
    tg_docs, tg_errors = parse(TelegramConnector(), tg)
    assert wa_errors == tg_errors == []
    assert sum(len(d.sections) for d in tg_docs) == 300
    for docs in (wa_docs, tg_docs):
        hits = [s for s in sections_of(docs) if s.text == needle]
        assert len(hits) == 1 and hits[0].author == "Ada Lovelace"
    assert any(s.text.startswith("(reply to ") for s in sections_of(tg_docs))
    assert any(s.author is None for s in sections_of(wa_docs))


def test_whatsapp_one_to_one_chat_keeps_the_contact_as_author(tmp_path: Path) -> None:
    """A one-to-one export is named after the contact, whose media notes iOS marks
    with U+200E like system lines: they stay the contact's messages."""
    lrm = "\u200e"
    path = tmp_path / "WhatsApp Chat - Alice.txt"
    path.write_text(
        f"[02/03/2021, 10:00:00] Alice: {lrm}Messages and calls are end-to-end encrypted.\n"
        "[02/03/2021, 10:00:05] Alice: hi!\n"
        f"[02/03/2021, 10:01:00] Alice: {lrm}image omitted\n"
        f"[02/03/2021, 10:02:00] Alice: {lrm}<attached: 00000003-PHOTO-2021-03-02-10-02-00.jpg>\n"
        "[13/03/2021, 09:00:00] Bob: hello\n",
        encoding="utf-8",
    )
    docs, errors = parse(WhatsAppConnector(), path)
    assert errors == []
    got = [(s.author, s.text) for s in sections_of(docs)]
    assert got == [
        (None, "Messages and calls are end-to-end encrypted."),
        ("Alice", "hi!"),
        ("Alice", "image omitted"),
        ("Alice", "<attached: 00000003-PHOTO-2021-03-02-10-02-00.jpg>"),
        ("Bob", "hello"),
    ]
    assert docs[0].metadata["media"] == ["00000003-PHOTO-2021-03-02-10-02-00.jpg"]


def test_a_dated_note_is_not_a_whatsapp_chat(tmp_path: Path) -> None:
    note = tmp_path / "notes.txt"
    note.write_text("2021-03-04 10:00 - called the plumber\nHe comes on Monday.\n", "utf-8")
    assert dispatch(note) is None
    log = tmp_path / "log.txt"
    log.write_text("2021-03-04 10:00 - Ann: called the plumber\n", "utf-8")
    assert dispatch(log) == "whatsapp"
