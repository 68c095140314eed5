"""Filters said in French, Italian, German or Spanish, read by the English parser.

``assistant/retrieval/query_filters.py`` reads kinds, people and dates from English wording.
Rather than a second parser per language, a question in another language gets an
English *gloss* of its filter words only: "mails d'Anna en mars" reads as "emails
from Anna in March", "messaggi di Marco la settimana scorsa" as "messages from
Marco last week", "Mails von Jonas im Mai" as "emails from Jonas in May". The
English parser then finds exactly the filters it finds in the English form, and
its spans are mapped back onto the question so that the topic words left for
search stay in the person's own language.

Where the words come from, and why:

- **Calendar words from dateparser's language data** (the library the index uses
  for relative time): month names, "hier"/"ieri"/"gestern"/"ayer", "la semaine
  dernière"/"la settimana scorsa"/"letzte Woche"/"la semana pasada", "il y a 3
  jours"/"3 giorni fa"/"vor 3 Tagen"/"hace 3 días". Abbreviations that are the
  start of a full name ("mar", "juil") are left out: "mar" is also the Spanish sea.
- **Function words by hand**: prepositions, articles, possessives and the names of
  kinds. No library lists these as filter words, and there are few of them.
  A preposition that reads differently before a date ("a marzo" is "in March",
  "a Marco" is "to Marco"; "da marzo" is "since March") has a second gloss used
  only before a month, day or year.
- **Only when the question is in that language**: py3langid (bundled model,
  limited to English and these four) picks the language. An English question is
  never glossed, so English parsing is unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from assistant.language.keywords import fold
from assistant.language.stop_words import QUESTION_LANGUAGES

__all__ = ["GLOSSED_LANGUAGES", "Gloss", "edge_words", "english_gloss", "may_need_gloss", "question_language"]

GLOSSED_LANGUAGES = QUESTION_LANGUAGES[1:]  # all but English
_FLAGS = re.IGNORECASE

# word -> English gloss; a pair is (gloss, gloss before a date)
_FUNCTION_WORDS: dict[str, dict[str, str | tuple[str, str]]] = {
    "fr": {
        "de": "from", "d'": "from", "du": ("from", "on"), "par": "by", "avec": "with", "à": ("to", "in"),
        "en": "in", "dans": "in", "pendant": "during", "depuis": "since", "avant": "before", "après": "after",
        "entre": "between",
        "et": "and", "jusqu'à": "until", "jusqu'au": "until", "au": ("to", "in"), "le": ("the", "on"),
        "la": "the", "les": "the", "l'": "the", "mes": "my", "mon": "my", "ma": "my", "sur": "about",
        "mails": "emails", "mail": "email", "e-mails": "emails", "e-mail": "email", "courriels": "emails",
        "courriel": "email", "messages": "messages", "message": "message", "notes": "notes", "note": "note",
        "documents": "documents", "document": "document", "fichiers": "files", "fichier": "file",
        "conversations": "conversations", "conversation": "conversation", "discussions": "chats",
        "discussion": "chat", "envoyés": "sent", "reçus": "received",
    },
    "it": {
        "di": "from", "da": ("from", "since"), "dal": ("from", "since"), "dalla": ("from", "since"),
        "del": "from", "della": "from", "con": "with", "a": ("to", "in"), "in": "in", "nel": "in",
        "nella": "in", "nei": "in", "nelle": "in", "negli": "in", "durante": "during", "dopo": "after",
        "prima di": "before", "prima del": "before", "tra": "between", "fra": "between", "e": "and",
        "fino a": "until", "il": ("the", "on"), "lo": "the", "la": "the", "i": "the", "gli": "the",
        "le": "the", "l'": "the", "mie": "my", "miei": "my", "mia": "my", "mio": "my", "su": "about",
        "email": "emails", "e-mail": "emails", "mail": "emails", "messaggi": "messages",
        "messaggio": "message", "note": "notes", "nota": "note", "documenti": "documents",
        "documento": "document", "chat": "chats", "conversazioni": "conversations",
        "conversazione": "conversation", "inviati": "sent", "ricevuti": "received",
    },
    "de": {
        "von": "from", "vom": "from", "mit": "with", "an": "to", "im": "in", "in": "in", "am": "on",
        "während": "during", "seit": "since", "vor": "before", "nach": "after", "zwischen": "between",
        "und": "and", "bis": "until", "der": "the", "die": "the", "das": "the", "den": "the", "dem": "the",
        "meine": "my", "meinen": "my", "meinem": "my", "meiner": "my", "mein": "my", "über": "about",
        "mails": "emails", "mail": "email", "e-mails": "emails", "e-mail": "email", "emails": "emails",
        "nachrichten": "messages", "nachricht": "message", "notizen": "notes", "notiz": "note",
        "dokumente": "documents", "dokumenten": "documents", "dokument": "document", "dateien": "files",
        "datei": "file", "chats": "chats", "gesendet": "sent", "erhalten": "received",
    },
    "es": {
        "de": "from", "del": "from", "por": "by", "con": "with", "a": ("to", "in"), "en": "in",
        "durante": "during", "desde": "since", "antes de": "before", "después de": "after",
        "entre": "between", "y": "and", "hasta": "until", "el": ("the", "on"), "la": "the", "los": "the",
        "las": "the", "mis": "my", "mi": "my", "sobre": "about", "correos electrónicos": "emails",
        "correo electrónico": "email", "correos": "emails", "correo": "email", "emails": "emails",
        "mails": "emails", "mensajes": "messages", "mensaje": "message", "notas": "notes", "nota": "note",
        "documentos": "documents", "documento": "document", "archivos": "files", "archivo": "file",
        "chats": "chats", "conversaciones": "conversations", "conversación": "conversation",
        "enviados": "sent", "recibidos": "received",
    },
}  # fmt: skip

# articles absorbed in front of a relative phrase: "la settimana scorsa" is "last week"
_ARTICLES = {"fr": "le la les", "it": "il lo la l'", "de": "", "es": "el la"}
# "the last 3 days", in each language's own word order
_ROLLING = {
    "fr": r"(?:(?:dans|pendant)\s+)?(?:les|ces)\s+(?P<n>\d{1,3})\s+derni(?:er|ère)s\s+(?P<u>UNIT)",
    "it": r"(?:(?:negli|nelle|gli|le)\s+)?ultim[ie]\s+(?P<n>\d{1,3})\s+(?P<u>UNIT)",
    "de": r"(?:in\s+)?(?:den|die)\s+letzten\s+(?P<n>\d{1,3})\s+(?P<u>UNIT)",
    "es": r"(?:en\s+)?(?:los|las)\s+últim[oa]s\s+(?P<n>\d{1,3})\s+(?P<u>UNIT)",
}
# a day before its month: "3 de marzo", "3. März", "1er mars"
_DAY_MONTH = {
    "fr": r"(?P<d>\d{1,2})(?:er)?\s+(?P<m>MONTH)",
    "it": r"(?P<d>\d{1,2})\s+(?P<m>MONTH)",
    "de": r"(?P<d>\d{1,2})\.?\s+(?P<m>MONTH)",
    "es": r"(?P<d>\d{1,2})\s+de\s+(?P<m>MONTH)(?:\s+de\s+(?P<y>\d{4}))?",
}
_MONTH_YEAR = {"es": r"(?P<m>MONTH)\s+de\s+(?P<y>\d{4})"}
_RELATIVE = {  # dateparser's relative-type keys in the English the parser reads
    "0 day ago": "today",
    "1 day ago": "yesterday",
    "2 day ago": "2 days ago",
    "0 week ago": "this week",
    "1 week ago": "last week",
    "0 month ago": "this month",
    "1 month ago": "last month",
    "0 year ago": "this year",
    "1 year ago": "last year",
}
_UNITS = ("day", "week", "month", "year")
_PREPOSITIONS = frozenset("from by with to in on during since before after between and until".split())
_MONTH_KEYS = "january february march april may june july august september october november december".split()


@dataclass(frozen=True)
class Gloss:
    """The question with its filter words in English, and where each came from."""

    language: str
    text: str
    # (start, end) in the question and (start, end) in ``text`` of each glossed piece, in order
    pieces: tuple[tuple[int, int, int, int], ...]

    def to_question(self, start: int, end: int) -> tuple[int, int]:
        """A span of ``text`` as the span of the question it was read from."""
        return self._position(start, is_end=False), self._position(end, is_end=True)

    def _position(self, pos: int, *, is_end: bool) -> int:
        shift = 0  # how much longer the question is than the gloss, up to here
        for q_start, q_end, g_start, g_end in self.pieces:
            if pos < g_start or (is_end and pos == g_start):
                break
            if pos < g_end or (is_end and pos == g_end):
                return q_end if is_end else q_start
            shift = q_end - g_end
        return pos + shift


def _variants(word: str) -> set[str]:
    return {word.lower(), fold(word.lower())}


def _alternation(words: set[str]) -> str:
    ordered = sorted(words, key=lambda w: (-len(w), w))
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ordered)


@dataclass(frozen=True)
class _Lexicon:
    phrases: re.Pattern[str]  # every glossed word or phrase, longest first
    glosses: dict[str, str | tuple[str, str]]  # lower-case, accent-free key -> gloss
    months: dict[str, str]  # lower-case, accent-free month name -> English month
    units: dict[str, str]  # lower-case, accent-free unit word -> English unit
    forms: tuple[tuple[re.Pattern[str], str], ...]  # (pattern, English template) tried before single words
    dated: re.Pattern[str]  # what makes the next word a date: a month, a day number, a year


def _key(text: str) -> str:
    return fold(" ".join(text.lower().split()))


@lru_cache(maxsize=8)
def _lexicon(language: str) -> _Lexicon:
    from importlib import import_module

    info: dict[str, Any] = import_module(f"dateparser.data.date_translation_data.{language}").info
    months: dict[str, str] = {}
    for number, key in enumerate(_MONTH_KEYS):
        names = [n.lower() for n in info.get(key, [])]
        for name in names:
            if any(other != name and other.startswith(name) for other in names):
                continue  # an abbreviation of a longer name ("mar" of "marzo")
            for variant in _variants(name):
                months[variant] = _MONTH_KEYS[number].capitalize()
    units = {_key(word): unit for unit in _UNITS for word in info.get(unit, []) if len(word) >= 3}
    glosses: dict[str, str | tuple[str, str]] = {}
    for word, gloss in _FUNCTION_WORDS[language].items():
        for variant in _variants(word):
            glosses[_key(variant)] = gloss

    month_re = _alternation(set(months))
    unit_re = _alternation(set(units))
    forms: list[tuple[re.Pattern[str], str]] = []

    def form(pattern: str, template: str) -> None:
        pattern = pattern.replace("MONTH", month_re).replace("UNIT", unit_re)
        forms.append((re.compile(rf"(?<![\w'’-])(?:{pattern})(?![\w-])", _FLAGS), template))

    articles = [a for a in _ARTICLES[language].split() if a]
    article_re = (
        "(?:(?:" + "|".join(re.escape(a) + (r"\s*" if a.endswith("'") else r"\s+") for a in articles) + "))?"
        if articles
        else ""
    )
    for key, english in _RELATIVE.items():
        phrases = {v for p in info["relative-type"].get(key, []) for v in _variants(p)}
        if phrases:
            form(article_re + "(?:" + _alternation(phrases) + ")", english)
    for key, patterns in info.get("relative-type-regex", {}).items():
        unit = key.split()[1]
        if unit not in _UNITS:
            continue
        for pattern in patterns:
            plain = pattern.replace(r"(\d++[.,]?\d*+)", r"(?P<n>\d{1,3})")
            if re.search(r"\(\?P<n>[^)]*\)\s*(?:[^\W\d_]{1,2}\b|\\s)", plain):
                continue  # "il y a 3 j", "vor 3 m", "3 g fa": one- and two-letter units read too much
            form(plain, "{n} " + unit + "s ago")
    form(_ROLLING[language], "the last {n} {u}s")
    form(_DAY_MONTH[language], "{d} {m}")
    if language in _MONTH_YEAR:
        form(_MONTH_YEAR[language], "{m} {y}")
    form(month_re, "{0}")

    words = set(glosses)
    word_re = _alternation(words)
    phrases_re = re.compile(rf"(?<![\w'’-])(?:{word_re})(?![\w-])|(?<![\w'’-])[dl]['’](?=\w)", _FLAGS)
    dated = re.compile(rf"\s*(?:\d{{1,4}}\b|(?:{month_re})(?![\w-]))", _FLAGS)
    return _Lexicon(phrases_re, glosses, months, units, tuple(forms), dated)


def _fill(template: str, match: re.Match[str], lexicon: _Lexicon) -> str:
    groups = {k: v for k, v in match.groupdict().items() if v is not None}
    if template == "{0}":
        return lexicon.months[_key(match.group())]
    if "m" in groups:
        groups["m"] = lexicon.months[_key(groups["m"])]
    if "u" in groups:
        groups["u"] = lexicon.units[_key(groups["u"])]
    year = f" {groups['y']}" if "y" in groups and "{y}" not in template else ""
    return template.format(**groups) + year


def english_gloss(question: str, language: str) -> Gloss:
    """The question with the filter words of ``language`` glossed in English."""
    lexicon = _lexicon(language)
    found: list[tuple[int, int, str]] = []
    taken = bytearray(len(question))
    for pattern, template in lexicon.forms:
        for m in pattern.finditer(question):
            if any(taken[m.start() : m.end()]):
                continue
            found.append((m.start(), m.end(), _fill(template, m, lexicon)))
            taken[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
    for m in lexicon.phrases.finditer(question):
        if any(taken[m.start() : m.end()]):
            continue
        word = m.group()
        if word[-1] in "'’":
            gloss = lexicon.glosses.get(_key(word[:-1] + "'"), "")
        else:
            gloss = lexicon.glosses.get(_key(word), "")
        if isinstance(gloss, tuple):
            # "le 3 mars" is "on 3 March", but "avant le 3 mars" is "before the 3 March"
            after_preposition = (
                bool(found)
                and found[-1][2].strip() in _PREPOSITIONS
                and not (question[found[-1][1] : m.start()].strip())
            )
            dated = lexicon.dated.match(question, m.end()) and not after_preposition
            gloss = gloss[1] if dated else gloss[0]
        if gloss:
            found.append((m.start(), m.end(), gloss + (" " if word[-1] in "'’" else "")))
    found.sort()
    text: list[str] = []
    pieces: list[tuple[int, int, int, int]] = []
    at = length = 0
    for start, end, english in found:
        text.append(question[at:start])
        length += start - at
        pieces.append((start, end, length, length + len(english)))
        text.append(english)
        length += len(english)
        at = end
    text.append(question[at:])
    return Gloss(language, "".join(text), tuple(pieces))


def edge_words(language: str, english_edges: frozenset[str]) -> frozenset[str]:
    """The words of ``language`` whose gloss is one of ``english_edges``: left at the
    edge of a question once its filter phrases are gone, they go too."""
    words = _FUNCTION_WORDS[language]
    return frozenset(
        _key(word).rstrip("'")
        for word, gloss in words.items()
        if (gloss[0] if isinstance(gloss, tuple) else gloss) in english_edges
    )


@lru_cache(maxsize=1)
def _foreign_words() -> frozenset[str]:
    from assistant.language.stop_words import STOP_WORDS

    english = set(STOP_WORDS) | {"mail", "mails", "email", "emails"}
    for words in _FUNCTION_WORDS.values():
        english |= {g for gloss in words.values() for g in ((gloss,) if isinstance(gloss, str) else gloss)}
    foreign = {_key(w).rstrip("'") for table in _FUNCTION_WORDS.values() for w in table if " " not in w}
    return frozenset(foreign - english)


def may_need_gloss(question: str) -> bool:
    """Whether the question has a function word of a glossed language that English
    lacks ("de", "von", "nel"): a cheap test that spares English questions the
    language detector's half-second load in a fresh process."""
    foreign = _foreign_words()
    return any(_key(w) in foreign for w in re.findall(r"[^\W\d_]+", question))


def question_language(question: str) -> str:
    """English or one of the glossed languages, whichever the question reads as."""
    from assistant.language.keywords import detect_language

    return detect_language(question, ("en", *GLOSSED_LANGUAGES))
