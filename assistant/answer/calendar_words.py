"""Months named in a question, in the languages people write to Satchel in.

Month names come from Babel's CLDR data (no hand-written lists), compared in lower
case with their accents kept: folding accents made Portuguese "março" the name
"Marco". Many month names are first names too (April, June, Julio, Avril, Mai, Maj),
so a month counts as one only where it reads as a date: next to a day or a year
("9 December", "October 2023") or after a preposition ("in October", "as of
December", "im Dezember", "en mars").

Weekdays are left out on purpose: a source that answers "the ferry on Monday" says
"Monday" in words, and the names check caught a false premise with it on
data/questions.jsonl (q38); a month is written as a number in chat stamps and mail
dates, so a month in the question is no name to look for (docs/benchmarks.md).
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.language.locales import LOCALES

# Prepositions that put a month in a date ("in October"), in those languages: a
# closed class of words, not a list of examples.
_DATE_PREPOSITIONS = frozenset(
    "in on of since until till by from during before after around "  # en
    "en dès depuis avant après jusqu vers "  # fr
    "a di da dal del nel entro durante prima dopo "  # it
    "im am vom seit bis ab vor nach "  # de
    "desde hasta antes después hacia "  # es
    "em no na do até "  # pt
    "op sinds tot voor na "  # nl
    "i på sedan efter före innan "  # sv, da, nb
    "w od do przed po "  # pl
    "al fins".split()  # ca
)
_DAY_OR_YEAR = re.compile(r"^(?:\d{1,2}(?:st|nd|rd|th|er|e|º|\.)?|\d{4})$", re.IGNORECASE)


@lru_cache(maxsize=1)
def month_words() -> frozenset[str]:
    from babel.dates import get_month_names

    words: set[str] = set()
    for locale in LOCALES:
        # full names only: abbreviations are also first names ("Jan", "Mar")
        for context in ("format", "stand-alone"):
            words.update(n.lower() for n in get_month_names("wide", context, locale).values())
    return frozenset(w for w in words if len(w) >= 3)


def is_month(word: str) -> bool:
    return word.lower().rstrip(".") in month_words()


def reads_as_date(words: list[str], position: int) -> bool:
    """Whether ``words[position]`` is a month used as a date in its sentence. An
    abbreviated month ("Aug 15th") counts only next to a day or a year: "Jan" alone
    is a name."""
    before = words[position - 1].lower() if position > 0 else ""
    after = words[position + 1] if position + 1 < len(words) else ""
    next_to_number = bool(_DAY_OR_YEAR.match(before) or _DAY_OR_YEAR.match(after))
    if is_month(words[position]):
        return next_to_number or before in _DATE_PREPOSITIONS
    return next_to_number and words[position].lower().rstrip(".") in short_month_words()


@lru_cache(maxsize=1)
def short_month_words() -> frozenset[str]:
    from babel.dates import get_month_names

    words: set[str] = set()
    for locale in LOCALES:
        for context in ("format", "stand-alone"):
            words.update(n.lower().rstrip(".") for n in get_month_names("abbreviated", context, locale).values())
    return frozenset(w for w in words if len(w) >= 3)


@lru_cache(maxsize=1)
def calendar_names() -> frozenset[str]:
    """Month and weekday names, full and abbreviated, lower case without accents:
    the capitalised words of an answer that are no names ("Friday 9 September")."""
    import unicodedata

    from babel.dates import get_day_names, get_month_names

    words: set[str] = set()
    for locale in LOCALES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for table in (get_month_names(width, context, locale), get_day_names(width, context, locale)):
                    for name in table.values():
                        folded = unicodedata.normalize("NFKD", name.lower().rstrip("."))
                        words.add("".join(c for c in folded if not unicodedata.combining(c)))
    return frozenset(words)


@lru_cache(maxsize=1)
def _month_numbers() -> dict[str, int]:
    from babel.dates import get_month_names

    numbers: dict[str, int] = {}
    for locale in LOCALES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, locale).items():
                    if len(name.rstrip(".")) >= 3:
                        numbers.setdefault(name.lower().rstrip("."), number)
    return numbers


@lru_cache(maxsize=1)
def _date_forms() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    month = "(?P<m>" + "|".join(sorted(map(re.escape, _month_numbers()), key=len, reverse=True)) + r")\.?"
    day = r"(?P<d>\d{1,2})(?:st|nd|rd|th|er|º)?"
    year = r"(?P<y>\d{4})(?!-\d)"  # not the year of an ISO date made a step before ("ago, 2023-02-25")
    flags = re.IGNORECASE
    return (
        re.compile(rf"\b{day}\s*(?:of\s+|de\s+|di\s+)?{month},?\s*(?:de\s+|del\s+)?{year}\b", flags),
        re.compile(rf"\b{month}\s+{day},?\s*{year}\b", flags),
        re.compile(rf"\b{month},?\s*(?:de\s+|del\s+)?{year}\b", flags),
    )


def canonical_dates(text: str) -> str:
    """Dates written out in words, in any order, as ISO ("December 21, 2022" and
    "21 December 2022" both become "2022-12-21"; "November, 2023" "2023-11"), so
    that an answer is not marked wrong for the way it writes a date."""
    day_first, month_first, month_year = _date_forms()
    numbers = _month_numbers()

    def full(m: re.Match[str]) -> str:
        return f"{m['y']}-{numbers[m['m'].lower().rstrip('.')]:02d}-{int(m['d']):02d}"

    text = day_first.sub(full, text)
    text = month_first.sub(full, text)
    return month_year.sub(lambda m: f"{m['y']}-{numbers[m['m'].lower().rstrip('.')]:02d}", text)


def day_month_pairs(text: str) -> list[tuple[int, int]]:
    """(month, day) of every "16 March" or "March 16th" in a text, year or not."""
    numbers = _month_numbers()
    month = "(?P<m>" + "|".join(sorted(map(re.escape, numbers), key=len, reverse=True)) + r")\.?"
    day = r"(?P<d>\d{1,2})(?:st|nd|rd|th|er|º)?"
    found: list[tuple[int, int]] = []
    for pattern in (rf"\b{day}\s*(?:of\s+|de\s+|di\s+)?{month}\b", rf"\b{month}\s+{day}\b"):
        for m in re.finditer(pattern, text, re.IGNORECASE):
            found.append((numbers[m["m"].lower().rstrip(".")], int(m["d"])))
    return found
