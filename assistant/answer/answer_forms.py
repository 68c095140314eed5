"""Forms of an accepted answer that the scorer must see through.

- **Counts in words.** "Four", "twice" and "two" are the same answers as "4" and
  "2 times"; LoCoMo-dev writes counts in words and the model in digits.
- **Dates relative to a day.** Long-chat answer keys give a date as it was said:
  "The week before 6 March 2023", "The Friday before 9 October 2022". The message
  said "last week" on 6 March; an answer that names a day of that week, or the
  week's own words, says the same thing. ``gold_days`` turns such an answer into the
  days it allows.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

__all__ = ["gold_days", "said_days", "words_to_digits"]

_COUNTS = {
    "zero": 0, "one": 1, "once": 1, "two": 2, "twice": 2, "three": 3, "thrice": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20,
    # the question languages of the multilingual set
    "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8, "neuf": 9, "dix": 10,
    "due": 2, "tre": 3, "quattro": 4, "cinque": 5, "sei": 6, "sette": 7, "otto": 8, "nove": 9, "dieci": 10,
    "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10,
    "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10,
}  # fmt: skip
_COUNT_WORD = re.compile(r"\b(" + "|".join(sorted(_COUNTS, key=len, reverse=True)) + r")\b", re.I)
_TIMES = re.compile(r"\b(\d+) times\b")


def words_to_digits(text: str) -> str:
    """Counts written in words as digits ("twice" → "2", "four" → "4")."""
    text = _COUNT_WORD.sub(lambda m: str(_COUNTS[m.group(1).lower()]), text)
    return _TIMES.sub(r"\1", text)


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_RELATIVE = re.compile(
    r"^\s*(?:the\s+|(?P<count>\w+)\s+)?(?P<unit>week|weekend|weeks|weekends|"
    + "|".join(_WEEKDAYS)
    + r")\s+(?P<side>before|after|of)\s+(?P<day>\d{4}-\d{2}-\d{2})\W*$",
    re.IGNORECASE,
)


def _iso(text: str) -> date | None:
    match = _ISO_DAY.search(text)
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _days(start: date, end: date) -> set[date]:
    return {start + timedelta(days=n) for n in range((end - start).days + 1)}


def gold_days(answer: str) -> set[date] | None:
    """The days an answer key relative to a day allows, or None when it is not one.

    ``answer`` has its dates in ISO form already (``canonical_dates``)."""
    match = _RELATIVE.match(answer)
    if not match:
        return None
    anchor = _iso(match.group("day"))
    if anchor is None:
        return None
    count_word = (match.group("count") or "one").lower()
    count = int(words_to_digits(count_word)) if words_to_digits(count_word).isdigit() else 1
    unit, side = match.group("unit").lower().rstrip("s"), match.group("side").lower()
    monday = anchor - timedelta(days=anchor.weekday())
    if unit == "week":
        if side == "of":
            return _days(monday, monday + timedelta(days=6))
        if side == "before":  # the calendar week said as "last week", or seven days back
            start = monday - timedelta(days=7 * count)
            return _days(start, start + timedelta(days=6)) | {anchor - timedelta(days=7 * count)}
        start = monday + timedelta(days=7 * count)
        return _days(start, start + timedelta(days=6)) | {anchor + timedelta(days=7 * count)}
    if unit == "weekend":
        saturday = monday + timedelta(days=5)
        if side == "of":
            return {saturday - timedelta(days=1), saturday, saturday + timedelta(days=1)}
        if side == "before":
            last = saturday if saturday + timedelta(days=1) < anchor else saturday - timedelta(days=7)
            saturday = last - timedelta(days=7 * (count - 1))
        else:
            saturday = saturday if saturday > anchor else saturday + timedelta(days=7)
            saturday += timedelta(days=7 * (count - 1))
        return {saturday, saturday + timedelta(days=1)}
    weekday = _WEEKDAYS.index(unit)
    if side == "before":
        back = (anchor.weekday() - weekday) % 7 or 7
        return {anchor - timedelta(days=back)}
    if side == "after":
        ahead = (weekday - anchor.weekday()) % 7 or 7
        return {anchor + timedelta(days=ahead)}
    return {monday + timedelta(days=weekday)}


def said_days(text: str) -> set[date]:
    """The days a text names, in ISO form (``canonical_dates`` first)."""
    days = set()
    for match in _ISO_DAY.finditer(text):
        day = _iso(match.group(0))
        if day is not None:
            days.add(day)
    return days
