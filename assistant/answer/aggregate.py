"""Questions whose answer is spread over many messages: "What books has John read?",
"List every invoice from Gamberini", "Combien de fois…", "Quante volte…".

One window of sources holds one day's worth of a chat; such a question gets twice
the sources (``AGGREGATE_FACTOR``), packed into the same token budget. Measured on
LoCoMo-dev (150 questions of conversations 26, 30, 41; MiniLM, docs/retrieval.md):
the share of evidence messages among the sources the model reads goes from 0.43 to
0.52 for multi-hop questions and from 0.79 to 0.89 for "when" questions at 8 sources
instead of 4, and stays at 0.80 for single-hop ones. The pattern flags 81 of
LoCoMo-dev's 142 multi-hop questions and 46 of its 418 single-hop ones.
"""

from __future__ import annotations

import re

__all__ = ["AGGREGATE_FACTOR", "asks_for_many"]

AGGREGATE_FACTOR = 2

_MANY = re.compile(
    "|".join(
        (
            # English
            r"\b(?:list|every|all\s+(?:the|of|my)|how\s+many(?:\s+times)?|summari[sz]e|what\s+are\s+some)\b",
            r"\bwhich\s+(?:\w+\s+)?\w+s\b|\bwhat\s+(?:kinds?|types?|sorts?)\s+of\b|\bin\s+what\s+ways\b",
            r"\bwhat\s+are\s+(?:\w+['’]s\s+)?\w+s\b",
            r"\bwhat\s+(?:\w+\s+)?\w+s\s+(?:has|have|did|does|do)\b|\bwhere\s+(?:has|have)\b",
            # French, Italian, German, Spanish
            r"\b(?:liste|tous\s+les|toutes\s+les|combien\s+de\s+fois|résume[rz]?|quels\s+sont|quelles\s+sont)\b",
            r"\b(?:elenca|tutti\s+i|tutte\s+le|quante\s+volte|quanti|quante|riassumi|quali\s+sono)\b",
            r"\b(?:wie\s+oft|wie\s+viele|zusammenfass\w*|welche\s+\w+\s+(?:hat|haben|sind|stehen|gibt))\b",
            r"\b(?:enumera|todos\s+los|todas\s+las|cuántas\s+veces|cuántos|cuántas|resume|cuáles\s+son)\b",
        )
    ),
    re.IGNORECASE,
)


def asks_for_many(question: str) -> bool:
    """Whether the answer is likely spread over many sources."""
    return bool(_MANY.search(question))
