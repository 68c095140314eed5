"""BM25's weight in a store of several languages (assistant/retrieval/language_weight.py)."""

from __future__ import annotations

import pytest

from assistant.ingest.embedder_choice import LanguageMix
from assistant.retrieval.language_weight import MULTILINGUAL_BM25_FLOOR, bm25_weight


def test_shares_count_only_chunks_with_a_language() -> None:
    assert LanguageMix({"en": 30, "fr": 10, "xx": 500, "": 3}).shares == {"en": 0.75, "fr": 0.25}
    assert LanguageMix({"xx": 4}).shares == {}


def test_a_store_all_in_the_questions_language_keeps_the_configured_weight() -> None:
    assert bm25_weight(0.5, "When did Caroline go to the LGBTQ support group?", {"en": 1.0}) == 0.5


def test_a_question_in_a_language_the_store_lacks_leans_on_the_dense_side() -> None:
    shares = {"fr": 0.6, "it": 0.4}
    assert bm25_weight(0.5, "How much is the rent for March, charges included?", shares) == pytest.approx(
        MULTILINGUAL_BM25_FLOOR, abs=0.05
    )


def test_the_weight_follows_the_share_of_the_questions_language() -> None:
    shares = {"en": 0.5, "fr": 0.3, "de": 0.2}
    french = bm25_weight(0.5, "Quel est le montant du loyer de mars, charges comprises ?", shares)
    german = bm25_weight(0.5, "Wann ist mein Termin beim Zahnarzt in der nächsten Woche?", shares)
    english = bm25_weight(0.5, "When is my appointment with the dentist next week?", shares)
    assert german < french < english < 0.5
    assert french == pytest.approx(0.2 + 0.3 * 0.3)


def test_a_weight_set_at_or_below_the_floor_is_left_alone() -> None:
    assert bm25_weight(0.1, "Quel est le loyer ?", {"en": 1.0}) == 0.1


def test_only_a_multilingual_store_weighs_by_language(fake_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "loyer.md").write_text("# Loyer\nLe loyer de mars est de 1 180 euros, à régler avant le 5.\n")
    (notes / "rent.md").write_text("# Rent\nThe rent for the garage is 90 euros a month, paid by transfer.\n")
    fake_app.add_source(notes)
    fake_app.sync()
    assert fake_app.searcher().language_shares == {}  # the fake, like MiniLM, is English-only
    fake_app.embedder.multilingual = True  # type: ignore[attr-defined]
    shares = fake_app.searcher().language_shares
    assert set(shares) == {"en", "fr"} and sum(shares.values()) == pytest.approx(1.0)
    assert fake_app.searcher().weight_for("Quel est le loyer de mars ?") < 0.5
