"""Month names in the languages people write to Satchel in.

From Babel's CLDR data (no hand-written lists), folded to lower case without accents
or a trailing dot, so that "Décembre", "december" and "Dezember" are all calendar words.

Weekdays are left out on purpose: a source that answers "the ferry on Monday" says
"Monday" in words, and the names check caught a false premise with it on
data/questions.jsonl (q38); a month is written as a number in chat stamps and mail
dates, so a month in the question is no name to look for (docs/benchmarks.md).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# The languages of the people whose data Satchel has been tried on, and their
# neighbours; more cost nothing but a few hundred words.
LOCALES = ("en", "fr", "it", "de", "es", "pt", "nl", "sv", "da", "nb", "pl", "ca")


def fold(word: str) -> str:
    word = unicodedata.normalize("NFKD", word.lower().strip().rstrip("."))
    return "".join(c for c in word if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def calendar_words() -> frozenset[str]:
    from babel.dates import get_month_names

    words: set[str] = set()
    for locale in LOCALES:
        # full names only: abbreviations are also first names ("Jan", "Dom", "Mar")
        for width in ("wide",):
            for context in ("format", "stand-alone"):
                words.update(fold(n) for n in get_month_names(width, context, locale).values())
    return frozenset(w for w in words if len(w) >= 3)


def is_calendar_word(word: str) -> bool:
    return fold(word) in calendar_words()
