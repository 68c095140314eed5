"""The keyword index in each chunk's language (assistant/language/keywords.py): Snowball
stems per language, diacritics folded, codes and numbers exact, old stores migrated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assistant.language.keywords import UNSTEMMED, chunk_language, chunk_languages, match_expression, search_form
from assistant.store.repository import Store

# (language, a sentence of a note, a query word in another form of a word in it)
SOURCES = [
    ("en", "The committee postponed all remaining meetings until the audit is finished.", "meeting"),
    ("fr", "Bonjour, vous trouverez ci-joint les factures du loyer pour le trimestre écoulé.", "facture"),
    ("it", "Buongiorno, in allegato trova le fatture della manutenzione della caldaia.", "fattura"),
    ("de", "Hallo, anbei die Rechnungen für die Reparatur der Heizung im Keller.", "Rechnung"),
    ("es", "Hola, te envío las facturas de la reparación del calentador del piso.", "factura"),
]


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(("language", "sentence", "word"), SOURCES)
def test_each_chunk_is_stemmed_in_its_own_language(language: str, sentence: str, word: str) -> None:
    assert chunk_language(sentence) == language
    form = search_form(sentence, language)
    assert match_expression(f'"{word}"', [language]).strip('"') in form.split()


def test_a_short_chunk_takes_its_document_s_language() -> None:
    """Alone, the tail of an abstract reads as Latin or Frisian; in its document it is English."""
    body = (
        "Mitochondrial dysfunction is a hallmark of ageing. We measured respiration in fibroblasts from "
        "donors of different ages and found that complex I activity declined steadily with age, while "
        "the expression of the genes that encode it did not change. Protein synthesis in"
    )
    tail = "mammalian cells occur in bacteria."
    assert chunk_language(tail) != "en"
    assert chunk_languages([body, tail]) == ["en", "en"]
    french = "Bonjour Anna, voici enfin les factures du loyer et des charges pour le premier trimestre de l'année."
    assert chunk_languages([body, french * 3]) == ["en", "fr"]  # a long, clear chunk keeps its own


def test_codes_numbers_and_short_text() -> None:
    assert (
        search_form("Invoice JR-2026-004 of 1,240.50 EUR, ref A7b", "en")
        == "invoic jr 2026 004 of 1 240 50 eur ref a7b"
    )
    assert search_form("Café crème à Zürich", "fr") == "caf crem a zurich"
    assert chunk_language("ok 👍") == UNSTEMMED
    assert match_expression('"running"', ["en", UNSTEMMED]) == '("run" OR "running")'
    assert match_expression('"kay"*', ["en", "fr"]) == '"kay"*'
    assert match_expression('"door codes"', ["en"]) == '"door code"'


def test_keyword_search_finds_other_forms_in_every_language(fake_app, tmp_path: Path) -> None:
    root = tmp_path / "notes"
    for language, sentence, _ in SOURCES:
        write(root / f"{language}.txt", sentence)
    write(root / "code.txt", "The gate code is JR-2026-004 and the alarm code is 4417.")
    fake_app.add_source(root)
    fake_app.sync()
    searcher = fake_app.searcher()
    assert set(fake_app.store.keyword_languages()) >= {"en", "fr", "it", "de", "es"}
    ids = {
        Path(row[1]).stem: int(row[0])
        for row in fake_app.store.conn.execute(
            "SELECT c.id, u.path FROM chunks c "
            "JOIN documents d ON d.id = c.document_id JOIN units u ON u.id = d.unit_id"
        )
    }
    for language, _, word in SOURCES:
        found = [cid for cid, _ in searcher.bm25(word, _no_filters(), 5)]
        assert ids[language] in found, (language, word)  # "facture" finds the Spanish "facturas" too
    # codes and numbers match exactly, not by a stem or a prefix
    assert [cid for cid, _ in searcher.bm25("JR-2026-004", _no_filters(), 5)] == [ids["code"]]
    assert searcher.bm25("441", _no_filters(), 5) == []
    # the answer gates read the same index: "Rechnung" is in the German note
    assert searcher.chunks_containing("Rechnung", list(ids.values())) == {ids["de"]}


def _no_filters():  # noqa: ANN202
    from assistant.retrieval.search_types import Filters

    return Filters()


def test_a_store_made_before_is_migrated_to_the_new_keyword_index(tmp_path: Path) -> None:
    """A store whose FTS5 index still stems with porter gets the stemmed columns and
    the new index on open, with its chunks searchable in their own language."""
    from sqlite_utils import Database

    from assistant.store.schema import satchel_migrations

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    satchel_migrations().apply(Database(conn), stop_before="m005_keyword_forms")
    conn.execute("INSERT INTO sources(id, path, added_at) VALUES (1, '/x', 'now')")
    conn.execute(
        "INSERT INTO documents(id, source_id, unit_id, key, kind, title, content_hash, text) "
        "VALUES (1, 1, 1, 'k', 'note', 'Rechnung', 'h', 'x')"
    )
    conn.execute(
        "INSERT INTO chunks(id, document_id, ordinal, text, title, persons, locator, kind, source_id) "
        "VALUES (7, 1, 0, ?, 'Heizung', 'jonas weber', '', 'note', 1)",
        (SOURCES[3][1],),
    )
    porter = conn.execute("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'rechnung'").fetchall()
    assert porter == []  # porter does not make "Rechnungen" into "rechnung"
    conn.close()

    store = Store(path)
    row = store.conn.execute("SELECT language, search_text FROM chunks WHERE id = 7").fetchone()
    assert row[0] == "de" and "rechnung" in row[1].split()
    assert store.keyword_languages() == ("de",)
    found = store.conn.execute(
        "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?", (match_expression('"Rechnung"', ["de"]),)
    ).fetchall()
    assert [r[0] for r in found] == [7]
    store.conn.execute("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)")
    store.conn.execute("DELETE FROM chunks WHERE id = 7")  # the delete trigger reads the new columns
    assert store.conn.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'rechnung'").fetchone()[0] == 0
    store.close()


def test_a_questions_function_words_are_dropped_in_its_own_language() -> None:
    """ "le", "de", "la" counted as topic words of a French question, so any French
    source covered half of it (relevance floor and cited-coverage check)."""
    from assistant.retrieval.terms import query_terms

    assert query_terms("Quel est le code de la porte du garage de l'immeuble ?") == [
        "code",
        "porte",
        "garage",
        "immeuble",
    ]
    assert query_terms("Quanto costa l'affitto dell'appartamento?") == ["costa", "affitto", "appartamento"]
    assert query_terms("Wann ist mein Termin beim Augenarzt in Kehl?") == ["termin", "augenarzt", "kehl"]
    assert query_terms("¿Cuál es el número de vuelo a Sevilla?") == ["número", "vuelo", "sevilla"]
    # English words that are function words elsewhere stay in an English question
    assert query_terms("What did my son say about the fine?") == ["son", "say", "fine"]


def _chunk_languages_one_detection_per_chunk_and_document(texts: list[str]) -> list[str]:
    """chunk_languages as it was written first: the document's guess read apart from
    its chunks' (the reference the shortcut must equal)."""
    from assistant.language import keywords

    document, _ = keywords._detect(" ".join(texts)[: keywords.DETECT_CHARS])
    out = []
    for text in texts:
        language, probability = keywords._detect(text)
        letters = len(keywords._LETTER.findall(text[: keywords.DETECT_CHARS]))
        own = letters >= keywords.SURE_LETTERS and probability >= keywords.SURE_PROBABILITY
        out.append(language if own or document == UNSTEMMED else document)
    return out


def test_chunk_languages_reads_the_first_chunk_once_and_says_the_same() -> None:
    """The document's guess reuses the first chunk's when that chunk covers the sample:
    the same languages as reading the document apart, on real abstracts cut into chunks
    of several sizes, short chat lines and documents of mixed languages."""
    import json

    from tests.conftest import SHARED

    documents: list[list[str]] = [[], [""], ["ok"], ["ok grazie", "a domani"]]
    with (SHARED / "corpora" / "retrieval" / "scifact" / "corpus.jsonl").open(encoding="utf-8") as corpus:
        for n, line in zip(range(300), corpus, strict=False):
            text = json.loads(line)["text"]
            size = (200, 600, 1000, 1400)[n % 4]
            documents.append([text[i : i + size] for i in range(0, len(text), size)])
    mixed = [sentence for _, sentence, _ in SOURCES]
    documents += [mixed, mixed[::-1], [" ".join(mixed)] + mixed, [m * 12 for m in mixed]]
    for texts in documents:
        assert chunk_languages(texts) == _chunk_languages_one_detection_per_chunk_and_document(texts), texts[:1]
