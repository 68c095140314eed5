"""Relative time in chat messages resolved against the message's send time
(assistant/ingest/relative_time.py), with the real dateparser and Babel data."""

from __future__ import annotations

from datetime import datetime

import pytest

from assistant.ingest.relative_time import annotate, annotate_lines, chat_languages, describe, resolve_relative

# a Friday, two days into a new year: last week, last Friday and two weekends ago
# all fall in December of the year before
NEW_YEAR = datetime(2026, 1, 2, 18, 0)


def notes(text: str, sent: datetime, languages: tuple[str, ...] = ("en",)) -> dict[str, str]:
    return {r.phrase.lower(): describe(r, sent) for r in resolve_relative(text, sent, languages)}


@pytest.mark.parametrize(
    ("text", "phrase", "meaning"),
    [
        ("I went hiking yesterday with Anna", "yesterday", "1 January 2026"),
        ("the day before yesterday was fun", "day before yesterday", "31 December 2025"),
        ("three days ago I called mum", "three days ago", "30 December 2025"),
        ("last week I started pottery", "last week", "the week before 2 January 2026"),
        ("I saw her last Friday", "last friday", "Friday 26 December 2025, the Friday before 2 January 2026"),
        ("we had a picnic last weekend", "last weekend", "the weekend before 2 January 2026"),
        (
            "two weekends ago we went to the lake",
            "two weekends ago",
            "2 weekends before 2 January 2026, the weekend of 20 December 2025",
        ),
        ("Last year, I helped renovate the centre", "last year", "2025"),
        ("see you tomorrow!", "tomorrow", "3 January 2026"),
    ],
)
def test_english_phrases_resolve_across_the_year_end(text: str, phrase: str, meaning: str) -> None:
    assert notes(text, NEW_YEAR) == {phrase: meaning}


def test_across_a_month_end() -> None:
    sent = datetime(2023, 3, 1, 9, 30)  # 2023 is no leap year
    assert notes("I got the keys yesterday", sent) == {"yesterday": "28 February 2023"}
    assert notes("we moved in three days ago", sent) == {"three days ago": "26 February 2023"}


@pytest.mark.parametrize(
    ("language", "text", "phrase", "meaning"),
    [
        ("it", "ieri sono andata al mare", "ieri", "1 January 2026"),
        ("it", "la settimana scorsa ho visto Marco", "settimana scorsa", "the week before 2 January 2026"),
        ("fr", "hier j'ai vu Paul", "hier", "1 January 2026"),
        ("fr", "la semaine dernière on a fini", "la semaine dernière", "the week before 2 January 2026"),
        ("de", "gestern war ich beim Zahnarzt", "gestern", "1 January 2026"),
        ("de", "letzte Woche war viel los", "letzte woche", "the week before 2 January 2026"),
        ("es", "ayer fui al cine", "ayer", "1 January 2026"),
        ("es", "la semana pasada fuimos a Madrid", "la semana pasada", "the week before 2 January 2026"),
    ],
)
def test_other_languages(language: str, text: str, phrase: str, meaning: str) -> None:
    assert notes(text, NEW_YEAR, (language, "en")) == {phrase: meaning}


@pytest.mark.parametrize(
    "text",
    [
        "we may go there",  # "we" is no Wednesday, "may" no month
        "May I ask something?",  # a lone month name
        "I've known these friends for 4 years",  # a length, not a date
        "we met on 7 May 2023 at the station",  # already absolute
        "today was long",  # the message's own date, shown already
        "we meet in May",  # a month alone: last May or next May, the message does not say
        "Termin: Montag, 26. Januar",  # a date without its year is no relative phrase
        "check-in Friday from 16:00, check-out Monday by 11:00",  # this Friday or next? not said
        "no time words in here at all",
    ],
)
def test_what_is_no_relative_date(text: str) -> None:
    assert notes(text, NEW_YEAR) == {}


def test_the_note_comes_after_the_message_words_unchanged() -> None:
    text = "I went to a support group yesterday and it was so powerful."
    written = annotate(text, datetime(2023, 5, 8, 13, 58), ("en",))
    assert written == text + " [yesterday = 7 May 2023]"
    assert annotate("nothing relative", NEW_YEAR, ("en",)) == "nothing relative"


def test_a_chat_language_is_read_from_all_its_lines() -> None:
    italian = ["Ciao! Come stai?", "Tutto bene, grazie. Ieri sono andata al mare con Giulia.", "Che bello!"]
    assert chat_languages(italian)[0] == "it"
    assert "en" in chat_languages(italian)
    assert chat_languages([]) == ("en",)


def test_a_mail_line_gets_the_date_its_yesterday_meant() -> None:
    body = "Sehr geehrte Frau Lombardi,\nwie gestern telefonisch besprochen, bestätigen wir.\nMontag, 26. Januar"
    written = annotate_lines(body, datetime(2026, 1, 21, 11, 47), ("de", "en")).split("\n")
    assert written[1].endswith("[gestern = 20 January 2026]")
    assert written[0] == "Sehr geehrte Frau Lombardi," and written[2] == "Montag, 26. Januar"
