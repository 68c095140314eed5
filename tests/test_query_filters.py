"""Filters said in words (assistant/retrieval/query_filters.py): kinds, people and dates."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from assistant.retrieval.query_filters import Extracted, extract_filters
from assistant.retrieval.search_types import Filters

NOW = datetime(2026, 4, 15, 10, 0, tzinfo=UTC)  # a Wednesday
KNOWN = [
    "Anna Keller <anna.keller@example.com>",
    "anna.keller@example.com",
    "Marco Bianchi",
    "Priya Shah <priya@example.org>",
    "Sofia Rossi <sofia@example.net>",
]
# two Annas and two Kellers
KNOWN_TWINS = [*KNOWN, "Anna Schmidt <anna.s@example.net>", "Tom Keller"]


def period(got: Extracted) -> tuple[datetime | None, datetime | None]:
    """The period read from the question, a filter or a hint."""
    f = got.filters
    return (f.after or f.hint_after, f.before or f.hint_before)


def ex(question: str, known: list[str] | None = None, now: datetime = NOW) -> Extracted:
    return extract_filters(question, known_persons=KNOWN if known is None else known, now=now)


def utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


CHUNK_PERSONS = [  # chunks' persons column, as assistant/ingest/chunking.py writes it
    "anna keller <anna.keller@example.com>",
    "anna keller; marco bianchi",
    "anna schmidt <anna.s@example.net>",
    "tom keller",
    "priya shah <priya@example.org>",
]


def selected(filters: Filters, persons: list[str] | None = None) -> set[str]:
    """The persons strings of the chunks that ``Filters.sql`` lets through."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE chunks (kind TEXT, source_id INT, persons TEXT, ts_start INT, ts_end INT)")
    conn.executemany("INSERT INTO chunks VALUES ('email', 1, ?, 0, 0)", [(p,) for p in persons or CHUNK_PERSONS])
    where, params = filters.sql()
    return {row[0] for row in conn.execute(f"SELECT c.persons FROM chunks c WHERE {where}", params)}


# ----------------------------------------------------------------- the examples


def test_emails_from_anna_last_march() -> None:
    q = "emails from Anna last March"
    got = ex(q)
    assert got.filters.kinds == ["email"]
    assert got.filters.persons == ["anna keller"]
    # last March, asked in April 2026, is March 2026
    assert period(got) == (utc(2026, 3, 1), utc(2026, 4, 1))
    # nothing but filters: the query falls back to the question
    assert got.query == q
    assert got.has_topic is False
    assert got.applied == ["kind: email", "person: Anna Keller", "date: March 2026"]


def test_what_did_marco_say_on_whatsapp() -> None:
    got = ex("what did Marco say on WhatsApp about the cabin")
    assert got.filters.kinds == ["chat"]
    assert got.filters.persons == ["marco bianchi"]
    assert "cabin" in got.query
    assert "whatsapp" not in got.query.lower()
    assert "marco" not in got.query.lower()  # the filter holds the name
    assert got.has_topic is True
    assert period(got) == (None, None)


def test_notes_about_sourdough_in_2025() -> None:
    got = ex("notes about sourdough in 2025")
    assert got.filters.kinds == ["note"]
    assert period(got) == (utc(2025, 1, 1), utc(2026, 1, 1))
    assert got.query == "sourdough"
    assert got.applied == ["kind: note", "date: 2025"]


def test_messages_from_priya_since_january() -> None:
    q = "messages from Priya since January"
    got = ex(q)
    assert got.filters.kinds == []  # "messages" is too generic to be a kind
    assert got.filters.persons == ["priya shah"]
    assert period(got)[0] == utc(2026, 1, 1)
    assert period(got)[1] is None
    assert got.query == q and not got.has_topic
    assert "date: since 1 January 2026" in got.applied


def test_a_name_not_in_the_store_is_left_alone() -> None:
    got = ex("emails from Zed")
    assert got.filters.kinds == ["email"]
    assert got.filters.persons == []
    assert "Zed" in got.query
    assert not any(a.startswith("person:") for a in got.applied)


# ----------------------------------------------------------------- kinds


@pytest.mark.parametrize(
    "question",
    [
        "what is the email address of the plumber",
        "how do I file a claim with the insurance",
        "note that the meeting moved, when is it",
        "what is Marco's WhatsApp number",
        "how do I back up WhatsApp",
        "how do I take notes faster",
        "signal strength at the cabin",
        "did I email back the landlord",
    ],
)
def test_kind_words_that_are_the_topic_set_no_kind(question: str) -> None:
    got = ex(question)
    assert got.filters.kinds == []
    assert got.query == question


@pytest.mark.parametrize(
    ("question", "kind", "topic"),
    [
        ("in my notes, what is the sourdough recipe", "note", "sourdough recipe"),
        ("PDFs about the lease", "file", "lease"),
        ("documents about the mortgage", "file", "mortgage"),
        ("what's in my inbox about the lease", "email", "lease"),
        ("in the group chat, who booked the hotel", "chat", "booked the hotel"),
        ("email thread about the budget", "email", "budget"),
        ("what did we say in Slack about the car", "chat", "car"),
        ("any e-mails about the boiler?", "email", "boiler"),
        ("Telegram messages about the flat", "chat", "flat"),
        ("search my files for the warranty", "file", "warranty"),
    ],
)
def test_kind_filter_phrases(question: str, kind: str, topic: str) -> None:
    got = ex(question)
    assert got.filters.kinds == [kind]
    assert topic in got.query
    assert got.has_topic
    assert f"kind: {kind}" in got.applied


def test_filter_phrases_leave_the_query_whole() -> None:
    # "did Marco say" and "on WhatsApp" go as phrases, not word by word
    assert ex("what did Marco say on WhatsApp about the cabin").query == "what about the cabin"
    assert ex("PDFs about the lease").query == "the lease"
    assert ex("in my notes, what is the sourdough recipe").query == "what is the sourdough recipe"


def test_emailing_someone_is_an_email_filter() -> None:
    got = ex("when did I email Marco about the deposit")
    assert got.filters.kinds == ["email"]
    assert got.filters.persons == ["marco bianchi"]
    assert "deposit" in got.query


# ----------------------------------------------------------------- persons


@pytest.mark.parametrize(
    ("question", "persons"),
    [
        ("what did Marco say about the boat", ["marco bianchi"]),
        ("Anna said something about the lease", ["anna keller"]),
        ("what Anna wrote about the lease", ["anna keller"]),
        ("Marco's messages about the boat", ["marco bianchi"]),
        ("anna's emails about the boat", ["anna keller"]),  # case-insensitive, possessive
        ("the report by Priya on the visa", ["priya shah"]),
        ("my chat with Priya about the visa", ["priya shah"]),
        ("what did I send to Sofia about the party", ["sofia rossi"]),
        ("what did Anna mention about the garden", ["anna keller"]),
        ("anything from Bianchi about the boat", ["marco bianchi"]),  # last name
        ("what did Marco Bianchi say about the boat", ["marco bianchi"]),  # full name
        ("emails from Anna Keller and Marco about the boat", ["anna keller", "marco bianchi"]),
        ("between Priya and Sofia, who paid for dinner", ["priya shah", "sofia rossi"]),
        ("what did Priya and I decide about the flat", ["priya shah"]),
        ("from anna.keller@example.com about rent", ["anna.keller@example.com"]),
    ],
)
def test_person_filter_phrases(question: str, persons: list[str]) -> None:
    got = ex(question)
    assert got.filters.persons == persons
    assert got.has_topic
    for name in ("marco", "priya", "sofia", "bianchi"):
        assert name not in got.query.lower()


@pytest.mark.parametrize(
    "question",
    [
        "is Anna coming to the party",
        "when is Anna's birthday",
        "what is Anna's email",  # her address, not her emails
        "photos of the trip with Marco",
    ],
)
def test_names_outside_filter_phrases_stay_in_the_query(question: str) -> None:
    got = ex(question)
    assert got.filters.persons == []
    assert got.query == question


def test_a_name_in_the_topic_is_not_a_second_filter() -> None:
    got = ex("what did Anna say about the trip with Marco")
    assert got.filters.persons == ["anna keller"]
    assert "Marco" in got.query


def test_shared_first_name_filters_by_the_first_name() -> None:
    got = ex("emails from Anna about the move", known=KNOWN_TWINS)
    assert got.filters.persons == ["anna"]
    label = next(a for a in got.applied if a.startswith("person:"))
    assert "Anna Keller" in label and "Anna Schmidt" in label
    # the bare name selects both people's chunks, and nobody else's
    assert selected(got.filters) == {
        "anna keller <anna.keller@example.com>",
        "anna keller; marco bianchi",
        "anna schmidt <anna.s@example.net>",
    }


def test_shared_last_name_filters_by_the_last_name() -> None:
    got = ex("did Keller send the invoice", known=KNOWN_TWINS)
    assert got.filters.persons == ["keller"]
    assert got.query == "the invoice"


def test_common_word_names_need_a_capital() -> None:
    known = [*KNOWN, "Will Turner"]
    assert ex("what did Will say about the roof", known=known).filters.persons == ["will turner"]
    assert ex("what will the roof cost", known=known).filters.persons == []


def test_person_known_only_by_address() -> None:
    got = ex("emails from Luca about the van", known=["luca.verdi@example.com"])
    assert got.filters.persons == ["luca.verdi@example.com"]
    assert got.query == "the van"


def test_person_value_matches_chunk_persons() -> None:
    """Filters.persons is a substring of the chunk's lower-cased "name <address>"."""
    got = ex("what did Anna write about the lease", known=["Keller, Anna <anna.keller@example.com>"])
    assert got.filters.persons == ["keller, anna"]
    assert selected(got.filters, ["keller, anna <anna.keller@example.com>", "marco bianchi"]) == {
        "keller, anna <anna.keller@example.com>"
    }


def test_canonical_name_selects_emails_and_chats() -> None:
    got = ex("what did Anna say about the lease")
    # an email (name and address) and a chat turn (the name alone) of the same person
    assert selected(got.filters) == {"anna keller <anna.keller@example.com>", "anna keller; marco bianchi"}


def test_no_known_persons() -> None:
    got = ex("what did Marco say about the boat", known=[])
    assert got.filters.persons == [] and got.query == "what did Marco say about the boat"


# ----------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("question", "after", "before"),
    [
        ("the roof in March 2025", utc(2025, 3, 1), utc(2025, 4, 1)),
        ("the roof March 2025", utc(2025, 3, 1), utc(2025, 4, 1)),
        ("the roof in April", utc(2026, 4, 1), utc(2026, 5, 1)),  # the current month
        ("the roof in May", utc(2025, 5, 1), utc(2025, 6, 1)),  # never the future
        ("the roof last April", utc(2025, 4, 1), utc(2025, 5, 1)),  # strictly before this month
        ("the roof last March", utc(2026, 3, 1), utc(2026, 4, 1)),
        ("the roof in 2025", utc(2025, 1, 1), utc(2026, 1, 1)),
        ("the roof last year", utc(2025, 1, 1), utc(2026, 1, 1)),
        ("the roof this year", utc(2026, 1, 1), utc(2027, 1, 1)),
        ("the roof last month", utc(2026, 3, 1), utc(2026, 4, 1)),
        ("the roof this month", utc(2026, 4, 1), utc(2026, 5, 1)),
        ("the roof last week", utc(2026, 4, 6), utc(2026, 4, 13)),  # Monday to Monday
        ("the roof this week", utc(2026, 4, 13), utc(2026, 4, 20)),
        ("the roof yesterday", utc(2026, 4, 14), utc(2026, 4, 15)),
        ("the roof today", utc(2026, 4, 15), utc(2026, 4, 16)),
        ("the roof 3 days ago", utc(2026, 4, 12), utc(2026, 4, 13)),
        ("the roof since January", utc(2026, 1, 1), None),
        ("the roof since 2025-01-10", utc(2025, 1, 10), None),
        ("the roof before May", None, utc(2025, 5, 1)),
        ("the roof until June 2025", None, utc(2025, 7, 1)),  # June included
        ("the roof after 3 March", utc(2026, 3, 4), None),  # after that day
        ("the roof on 12 March 2026", utc(2026, 3, 12), utc(2026, 3, 13)),
        ("the roof on March 12th, 2026", utc(2026, 3, 12), utc(2026, 3, 13)),
        ("the roof 2026-03-12", utc(2026, 3, 12), utc(2026, 3, 13)),
        ("the roof in 2025-03", utc(2025, 3, 1), utc(2025, 4, 1)),
        ("the roof between March and May 2025", utc(2025, 3, 1), utc(2025, 6, 1)),
        ("the roof between November and February 2025", utc(2024, 11, 1), utc(2025, 3, 1)),
        ("the roof from 1 March to 15 March 2026", utc(2026, 3, 1), utc(2026, 3, 16)),
        ("the roof over the last 3 months", utc(2026, 1, 15), None),
        ("the roof in the past two weeks", utc(2026, 4, 1), None),
        ("the roof in the last week", utc(2026, 4, 8), None),
    ],
)
def test_dates(question: str, after: datetime | None, before: datetime | None) -> None:
    got = ex(question)
    assert period(got) == (after, before)
    # no kind or person: the period is a hint, and its words stay in the query
    assert got.query == ("the roof" if got.filters.after or got.filters.before else question)
    assert got.filters.kinds == [] and got.filters.persons == []
    assert [a for a in got.applied if a.startswith(("date: ", "date hint: "))]
    for moment in period(got):
        assert moment is None or moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("question", "label"),
    [
        ("the roof between March and May 2025", "date hint: March – May 2025"),
        ("the roof on 12 March 2026", "date hint: 12 March 2026"),
        ("the roof last week", "date hint: 6 April 2026 – 12 April 2026"),
        ("the roof before May", "date hint: before 1 May 2025"),
        ("the roof in the past two weeks", "date hint: since 1 April 2026"),
    ],
)
def test_date_labels(question: str, label: str) -> None:
    assert ex(question).applied == [label]


@pytest.mark.parametrize(
    "question",
    [
        "12/03/2026 boiler repair",  # day/month order unknown
        "when is the last day of school",
        "the last week of March plans",
        "the march on the capital",
        "what may the landlord say",
        "what did we plan for 2025",
        "the past year was hard",
        "over the last 3 months of the project",
        "the 2025 budget",
    ],
)
def test_not_dates(question: str) -> None:
    got = ex(question)
    assert period(got) == (None, None)
    assert got.query == question


def test_two_date_phrases_narrow_each_other() -> None:
    got = ex("the roof since January until March 2026")
    assert period(got) == (utc(2026, 1, 1), utc(2026, 4, 1))


def test_relative_dates_with_people() -> None:
    got = ex("what did Sofia tell me yesterday about the keys")
    assert got.filters.persons == ["sofia rossi"]
    assert period(got) == (utc(2026, 4, 14), utc(2026, 4, 15))
    assert got.query.endswith("the keys")
    got = ex("anything from Marco between March and May 2025 about the boat")
    assert got.filters.persons == ["marco bianchi"]
    assert period(got) == (utc(2025, 3, 1), utc(2025, 6, 1))
    got = ex("what did Priya write last week about the visa")
    assert period(got) == (utc(2026, 4, 6), utc(2026, 4, 13))


def test_now_is_read_in_utc() -> None:
    naive = ex("the roof yesterday", now=datetime(2026, 4, 15, 10, 0))
    assert period(naive)[0] == utc(2026, 4, 14)
    # 01:00 on the 15th in UTC+3 is still the 14th in UTC
    east = ex("the roof yesterday", now=datetime(2026, 4, 15, 1, 0, tzinfo=timezone(timedelta(hours=3))))
    assert period(east)[0] == utc(2026, 4, 13)


# ----------------------------------------------------------------- quoting, fallback, applied


def test_quoted_phrases_are_untouched() -> None:
    got = ex('search "from Anna last March" in my notes')
    assert got.filters.persons == []
    assert period(got) == (None, None)
    assert got.filters.kinds == ["note"]  # outside the quotes
    assert '"from Anna last March"' in got.query
    got = ex('emails containing "what Marco said on WhatsApp"')
    assert got.filters.kinds == ["email"]
    assert got.filters.persons == []
    assert '"what Marco said on WhatsApp"' in got.query


def test_key_value_chips_are_left_to_the_front_end() -> None:
    got = ex("kind:email from Anna about the boat")
    assert got.filters.kinds == []
    assert got.filters.persons == ["anna keller"]
    assert "kind:email" in got.query


@pytest.mark.parametrize(
    "question",
    ["emails from Anna last March", "messages from Priya since January", "notes", "yesterday", "what did Marco say"],
)
def test_query_is_never_empty(question: str) -> None:
    got = ex(question)
    assert not got.filters.is_empty()
    assert got.query == question
    assert got.has_topic is False


def test_no_filters_leaves_the_question_alone() -> None:
    got = ex("what is the wifi password at the cabin?")
    assert got.filters.is_empty() and got.applied == []
    assert got.query == "what is the wifi password at the cabin?"
    assert got.has_topic is True


@pytest.mark.parametrize(
    ("question", "known"),
    [
        ("emails from Anna last March", KNOWN),
        ("what did Marco say on WhatsApp about the cabin", KNOWN),
        ("emails from Anna and Marco in the past two weeks", KNOWN_TWINS),
        ("PDFs from Priya since 2025-01-10 about the visa", KNOWN),
        ("in my notes between March and May 2025", KNOWN),
        ("when did I email Keller about the deposit", KNOWN_TWINS),
        ("what is the email address of the plumber", KNOWN),
        ("chat with Priya last month about the visa", KNOWN),
    ],
)
def test_every_applied_entry_is_a_set_filter(question: str, known: list[str]) -> None:
    got = ex(question, known=known)
    f = got.filters
    kinds = [a.removeprefix("kind: ") for a in got.applied if a.startswith("kind: ")]
    persons = [a for a in got.applied if a.startswith("person: ")]
    dates = [a for a in got.applied if a.startswith(("date: ", "date hint: "))]
    assert len(kinds) + len(persons) + len(dates) == len(got.applied)
    assert kinds == f.kinds
    assert len(persons) == len(f.persons)
    assert len(dates) == (1 if f.after or f.before else 0)
    assert f.sources == []


def test_it_is_fast() -> None:
    known = [f"Person{i} Family{i} <p{i}@example.com>" for i in range(2000)] + KNOWN
    questions = [
        "emails from Anna last March",
        "what did Marco say on WhatsApp about the cabin",
        "notes about sourdough in 2025",
        "what is the email address of the plumber",
    ]
    ex(questions[0], known=known)  # the directory of names is built once
    start = time.perf_counter()
    for _ in range(25):
        for q in questions:
            ex(q, known=known)
    per_call = (time.perf_counter() - start) / 100
    assert per_call < 0.005  # typically well under 1 ms; loose for a busy machine


def test_a_period_filters_items_but_only_ranks_events() -> None:
    """ "emails from March" asks for a range of items; "what did John attend in
    March 2023?" asks about an event a later message may tell of ("last month I
    went to a convention"), so the period ranks sources and hides none."""
    items = ex("emails from March 2026")
    assert (items.filters.after, items.filters.before) == (utc(2026, 3, 1), utc(2026, 4, 1))
    assert items.filters.hint_after is None and "date: March 2026" in items.applied
    event = ex("What did John attend with his colleagues in March 2023?", known=[])
    assert event.filters.after is None and event.filters.before is None
    assert (event.filters.hint_after, event.filters.hint_before) == (utc(2023, 3, 1), utc(2023, 4, 1))
    assert event.applied == ["date hint: March 2023"]
    assert "March 2023" in event.query


# ----------------------------------------------------------------- other languages

KNOWN_ML = [*KNOWN, "Jonas Weber <jonas@example.de>", "Lucía García <lucia@example.es>"]

# (question in another language, its English form): the same filters, read through
# an English gloss of the filter words (assistant/retrieval/filter_language.py)
SAID_IN_OTHER_LANGUAGES = [
    ("mails d'Anna en mars", "emails from Anna in March"),
    ("messaggi di Marco la settimana scorsa", "messages from Marco last week"),
    ("Mails von Jonas im Mai", "emails from Jonas in May"),
    ("correos de Lucía en abril", "emails from Lucía in April"),
    ("la facture de gaz dans mes notes", "the gas bill in my notes"),
    ("la fattura del gas nelle mie note", "the gas bill in my notes"),
    ("die Gasrechnung in meinen Notizen", "the gas bill in my notes"),
    ("la factura del gas en mis notas", "the gas bill in my notes"),
    ("Nachrichten von Jonas gestern", "messages from Jonas yesterday"),
    ("mensajes de Lucía ayer", "messages from Lucía yesterday"),
    ("messaggi di Marco negli ultimi 3 giorni", "messages from Marco in the last 3 days"),
    ("Nachrichten von Jonas über die Miete vor 2 Wochen", "messages from Jonas about the rent 2 weeks ago"),
    ("mails d'Anna il y a 3 jours", "emails from Anna 3 days ago"),
    ("correos de Lucía hace 2 semanas", "emails from Lucía 2 weeks ago"),
    ("Mails von Anna seit März", "emails from Anna since March"),
    ("correos de Lucía entre enero y marzo", "emails from Lucía between January and March"),
    ("mails d'Anna avant le 3 mars", "emails from Anna before 3 March"),
    ("messaggi di Marco il 3 marzo", "messages from Marco on 3 March"),
    ("correos de Lucía el 3 de marzo de 2025", "emails from Lucía on 3 March 2025"),
    ("Mails von Jonas vom 3. März", "emails from Jonas on 3 March"),
    ("messaggi di Marco a marzo", "messages from Marco in March"),
    ("messaggi da marzo", "messages since March"),
    ("courriels d'Anna l'année dernière", "emails from Anna last year"),
    ("Qu'a fait Sofia en février 2025 ?", "What did Sofia do in February 2025?"),
]


@pytest.mark.parametrize(("said", "english"), SAID_IN_OTHER_LANGUAGES)
def test_filters_said_in_french_italian_german_spanish_match_their_english_form(said: str, english: str) -> None:
    got, expected = ex(said, known=KNOWN_ML), ex(english, known=KNOWN_ML)
    assert expected.applied, english  # the English form does set filters
    assert got.filters == expected.filters
    assert got.applied == expected.applied


def test_what_is_left_for_search_stays_in_the_question_s_own_words() -> None:
    got = ex("Nachrichten von Jonas über die Miete in den letzten 3 Wochen", known=KNOWN_ML)
    assert got.applied == ["person: Jonas Weber", "date: since 25 March 2026"]
    assert got.query == "Nachrichten über die Miete"
    assert ex("la facture de gaz dans mes notes").query == "facture de gaz"
    # nothing but filters: the question itself, marked as having no topic
    only = ex("mails d'Anna en mars")
    assert only.query == "mails d'Anna en mars" and not only.has_topic
    # a date in a question about an event ranks, as in English
    hint = ex("Qu'a fait Sofia en février 2025 ?")
    assert hint.filters.after is None and hint.applied == ["date hint: February 2025"]
    assert hint.query == "Qu'a fait Sofia en février 2025 ?"


def test_english_questions_are_never_glossed() -> None:
    """Words that are prepositions elsewhere ("de", "die", "a") in an English
    question change nothing."""
    known = [*KNOWN, "Anna de Vries"]
    got = ex("emails from Anna de Vries in March", known=known)
    assert got.applied == ["kind: email", "person: Anna de Vries", "date: March 2026"]
    heat = ex("did the plants die in a heatwave last week?", known=[])
    assert heat.applied == ["date hint: 6 April 2026 – 12 April 2026"]
    assert ex("notes on la dolce vita", known=[]).applied == ["kind: note"]


def test_gloss_spans_map_back_onto_the_question() -> None:
    from assistant.retrieval.filter_language import english_gloss

    question = "correos de Lucía el 3 de marzo de 2025 sobre el alquiler"
    gloss = english_gloss(question, "es")
    assert gloss.text == "emails from Lucía on 3 March 2025 about the alquiler"
    start = gloss.text.index("3 March 2025")
    assert gloss.to_question(start, start + len("3 March 2025")) == (20, 38)
    assert question[20:38] == "3 de marzo de 2025"
    lucia = gloss.text.index("Lucía")
    assert gloss.to_question(lucia, lucia + 5) == (11, 16)
