"""Whether the model's reply is a decline, in whatever words it chose.

The prompt asks the model to "say that you could not find it", but models say it
their own way and in the question's language: "The blood type of Sofia is not
mentioned in the provided documents", "Les documents ne mentionnent pas…", "Non ho
trovato…". A decline read as an answer is shown as one and scored as a wrong answer
to an unanswerable question.

Only the reply's first sentence counts: "The invoice is €420 [1]; the documents do
not say when it is due" answers the question. Checked on every reply of the
development-set runs (docs/retrieval.md): no right answer has these words in its first
sentence.
"""

from __future__ import annotations

import re

__all__ = ["is_decline"]

# Where the model says it read: "not provided in the documents" is a decline, "towels
# are not provided" an answer.
_READ = r"(?:documents?|sources?|context|data|messages?|emails?|texts?|information|notes?)"
_DECLINE = re.compile(
    "|".join(
        (
            # English
            r"\b(?:could|can|was\s+unable\s+to|am\s+unable\s+to)\s*(?:not|n't)?\s+(?:find|locate|determine)\b",
            r"\bnot\s+(?:mentioned|stated|specified)\b",
            r"\bnot\s+(?:provided|given|included|available|found|listed)\s+in\s+(?:the\s+|your\s+)?(?:\w+\s+)?" + _READ,
            r"\b(?:does|do|did)\s*(?:not|n't)\s+(?:mention|say|state|specify|contain|provide)\b",
            r"\bno\s+(?:mention|information)\b",
            # French
            r"\bne\s+(?:mentionne|mentionnent|précise|précisent|contien\w*|dit|disent|indique\w*)\s+pas\b",
            r"\bn'(?:ai|avons)\s+pas\s+(?:pu\s+)?trouv\w*|\bpas\s+(?:mentionné|précisé|indiqué)e?s?\b",
            r"\baucune\s+(?:information|mention)\b",
            # Italian
            r"\bnon\s+(?:ho|abbiamo)\s+(?:potuto\s+)?trovat\w*|\bnon\s+(?:è|sono)\s+(?:menzionat|indicat|specificat|riportat)\w*",
            r"\bnon\s+(?:menziona|menzionano|specifica|specificano|contiene|contengono|dice|dicono)\b",
            r"\bnessuna\s+(?:informazione|menzione)\b",
            # German
            r"\b(?:habe|konnte|haben|konnten)\b[^.]{0,60}\bnicht\s+(?:gefunden|finden)\b",
            r"\bnicht\s+(?:erwähnt|angegeben|genannt)\b",
            r"\bkeine\s+(?:Informationen?|Angaben|Erwähnung)\b",
            # Spanish
            r"\bno\s+(?:he|hemos|pude|pudimos)\s+(?:podido\s+)?encontr\w*|\bno\s+encontr(?:é|amos)\b",
            r"\bno\s+se\s+(?:menciona|indica|especifica)\b",
            r"\bno\s+(?:mencionan?|especifican?|contienen?)\b",
            r"\bninguna\s+(?:información|mención)\b",
        )
    ),
    re.IGNORECASE,
)
_FIRST_SENTENCE = re.compile(r"^.*?(?:[.!?](?=\s|$)|\n|$)", re.DOTALL)


def is_decline(reply: str) -> bool:
    """Whether ``reply`` says, in its first sentence, that the answer is not there."""
    match = _FIRST_SENTENCE.match(reply.strip())
    return bool(_DECLINE.search(match.group(0) if match else reply))
