"""What every answer backend reports about a generation.

Local llama.cpp (:mod:`assistant.backends.llm`) and an OpenAI-compatible server
(:mod:`assistant.backends.remote`) both fill a :class:`GenerationStats`; it lives here, below
both, so the remote backend does not import the local one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class GenerationStats:
    """The token meter: the unit of cost of local inference."""

    model: str
    prompt_tokens: int = 0
    prompt_tokens_evaluated: int = 0  # after KV-cache prefix reuse
    generated_tokens: int = 0
    time_to_first_token_s: float = 0.0
    prompt_tokens_per_s: float = 0.0
    generation_tokens_per_s: float = 0.0
    total_s: float = 0.0
    retrieval_s: float = 0.0
    # seconds the answer waited for its turn (another answer, background work pausing)
    waited_s: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}
