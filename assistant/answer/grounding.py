"""Whether an answer's facts are in the sources it cites.

The model may write a number, a date or a name that no cited source holds: a
small model copies a figure from the wrong document or invents a sender ("From
Helena Duarte"). Before an answer is shown, its checkable facts are looked up in
the cited sources' text, title, author and dates:

- **numbers** ("€1,240", "14A", "2019"), compared by their digits, so "1.240,00 €"
  supports "1,240"; counts up to twelve are left alone (sources write them in words);
- **dates** written out in words or ISO, compared as ISO after
  ``canonical_dates`` ("21 December 2022" is supported by a chat line stamped
  2022-12-21, or by the note "[yesterday = 21 December 2022]");
- **names**: capitalised words inside a sentence (not its first word), compared
  without case or accents, a place or language also by its name in another
  language ("Vienna" is supported by "Wien", assistant/language/place_names.py).
  Month and weekday names are no names.

What the question itself says counts as said (an answer may repeat it), and so does
what the model wrote in a "could not find" reply (it is withdrawn anyway).
A fact that none of those hold makes the answer unsupported.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from assistant.language.place_names import equivalent_names

__all__ = ["unsupported_facts"]

# Counts up to twelve are as often written in words ("a dog", "three years", "the
# fourth tournament") as in digits; they are not checked (LoCoMo-dev: "1 dog" was
# withdrawn over "a dog").
SMALL_NUMBER = 12
CITATION = re.compile(r"\[\d+(?:\s*[,;]\s*\d+)*\]")  # "[2]", "[1, 3]"
# digits with one separator between groups ("1 240,00", "1'240.50"): a run of
# separators is no number ("15. , 9" is 15 and 9)
_NUMBER = re.compile(r"\d(?:[.,'’\u00a0\u202f ]?\d)*")
# Languages that capitalise every noun, where a capital says nothing about a name.
NOUN_CAPITALISING = frozenset({"de", "lb"})
# Capitalised words that are no names in any language: times of day ("9:30 AM").
_NO_NAMES = frozenset({"am", "pm", "a.m", "p.m"})
_ISO = re.compile(r"\b\d{4}-\d{2}(?:-\d{2})?\b")
_WORD = re.compile(r"[^\W\d_][\w'’.-]*[^\W_]|[^\W\d_]", re.UNICODE)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n]\s+|\(\s*)$")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def _number_forms(text: str) -> set[str]:
    """Every number of a text by its digits, with and without a decimal part
    ("1.240,00" gives 124000 and 1240)."""
    forms: set[str] = set()
    for match in _NUMBER.finditer(text):
        raw = match.group(0).strip(" .,")
        forms.add(_digits(raw))
        whole = re.split(r"[.,](?=\d{1,2}$)", raw)[0]  # a decimal part of one or two digits
        forms.add(_digits(whole))
        for part in re.split(r"[\s\u00a0\u202f]+", raw):  # "17 2023" is two numbers
            forms.add(_digits(part))
    return forms


_NUMERIC_DAY = re.compile(r"\b(\d{1,2})[./](\d{1,2})(?:[./](\d{2,4}))?\b")


def _month_days(text: str) -> set[tuple[int, int]]:
    """(month, day) pairs a text names, with or without a year: "16 March",
    "March 16", "16/03/2026" (read day first and month first: both are kept)."""
    from assistant.answer.calendar_words import day_month_pairs

    pairs = set(day_month_pairs(text))
    for day, month, _ in _NUMERIC_DAY.findall(text):
        d, m = int(day), int(month)
        for month_day in ((m, d), (d, m)):
            if 1 <= month_day[0] <= 12 and 1 <= month_day[1] <= 31:
                pairs.add(month_day)
    return pairs


def _language(text: str) -> str:
    from assistant.language.keywords import detect_language

    return detect_language(text)


def _calendar_names() -> frozenset[str]:
    from assistant.answer.calendar_words import calendar_names

    return calendar_names()


def unsupported_facts(answer: str, sources: Iterable[str], question: str = "") -> list[str]:
    """The numbers, dates and names of ``answer`` that neither the cited ``sources``
    nor the question hold, in the order the answer says them."""
    from assistant.answer.calendar_words import canonical_dates

    text = CITATION.sub(" ", answer)
    said = " \n ".join([*sources, question])
    said_dates = canonical_dates(said)
    said_numbers = _number_forms(said_dates) | _number_forms(said)
    said_folded = _fold(said)
    missing: list[str] = []

    dated = canonical_dates(text)
    said_days = _month_days(said)
    for iso in _ISO.findall(dated):
        # a source may give the day without its year ("16 March", "16/03")
        if iso not in said_dates and (len(iso) < 10 or (int(iso[5:7]), int(iso[8:10])) not in said_days):
            missing.append(iso)
    rest = _ISO.sub(" ", dated)
    for match in _NUMBER.finditer(rest):
        raw = match.group(0).strip(" .,")
        if not raw or (raw.isdigit() and int(raw) <= SMALL_NUMBER):
            continue
        if not ({_digits(raw), _digits(re.split(r"[.,](?=\d{1,2}$)", raw)[0])} & said_numbers):
            missing.append(raw)
    calendar = _calendar_names()
    if _language(text) in NOUN_CAPITALISING:
        # every noun is capitalised ("Stunden", "Anreise"): a capital says nothing
        # of a name, as the question's names check holds for German questions
        return list(dict.fromkeys(missing))
    for match in _WORD.finditer(text):
        word = re.sub(r"['’]s$", "", match.group(0)).rstrip(".'’")  # "Rivera's" is Rivera
        if not word[:1].isupper() or _SENTENCE_START.search(text[: match.start()]):
            continue
        folded = _fold(word)
        if folded in calendar or folded in _NO_NAMES or word == "I" or len(word) < 2:
            continue
        if not any(re.search(rf"(?<!\w){re.escape(name)}", said_folded) for name in (folded, *equivalent_names(word))):
            missing.append(word)
    return list(dict.fromkeys(missing))
