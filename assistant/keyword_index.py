"""How text is written into the keyword (FTS5) index, and how a query's words are
looked up in it.

- **Each chunk's language is detected** with py3langid (its model ships in the
  wheel), on the chunk's first ``DETECT_CHARS`` characters.
- **Its words are written as Snowball stems of that language** (PyStemmer), lower-
  cased, diacritics folded: "factures" meets "facture" in a French mail, "Rechnungen"
  "Rechnung" in a German one, "meetings" "meeting" in English, as FTS5's porter
  stemmer did before for English only (SciFact BM25 is unchanged, docs/retrieval.md).
  A language without a Snowball stemmer keeps its words whole.
- **Words with a digit are written as they are** (codes, amounts, dates:
  "JR-2026-004", "1,240"), so they only ever match exactly.
- **A query word is looked up as its stem in every language the store holds**, not
  only in the question's: three words say little about their language, and a
  question may use a word in the source's language ("the Rechnung from Jonas"). The
  word itself is added when the store holds words no stemmer touched.

The stemmed text is stored beside the chunk (``chunks.search_text``,
``search_title``), so FTS5 rebuilds from the table as before. Both the store (when
it writes) and search (when it reads) use this module, which imports nothing from
Satchel; in the layout of the restructuring issue it belongs to ``store/``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

__all__ = [
    "DETECT_CHARS",
    "UNSTEMMED",
    "chunk_language",
    "match_expression",
    "search_form",
]

DETECT_CHARS = 1000  # enough for a stable guess; a whole long chunk costs more and says no more
UNSTEMMED = "xx"  # the language code stored for text too short or odd to tell
# py3langid's codes for the languages PyStemmer has a Snowball stemmer for
SNOWBALL = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek",
    "en": "english", "es": "spanish", "et": "estonian", "eu": "basque", "fi": "finnish", "fr": "french",
    "ga": "irish", "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian",
    "lt": "lithuanian", "ne": "nepali", "nl": "dutch", "no": "norwegian", "pl": "polish", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sr": "serbian", "sv": "swedish", "ta": "tamil", "tr": "turkish",
}  # fmt: skip
_WORD = re.compile(r"\w+")
_LETTER = re.compile(r"[^\W\d_]")


def fold(word: str) -> str:
    """Lower-cased, diacritics removed, as FTS5's ``remove_diacritics 2`` reads it."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from pathlib import Path

    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(Path(MODEL_DIR) / MODEL_FILE)


def chunk_language(text: str) -> str:
    """The language code a chunk's words are stemmed in; ``UNSTEMMED`` when it has
    too few letters to tell."""
    sample = text[:DETECT_CHARS]
    if len(_LETTER.findall(sample)) < 12:
        return UNSTEMMED
    return str(_identifier().classify(sample)[0])


@lru_cache(maxsize=64)
def _stemmer(language: str) -> Any:
    algorithm = SNOWBALL.get(language)
    if algorithm is None:
        return None
    import Stemmer

    return Stemmer.Stemmer(algorithm)


def stems(language: str) -> bool:
    """Whether words of ``language`` are stemmed in the index."""
    return language in SNOWBALL


def _forms(words: list[str], language: str) -> list[str]:
    stemmer = _stemmer(language)
    lowered = [w.lower() for w in words]
    if stemmer is None:
        return [fold(w) for w in lowered]
    return [fold(w) if any(c.isdigit() for c in w) else fold(stemmer.stemWord(w)) for w in lowered]


def search_form(text: str, language: str) -> str:
    """``text`` as the keyword index holds it: its words, stemmed in ``language``."""
    if not text:
        return ""
    return " ".join(_forms(_WORD.findall(text), language))


def match_expression(term: str, languages: Iterable[str]) -> str:
    """An FTS5 term of a query (``"word"``, ``"two words"``, ``"prefix"*``) as the
    forms it may take in a store whose chunks are in ``languages``."""
    prefix = term.endswith("*")
    words = _WORD.findall(term)
    if not words:
        return term
    if prefix:  # a stem of a prefix means nothing; the prefix itself starts the stems too
        return '"' + " ".join(fold(w) for w in words) + '"*'
    languages = list(languages)
    alternatives = {" ".join(_forms(words, language)) for language in languages if stems(language)}
    if not alternatives or any(not stems(language) for language in languages):
        alternatives.add(" ".join(fold(w) for w in words))
    quoted = sorted('"' + a + '"' for a in alternatives)
    return quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")"
