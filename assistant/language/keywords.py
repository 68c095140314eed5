"""How text is written into the keyword (FTS5) index, and how a query's words are
looked up in it.

- **Each chunk's language is detected** with py3langid (its model ships in the
  wheel), on the chunk's first ``DETECT_CHARS`` characters; a short or unsure chunk
  takes its document's language.
- **Its words are written as Snowball stems of that language** (PyStemmer), lower-
  cased, diacritics folded: "factures" meets "facture" in a French mail, "Rechnungen"
  "Rechnung" in a German one, "meetings" "meeting" in English, as FTS5's porter
  stemmer did before for English only (SciFact BM25 is unchanged, docs/retrieval.md).
  A language without a Snowball stemmer keeps its words whole.
- **Codes, amounts and dates keep their digits**: a stemmer only takes letter
  suffixes off, so "JR-2026-004" and "1,240" are indexed as jr 2026 004 and 1 240 and
  match exactly. Words that mix digits and a suffix are stemmed like any other
  ("1990s" finds "1990"): keeping them whole cost SciFact 0.001 nDCG@10 of BM25.
- **English uses Snowball's original Porter algorithm**, the one FTS5's porter
  tokenizer implements, so English is searched as before (SciFact BM25 nDCG@10 0.6897
  against 0.6899; Porter2, Snowball's "english", gave 0.6882).
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
    "chunk_languages",
    "detect_language",
    "fold",
    "match_expression",
    "search_form",
]

DETECT_CHARS = 1000  # enough for a stable guess; a whole long chunk costs more and says no more
UNSTEMMED = "xx"  # the language code stored for text too short to tell
MIN_LETTERS = 12  # fewer letters than this: no language at all
SURE_LETTERS, SURE_PROBABILITY = 200, 0.9  # a chunk this long and this sure keeps its own language
# py3langid's codes for the languages PyStemmer has a Snowball stemmer for
SNOWBALL = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek",
    "en": "porter", "es": "spanish", "et": "estonian", "eu": "basque", "fi": "finnish", "fr": "french",
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

    return LanguageIdentifier.from_model_file(Path(MODEL_DIR) / MODEL_FILE, norm_probs=True)


def detect_language(text: str, among: tuple[str, ...] = ()) -> str:
    """The language ``text`` reads as, among ``among`` when given. The one language
    detector of the process: its model takes 0.4 s to load, so chunks, chat exports
    and questions share it."""
    if not among:
        return str(_identifier().classify(text)[0])
    return next((str(lang) for lang, _ in _identifier().rank(text) if lang in among), among[0])


def _detect(text: str) -> tuple[str, float]:
    """(language, probability), or (UNSTEMMED, 0) for text with too few letters."""
    language, probability, _ = _detect_counting(text)
    return language, probability


def _detect_counting(text: str) -> tuple[str, float, int]:
    """:func:`_detect`, and the letters of the sample it read."""
    sample = text[:DETECT_CHARS]
    letters = len(_LETTER.findall(sample))
    if letters < MIN_LETTERS:
        return UNSTEMMED, 0.0, letters
    language, probability = _identifier().classify(sample)
    return str(language), float(probability), letters


def chunk_language(text: str) -> str:
    """The language a text's words are stemmed in; ``UNSTEMMED`` when it has too few
    letters to tell."""
    return _detect(text)[0]


def chunk_languages(texts: list[str]) -> list[str]:
    """The language of each chunk of one document. A chunk says its own language when
    it is long enough and the detector is sure; a short or unsure one (the tail of an
    abstract, "ok thanks") takes the document's. On SciFact, chunk by chunk alone made
    0.6 % of English chunks Latin, Frisian or Catalan, and BM25 lost 0.003 nDCG@10."""
    detected = [_detect_counting(text) for text in texts]
    # The document's guess reads the first DETECT_CHARS of its chunks joined; where
    # the first chunk alone is that long (most documents) that is the first chunk's
    # sample, already read: one detection less per document, 0.5 ms each.
    sample = _leading_sample(texts)
    document = detected[0][0] if texts and sample == texts[0][:DETECT_CHARS] else _detect(sample)[0]
    languages = []
    for language, probability, letters in detected:
        own = letters >= SURE_LETTERS and probability >= SURE_PROBABILITY
        languages.append(language if own or document == UNSTEMMED else document)
    return languages


def _leading_sample(texts: list[str]) -> str:
    """``" ".join(texts)[:DETECT_CHARS]`` without joining a long document whole."""
    sample = ""
    for n, text in enumerate(texts):
        sample = text if n == 0 else sample + " " + text
        if len(sample) >= DETECT_CHARS:
            break
    return sample[:DETECT_CHARS]


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
    folded = [fold(w) for w in words]  # folded first, as FTS5's porter tokenizer did
    if stemmer is None:
        return folded
    return [stemmer.stemWord(w) for w in folded]


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
