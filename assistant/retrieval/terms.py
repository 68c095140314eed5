"""A query's words as the keyword index sees them: terms, the FTS5 MATCH expression, and the
snippet around them in a result."""

from __future__ import annotations

import re

from assistant.language.stop_words import STOP_WORDS

_WORD = re.compile(r"[\w][\w'’.-]*[\w]|[\w]", re.UNICODE)
_PHRASE = re.compile(r'"([^"]+)"')


def query_terms(query: str) -> list[str]:
    """Content words of a query, lower-cased, stop words dropped: English ones, and
    those of the query's own language when it is French, Italian, German or Spanish."""
    from assistant.language.stop_words import foreign_stop_words, stop_words_of

    words = [w.lower().strip(".'’-") for w in _WORD.findall(_PHRASE.sub(" ", query))]
    # an elided article or preposition is its own word: "l'immeuble", "dell'affitto"
    words = [w.split("'", 1)[1] if "'" in w and w.split("'", 1)[0] in foreign_stop_words() else w for w in words]
    kept = [w for w in words if w and w not in STOP_WORDS]
    if any(w in foreign_stop_words() for w in kept):
        from assistant.language.keywords import detect_language

        foreign = stop_words_of(detect_language(query))
        kept = [w for w in kept if w not in foreign]
    return kept or [w for w in words if w]


def fts_terms(query: str) -> list[str]:
    """The FTS5 phrases of a query: quoted phrases kept whole, other content words
    one by one, a trailing ``*`` honoured as a prefix search."""
    parts: list[str] = []
    for phrase in _PHRASE.findall(query):
        words = _WORD.findall(phrase)
        if words:
            parts.append('"' + " ".join(w.replace('"', "") for w in words) + '"')
    rest = _PHRASE.sub(" ", query)
    for raw in re.findall(r"[\w][\w'’.-]*\*?", rest, re.UNICODE):
        prefix = raw.endswith("*")
        word = raw.rstrip("*").lower().strip(".'’-")
        if not word or (word in STOP_WORDS and not prefix):
            continue
        for piece in _WORD.findall(word):
            parts.append(f'"{piece}"' + ("*" if prefix else ""))
    return list(dict.fromkeys(parts))


def fts_query(query: str) -> str | None:
    """An FTS5 MATCH expression: the query's phrases OR-ed. None when nothing is searchable."""
    parts = fts_terms(query)
    return " OR ".join(parts) if parts else None


def highlight_snippet(text: str, terms: list[str], width: int = 240) -> str:
    """A window of ``text`` around the densest match, query terms in **bold**."""
    flat = " ".join(text.split())
    stems = [re.escape(t[: max(4, len(t) - 2)]) if len(t) > 4 else re.escape(t) for t in terms]
    if not stems:
        return flat[:width]
    pattern = re.compile(r"\b(" + "|".join(stems) + r")\w*", re.IGNORECASE)
    matches = list(pattern.finditer(flat))
    if not matches:
        return flat[:width] + ("…" if len(flat) > width else "")
    best_start, best_count = 0, -1
    for m in matches:
        start = max(0, m.start() - width // 4)
        count = sum(1 for n in matches if start <= n.start() < start + width)
        if count > best_count:
            best_start, best_count = start, count
    start = best_start
    if start > 0:
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    window = flat[start : start + width]
    marked = pattern.sub(lambda m: f"**{m.group(0)}**", window)
    return ("…" if start > 0 else "") + marked + ("…" if start + width < len(flat) else "")
