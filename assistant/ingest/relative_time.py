"""Relative time in messages, resolved against the moment the message was sent.

A chat says "I went to the support group yesterday"; a person later asks "when did
she go to the support group?". The answer is a date that no message spells out. At
indexing time each chat message's relative expressions ("yesterday", "last week",
"three days ago", "ieri", "la semaine dernière", "letzte Woche") are resolved with
dateparser against the message's own timestamp, and the resolved date is written
after the message, so it is stored, searchable and shown to the model:

    2023-05-08 13:58 Caroline: I went to a support group yesterday. [yesterday = 7 May 2023]

The message's own words stay as they were (the note comes after them), so quoting
and evidence matching are unchanged.

Choices, and why:

- **dateparser finds and resolves.** Its search finds date phrases in 200+
  languages; its parser resolves a phrase against a base moment and says the
  period (day, week, month, year). What it finds is then kept only if it is
  relative: the same phrase parsed against a base a year and a month later must
  give a different date ("7 May 2023" already says its date).
- **Short words are not dates.** dateparser's search reads "we" as Wednesday and
  "may" as the month. A phrase is kept only where its month and weekday words are
  written in full and, in languages that capitalise them (English, German), with a
  capital: "May" counts, "may" and "we" do not. A lone month name is no relative
  phrase either ("May I ask").
- **Weekends.** dateparser knows weeks, not weekends; "last weekend" and "two
  weekends ago" are read as weeks and shown as the weekend before the message.
- **The form of the note follows the period**: a day is a date ("7 May 2023"), last
  week is "the week before 9 June 2023", a month "May 2023", a year "2022", a past
  weekday "Friday 9 September 2022". Dates are written the same way in every
  language (day, English month name, year): the model translates them if needed.
- **Languages**: the caller passes the languages to try (the chat's detected
  language and English). Messages with no word of any relative phrase of those
  languages are not searched at all, which keeps ingest fast.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

__all__ = ["Resolved", "resolve_relative", "annotate", "annotate_lines", "chat_languages"]

# moved this far, a relative phrase's date moves; an absolute one stays
_SHIFT = timedelta(days=400)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_MONTHS_EN = "January February March April May June July August September October November December".split()
_WEEKDAYS_EN = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()


@dataclass(frozen=True)
class Resolved:
    phrase: str  # as written in the message
    when: datetime  # resolved against the send time
    period: str  # day, week, month or year
    weekend: bool = False
    weekday: bool = False  # the phrase names a weekday ("last Friday")
    count: int = 1  # weekends back ("two weekends ago")


def _day_text(day: date) -> str:
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def describe(found: Resolved, sent: datetime) -> str:
    """The resolved date as the note shows it."""
    day = found.when.date()
    sent_day = _day_text(sent.date())
    if found.weekend:
        if found.count <= 1:
            return f"the weekend before {sent_day}"
        return f"{found.count} weekends before {sent_day}, the weekend of {_day_text(day)}"
    if found.period == "week":
        if day == sent.date():
            return f"the week of {sent_day}"
        weeks = round(abs((sent.date() - day).days) / 7)
        direction = "before" if day < sent.date() else "after"
        if weeks <= 1:
            return f"the week {direction} {sent_day}"
        monday = day - timedelta(days=day.weekday())
        return f"{weeks} weeks {direction} {sent_day}, the week of {_day_text(monday)}"
    if found.period == "month":
        return f"{_MONTHS_EN[day.month - 1]} {day.year}"
    if found.period == "year":
        return str(day.year)
    if found.weekday:
        weekday = _WEEKDAYS_EN[day.weekday()]
        direction = "before" if day < sent.date() else "after"
        return f"{weekday} {_day_text(day)}, the {weekday} {direction} {sent_day}"
    return _day_text(day)


@lru_cache(maxsize=64)
def _calendar_words(language: str) -> tuple[frozenset[str], frozenset[str], bool]:
    """Full month and weekday names of a language (CLDR, via Babel), their
    abbreviations that are not also full names, and whether the language writes
    them with a capital."""
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(language)
    except (ValueError, UnknownLocaleError):
        return frozenset(), frozenset(), False
    full: set[str] = set()
    short: set[str] = set()
    capital = False
    for table in (locale.months, locale.days):
        for context in ("format", "stand-alone"):
            for width, names in table.get(context, {}).items():
                for name in names.values():
                    if width == "wide":
                        full.add(name.lower())
                        capital = capital or name[:1].isupper()
                    else:
                        short.add(name.lower().rstrip("."))
    return frozenset(full), frozenset(short - full), capital


@lru_cache(maxsize=64)
def _trigger_words(language: str) -> frozenset[str]:
    """Words that any relative phrase of the language contains (dateparser's own
    vocabulary, plus weekday names): a message without one is not searched."""
    try:
        from dateparser.languages.loader import default_loader

        locale = default_loader.get_locale(language)
    except (KeyError, ValueError, ImportError):
        return frozenset()
    info: dict[str, Any] = locale.info
    words: set[str] = set()
    for key in ("relative-type", "relative-type-regex"):
        for canonical, phrases in info.get(key, {}).items():
            for phrase in [canonical, *phrases]:
                words.update(w.lower() for w in _WORD.findall(re.sub(r"\\.|\(.*?\)", " ", phrase)))
    for key in ("ago", "in", "yesterday", "tomorrow", "today"):
        for phrase in info.get(key, []):
            words.update(w.lower() for w in _WORD.findall(phrase))
    full, _, _ = _calendar_words(language)
    words.update(full)
    words.update(("weekend", "weekends"))
    # "in", "this", "now" and their kind are in nearly every message; a phrase also
    # holds a unit, a weekday or a word like "yesterday" ("now" alone adds nothing)
    return frozenset(w for w in words if len(w) > 2 and w not in {"this", "the", "next", "last", "and", "now"})


def _plausible(phrase: str, languages: Sequence[str]) -> bool:
    words = _WORD.findall(phrase)
    if not words:
        return False
    lowered = [w.lower() for w in words]
    has_number = any(c.isdigit() for c in phrase)
    for language in languages:
        full, short, capital = _calendar_words(language)
        if has_number and any(w in full for w in lowered):
            # "Montag, 26. Januar": a date without its year, not a relative phrase;
            # whether it is last or next January the message does not say
            return False
        if any(w in short for w in lowered):
            return False
        if capital and any(w.lower() in full and not w[:1].isupper() for w in words):
            return False
        if len(words) == 1 and lowered[0] in full and full:
            return False  # "May I ask", "Friday!" alone: too often no date
    return True


def _parser(languages: tuple[str, ...], base: datetime) -> Any:
    from dateparser.date import DateDataParser

    return DateDataParser(
        languages=list(languages),
        settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": False},
    )


_UNIT_KEYS = ("year", "month", "week", "day", "hour", "minute", "second", "decade", "fortnight")


@lru_cache(maxsize=64)
def _locale_phrases(language: str) -> tuple[re.Pattern[str] | None, frozenset[str]]:
    """dateparser's own relative phrases of a language as one pattern ("la semaine
    dernière", "last year", "2 weeks ago", "vor 3 Tagen"), and its unit words."""
    try:
        from dateparser.languages.loader import default_loader

        info: dict[str, Any] = default_loader.get_locale(language).info
    except (KeyError, ValueError, ImportError):
        return None, frozenset()
    alternatives: list[str] = []
    for phrases in info.get("relative-type", {}).values():
        alternatives.extend(r"\s+".join(re.escape(w) for w in p.split()) for p in phrases if len(p) > 3)
    for patterns in info.get("relative-type-regex", {}).values():
        alternatives.extend(p.replace("++", "+").replace("*+", "*") for p in patterns)
    units = frozenset(w.lower() for key in _UNIT_KEYS for w in info.get(key, []))
    if not alternatives:
        return None, units
    alternatives.sort(key=len, reverse=True)
    body = "|".join(f"(?:{a})" for a in alternatives)
    try:
        return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE), units
    except re.error:
        return None, units


# dateparser has no weekends; English chats speak of them often
_WEEKEND_PHRASE = re.compile(
    r"(?<!\w)(?:(?:last|this past|past|the)\s+weekend"
    r"|(?:(?P<n>\d+|one|two|three|four|five|six)\s+weekends?\s+ago))(?!\w)",
    re.IGNORECASE,
)
_SMALL_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


def _spans(text: str, languages: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """Where relative phrases may be: dateparser's phrase lists, its search, and
    weekends; (start, end, how found), overlapping finds merged to the longest."""
    from dateparser.search import search_dates

    found: list[tuple[int, int, str]] = []
    for m in _WEEKEND_PHRASE.finditer(text):
        found.append((m.start(), m.end(), "weekend"))
    for language in languages:
        pattern, _ = _locale_phrases(language)
        if pattern is not None:
            found.extend((m.start(), m.end(), "phrase") for m in pattern.finditer(text))
    try:
        searched = search_dates(text, languages=list(languages), settings={"PREFER_DATES_FROM": "past"}) or []
    except (ValueError, OverflowError, re.error):
        searched = []
    cursor = 0
    for phrase, _ in searched:
        start = text.find(phrase, cursor)
        if start >= 0:
            found.append((start, start + len(phrase), "search"))
            cursor = start + len(phrase)
    # where finds overlap, dateparser's phrase lists and the weekend rule win over
    # its search, which takes words along ("last week and"); else the longest
    trusted = {"weekend": 0, "phrase": 0, "search": 1}
    found.sort(key=lambda span: (trusted[span[2]], -(span[1] - span[0])))
    chosen: list[tuple[int, int, str]] = []
    for span in found:
        if all(span[1] <= other[0] or span[0] >= other[1] for other in chosen):
            chosen.append(span)
    return sorted(chosen)


def _vocabulary(languages: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """Words that carry a relative phrase's meaning, and unit words. Function words
    ("from", "by", "on") are in some of dateparser's phrases but say no time."""
    from assistant.language.stop_words import STOP_WORDS

    units: set[str] = set()
    words: set[str] = set()
    for language in languages:
        units |= _locale_phrases(language)[1]
        words |= _trigger_words(language)
    return words - STOP_WORDS, units


def _trimmed(phrase: str, languages: tuple[str, ...]) -> str:
    """The phrase without the words dateparser's search takes along after it
    ("last Friday and", "last year at the")."""
    words, units = _vocabulary(languages)
    tokens = phrase.split()
    while tokens:
        last = tokens[-1].strip(".,;:!?").lower()
        if last in words or last in units or last.isdigit() or last in _SMALL_NUMBERS:
            break
        tokens.pop()
    # "moved in three days ago": the "in" belongs to the verb, "ago" says the time
    lowered = [t.lower() for t in tokens]
    for language in languages:
        before, after = _direction_words(language)
        if len(lowered) > 1 and lowered[0] in after and any(t in before for t in lowered[1:]):
            tokens = tokens[1:]
            break
    return " ".join(tokens).strip(".,;:!? ")


@lru_cache(maxsize=64)
def _direction_words(language: str) -> tuple[frozenset[str], frozenset[str]]:
    """The language's words for "ago" and for "in" (dateparser's data)."""
    try:
        from dateparser.languages.loader import default_loader

        info: dict[str, Any] = default_loader.get_locale(language).info
    except (KeyError, ValueError, ImportError):
        return frozenset(), frozenset()
    return (
        frozenset(w.lower() for p in info.get("ago", []) for w in p.split()),
        frozenset(w.lower() for p in info.get("in", []) for w in p.split()),
    )


def _directional(phrase: str, languages: tuple[str, ...]) -> bool:
    """A phrase says a direction in time, not only a length: "4 years" is how long,
    "4 years ago" and "last year" are when; "ten" alone is nothing."""
    words, units = _vocabulary(languages)
    months: set[str] = set()
    for language in languages:
        months |= _month_names(language) | _weekday_names(language)
    # a month or a weekday alone says no direction either: "we meet in May" said in
    # January, "check-in Friday from 16:00" said on a Friday a week before ("last
    # Friday", "next Friday" are dateparser's own phrases and resolved)
    return any(w in words and w not in units and w not in months for w in (t.lower() for t in _WORD.findall(phrase)))


@lru_cache(maxsize=128)
def _locale_names(language: str, table: str) -> frozenset[str]:
    """A language's month ("months") or weekday ("days") names, every width and
    context (CLDR, via Babel), lower case."""
    from babel import Locale, UnknownLocaleError

    try:
        names = getattr(Locale.parse(language), table)
    except (ValueError, UnknownLocaleError):
        return frozenset()
    return frozenset(n.lower() for ctx in names.values() for widths in ctx.values() for n in widths.values())


def _weekday_names(language: str) -> frozenset[str]:
    return _locale_names(language, "days")


def _month_names(language: str) -> frozenset[str]:
    return _locale_names(language, "months")


def resolve_relative(text: str, sent: datetime, languages: Sequence[str]) -> list[Resolved]:
    """The relative time phrases of a message and the dates they mean."""
    usable = tuple(lang for lang in dict.fromkeys(languages) if _trigger_words(lang))
    if not usable or not text.strip():
        return []
    tokens = {w.lower() for w in _WORD.findall(text)}
    if not any(tokens & _trigger_words(lang) for lang in usable):
        return []
    base = sent.replace(tzinfo=None)
    results: list[Resolved] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        here = _parser(usable, base)
        later = _parser(usable, base + _SHIFT)
        for start, end, how in _spans(text, usable):
            phrase = text[start:end].strip()
            if how == "search":
                phrase = _trimmed(phrase, usable)
            if how == "weekend":
                match = _WEEKEND_PHRASE.fullmatch(phrase)
                count = match.group("n") if match else None
                weeks = 1 if count is None else int(_SMALL_NUMBERS.get(count.lower(), count))
                saturday = base - timedelta(days=(base.weekday() - 5) % 7 or 7) - timedelta(weeks=weeks - 1)
                results.append(Resolved(phrase, saturday, "week", weekend=True, count=weeks))
                continue
            # dateparser's own phrases say a direction; what its search finds may be
            # a length ("for 4 years")
            if not _plausible(phrase, usable) or (how == "search" and not _directional(phrase, usable)):
                continue
            try:
                now_data = here.get_date_data(phrase)
                later_data = later.get_date_data(phrase)
            except (ValueError, OverflowError, TypeError):
                continue
            if now_data.date_obj is None or later_data.date_obj is None:
                continue
            if later_data.date_obj.date() == now_data.date_obj.date():
                continue  # absolute: the message already says its date
            if now_data.date_obj.date() == base.date() and now_data.period in ("day", "time"):
                continue  # "today", "at 5": the message's own date, shown already
            results.append(
                Resolved(phrase, now_data.date_obj, now_data.period or "day", weekday=_names_weekday(phrase, usable))
            )
    return results


def _names_weekday(phrase: str, languages: Sequence[str]) -> bool:
    lowered = {w.lower() for w in _WORD.findall(phrase)}
    return any(lowered & _weekday_names(language) for language in languages)


def annotate(text: str, sent: datetime, languages: Sequence[str]) -> str:
    """The message with a note of what its relative time phrases mean, after it."""
    notes = [f"{r.phrase} = {describe(r, sent)}" for r in resolve_relative(text, sent, languages)]
    if not notes:
        return text
    return f"{text.rstrip()} [{'; '.join(dict.fromkeys(notes))}]"


def annotate_lines(text: str, sent: datetime, languages: Sequence[str]) -> str:
    """A mail body with each line's relative time phrases noted at the line's end
    ("wie gestern telefonisch besprochen" in a mail of 21 January)."""
    return "\n".join(annotate(line, sent, languages) if line.strip() else line for line in text.split("\n"))


def chat_languages(texts: Sequence[str]) -> tuple[str, ...]:
    """The languages to read a chat's time phrases in: the chat's own language, as
    detected on all its text together (one line is too short to tell), and English,
    which chats in other languages often mix in."""
    sample = " ".join(texts)[:20000]
    if not sample.strip():
        return ("en",)
    from assistant.language.keywords import detect_language

    return tuple(dict.fromkeys([detect_language(sample), "en"]))
