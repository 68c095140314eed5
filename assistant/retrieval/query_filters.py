"""Filters that people say in words: "emails from Anna last March".

``extract_filters`` reads a question and pulls out the kind, person and date
filters it states, rule-based (no model, well under a millisecond), and returns the
question with those phrases removed so that retrieval looks for the topic words
only. Every filter it sets is described in ``applied`` so that a front end can show
it and the person can correct it.

Choices, and why:

- **Only filter phrases count.** A kind, name or date is a filter only where the
  wording makes it one ("emails from Anna", "in my notes", "did Marco say", "on
  WhatsApp", "in March 2025"). "the email address of the plumber", "file a claim",
  "note that…", "Anna's birthday", "plans for 2025" set nothing. A missed filter
  costs little (the words stay in the query); a wrong one hides every answer.
- **Names come from the store.** Only people in ``known_persons`` are matched (full
  name, first name, last name, first+last, possessive "Anna's"; an address typed
  in full matches that address). The filter value is the canonical lower-case name
  ("anna keller"), which ``Filters.persons`` finds by substring in a chunk's
  persons. A first or last name shared by several people becomes the bare name
  ("anna"): it then matches all of them, and ``applied`` names who they are.
  Names in the question that are not in the store are left alone.
- **Filter phrases leave the query**, the person's name included: once the filter
  holds, the name matches every candidate's persons column equally and only adds
  noise to BM25 (a signature line, a mention) and to the query vector. A name that
  is not in a filter phrase ("is Anna coming?") stays in the query.
- **The query is never empty.** When nothing but filter phrases and function words is
  left ("emails from Anna last March"), ``query`` is the original question and
  ``has_topic`` is False, so a caller may instead list what the filters select.
- **Dates are UTC calendar periods** relative to ``now``; ``before`` is exclusive.
  A month or day without a year is the most recent one not in the future ("in
  April" in April is this April); "last March" is the most recent March strictly
  before the current month. "since X" starts at X, "after X" starts when X ends,
  "before X" ends when X starts, "until X" ends when X ends (X included). "last
  week" is the previous Monday-to-Sunday week; "the last week", "the past two
  weeks", "over the last 3 months" are rolling windows from the start of that day.
  Numeric day/month forms other than ISO ("12/03/2026") are ambiguous and skipped;
  a bare year or month needs a preposition ("in 2025", "since March").
- **Quoted phrases** and ``key:value`` filter tokens are never read nor changed.
- A chat platform ("on WhatsApp") sets kind chat; the platform itself is not a filter
  (kinds are what chunks carry), so chats from other apps can still come back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from assistant.language.stop_words import QUESTION_WORDS, STOP_WORDS
from assistant.retrieval.filter_dates import describe_dates, extract_dates
from assistant.retrieval.filter_kinds import extract_kinds
from assistant.retrieval.filter_persons import extract_persons, person_directory, person_mentions
from assistant.retrieval.filter_words import PROTECTED, Spans, words_of
from assistant.retrieval.search_types import Filters

__all__ = ["Extracted", "extract_filters"]


@dataclass
class Extracted:
    query: str  # the question without its filter phrases; the question itself when nothing else is left
    filters: Filters
    applied: list[str] = field(default_factory=list)  # "kind: email", "person: Anna Keller", "date: March 2026"
    has_topic: bool = True  # False when the question was nothing but filters (query is then the question)


# --------------------------------------------------------------------------- query

_EDGE = frozenset(
    "about regarding concerning re from in on and or with to of for by at via over during since before after "
    "between until".split()
)
_TRAILING_ONLY = frozenset("the a an my".split())
_FILLER = frozenset(
    (
        "messages message texts text conversation conversations chats chat thread threads stuff thing things "
        "anything everything something say said says write wrote written send sent mention mentioned talk talked "
        "discuss discussed tell told ask asked get got received recent latest last first new unread list show "
        "find search see look read all me"
    ).split()
)


def _tidy(text: str, edges: frozenset[str] = frozenset()) -> str:
    """``text`` without the function words a removed filter phrase left at its
    edges; ``edges`` adds those of the question's own language."""
    text = " ".join(text.split())
    text = re.sub(r"\s+([?.!,;:])", r"\1", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    tail = re.search(r"[?.!]*$", text)
    end_mark = tail.group() if tail else ""
    words = text[: len(text) - len(end_mark)].split()
    lead, trail = _EDGE | edges | {""}, _EDGE | _TRAILING_ONLY | edges | {""}
    while words and _edge_key(words[0]) in lead:
        words.pop(0)
    while words and _edge_key(words[-1]) in trail:
        words.pop()
    body = " ".join(words).strip(" ,;:")
    return body + end_mark if body else ""


def _edge_key(word: str) -> str:
    from assistant.language.keywords import fold

    return fold(word.strip(",;:").rstrip("'’"))


def _has_topic(text: str) -> bool:
    ignore = STOP_WORDS | QUESTION_WORDS | _FILLER
    return any(w not in ignore for w in words_of(text))


# --------------------------------------------------------------------------- entry point


def _without(question: str, used: list[tuple[int, int]], edges: frozenset[str] = frozenset()) -> str:
    """The question without the given character ranges, tidied."""
    removed = bytearray(len(question))
    for start, end in used:
        removed[start:end] = b"\x01" * (end - start)
    return _tidy("".join(ch for ch, gone in zip(question, removed, strict=True) if not gone), edges)


def extract_filters(question: str, *, known_persons: Iterable[str], now: datetime) -> Extracted:
    """The kind, person and date filters a question states in words, and the
    question without them. ``now`` anchors relative dates (naive means UTC).

    A question in French, Italian, German or Spanish is read through an English
    gloss of its filter words (assistant/retrieval/filter_language.py); what is
    left for search stays in its own words."""
    from assistant.retrieval import filter_language

    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    known = tuple(known_persons)
    as_english = _extract(question, question, known, now)
    if not filter_language.may_need_gloss(question):
        return as_english
    language = filter_language.question_language(question)
    if language not in filter_language.GLOSSED_LANGUAGES:
        return as_english
    gloss = filter_language.english_gloss(question, language)
    edges = filter_language.edge_words(language, _EDGE | _TRAILING_ONLY)
    glossed = _extract(question, gloss.text, known, now, gloss.to_question, edges)
    # a question read as French by chance keeps its English reading when that finds more
    return glossed if len(glossed.applied) >= len(as_english.applied) else as_english


def _same_span(start: int, end: int) -> tuple[int, int]:
    return start, end


def _extract(
    question: str,
    text: str,
    known: tuple[str, ...],
    now: datetime,
    to_question: Callable[[int, int], tuple[int, int]] = _same_span,
    edges: frozenset[str] = frozenset(),
) -> Extracted:
    """The filters read from ``text`` (the question, or its English gloss whose
    spans ``to_question`` maps back), and the question without them."""
    spans = Spans([m.span() for m in PROTECTED.finditer(text)])
    # a chunk's persons string ("a <x>; b") may be passed as it is
    directory = person_directory(known)
    # "from April Jones" is a person before it is a month
    full_names = [(m.start, m.end) for m in person_mentions(text, spans, directory) if len(m.key) > 1 or m.address]
    spans.protected += full_names
    dates = extract_dates(text, spans, now)
    date_spans = list(spans.used)
    del spans.protected[len(spans.protected) - len(full_names) :]
    persons, emailed = extract_persons(text, spans, directory)
    kinds = extract_kinds(text, spans)
    if emailed and "email" not in kinds:
        kinds.append("email")

    filters = Filters(kinds=kinds, persons=[v for v, _ in persons])
    applied = [f"kind: {k}" for k in kinds] + [f"person: {label}" for _, label in persons]
    if dates.after or dates.before:
        period = describe_dates(dates.after, dates.before)
        if kinds or persons or not _has_topic(_without(text, spans.used)):
            # "emails from March", "what did Anna write last week", "yesterday":
            # a range of items
            filters.after, filters.before = dates.after, dates.before
            applied.append(f"date: {period}")
        else:
            # "what did John do in March 2023?": the event may be told of later
            # ("last month I went to…"), so the period ranks, it does not hide
            filters.hint_after, filters.hint_before = dates.after, dates.before
            applied.append(f"date hint: {period}")
            spans.used = [span for span in spans.used if span not in date_spans]

    has_topic = _has_topic(_without(text, spans.used))
    rest = _without(question, [to_question(*span) for span in spans.used], edges)
    if spans.used and rest and has_topic:
        return Extracted(query=rest, filters=filters, applied=applied)
    if not spans.used:
        return Extracted(query=question, filters=filters, applied=applied, has_topic=_has_topic(text))
    return Extracted(query=question, filters=filters, applied=applied, has_topic=False)


def merge_said_filters(query: str, found: Extracted, filters: Filters) -> tuple[str, Filters, list[str]]:
    """The query to search, the filters to apply and what was applied, once the
    filters said in ``query`` (``found``) meet the ones given as flags (``filters``)."""
    said = found.filters
    if not found.applied or not (said.kinds or said.persons):
        # A date alone is usually what the question is about ("my flight on
        # 11 May", "the train on 23 December"), not when the message was sent;
        # it filters only beside "emails", "chats", a person… ("emails from
        # Anna last March"). Measured on data/questions.jsonl. It still ranks
        # sources from that period first (a date hint).
        if said.hint_after or said.hint_before:
            hinted = replace(filters, hint_after=said.hint_after, hint_before=said.hint_before)
            return query, hinted, [a for a in found.applied if a.startswith("date hint:")]
        return query, filters, []
    merged = Filters(
        kinds=list(dict.fromkeys(filters.kinds + said.kinds)),
        sources=list(filters.sources),
        persons=list(dict.fromkeys(filters.persons + said.persons)),
        after=max((d for d in (filters.after, said.after) if d), default=None),
        before=min((d for d in (filters.before, said.before) if d), default=None),
        hint_after=said.hint_after,
        hint_before=said.hint_before,
    )
    return found.query, merged, list(found.applied)
