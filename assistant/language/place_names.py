"""The other languages' names of a country, a language or a city.

An English question about "Vienna" or "Germany" is answered by a German mail that
says "Wien" and "Deutschland"; a French one says "l'Allemagne". The names
checks (assistant/answer/rag.py, grounding.py) compare names word for word, so
without these equivalents a source in another language is held not to mention the
place the question names.

The names come from Babel's CLDR data, not from lists written here: every
territory and language name, and the cities that name a time zone ("Europe/Rome":
Rome, Roma, Rom), in ``LOCALES``. CLDR has no other cities ("München", "Sevilla", "Firenze"):
those are not matched, rather than matched by a guess at their spelling, which
would also let "Helena" stand for "Helene". Names are compared in lower case
without accents, as the names checks compare them.
"""

from __future__ import annotations

from functools import lru_cache

from assistant.language.keywords import fold
from assistant.language.locales import LOCALES

__all__ = ["equivalent_names"]


@lru_cache(maxsize=1)
def _groups() -> dict[str, frozenset[str]]:
    """Every one-word name of ``LOCALES`` to all the names of the same place or
    language (itself included)."""
    from babel import Locale

    names_of: dict[tuple[str, str], set[str]] = {}
    for code in LOCALES:
        locale = Locale.parse(code)
        for key, name in locale.territories.items():
            names_of.setdefault(("territory", key), set()).add(name)
        for key, name in locale.languages.items():
            names_of.setdefault(("language", key), set()).add(name)
        for zone, names in locale.time_zones.items():
            if "city" in names:
                names_of.setdefault(("city", zone), set()).add(names["city"])
    for kind, key in list(names_of):
        if kind == "city":  # English exemplar cities are the zone's own name
            names_of[(kind, key)].add(key.rsplit("/", 1)[-1].replace("_", " "))
    groups: dict[str, set[str]] = {}
    for names in names_of.values():
        folded = {fold(name) for name in names if " " not in name and "-" not in name}
        for name in folded:
            groups.setdefault(name, set()).update(folded)
    return {name: frozenset(group) for name, group in groups.items()}


def equivalent_names(name: str) -> frozenset[str]:
    """The other names (folded) of the place or language ``name`` names, in the
    languages of ``LOCALES``; empty for a name CLDR does not know."""
    folded = fold(name)
    return _groups().get(folded, frozenset()) - {folded}
