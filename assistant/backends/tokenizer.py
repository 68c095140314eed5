"""The embedding model's word-piece tokenizer and its window.

Shared by the torch embedder (:mod:`assistant.backends.embedder`) and the NumPy query encoder
(:mod:`assistant.backends.query_encoder`), which the embedder uses for cold queries: it lives
below both so that neither imports the other for it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

# The model's own window, special tokens included; chunks must fit it.
MAX_SEQUENCE_TOKENS = 256


@cache
def load_tokenizer(path: Path) -> Any:
    """The embedder's word-piece tokenizer, without truncation or padding."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer
