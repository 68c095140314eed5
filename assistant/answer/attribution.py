"""Who said it: an answer about one person in a chat must rest on that person's words.

In a chat a first-person line belongs to its sender. "What did Caroline realise
after her charity race?" answered from Melanie's line "I'm starting to realise
that self-care is important" gives Caroline what Melanie said. This is the most
common false premise in long two-person chats (LoCoMo-dev: in 175 of its 237
adversarial questions the line that holds the answer was sent by the other person,
against 21 of 677 answerable questions), and neither the relevance gate nor the
fact check can see it: every word of the answer is in the source.

The check finds the chat line that holds the answer (the most of the answer's own
words that the question does not already say) among the cited chunks. When that
line was sent by someone else than the one person the question names, and no line
of that person holds as much, the answer rests on someone else's words.
Chats only: an email's sender writes about others as often as about themself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Misattribution", "chat_lines", "misattribution"]

# A chat chunk's lines, as assistant/ingest/chunking.py writes them: "2023-05-08 13:58 Caroline: text"
_CHAT_LINE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2} ([^:\n]{1,80}?): (.+)$", re.MULTILINE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# A line must share this many of the answer's own words to count as where it was read.
# Chosen on LoCoMo-dev (scripts/tune_attribution.py, docs/retrieval.md): at 1, 57 % of
# the adversarial questions of three conversations are caught for 6.0 % of answerable
# ones withdrawn (the two others, not looked at while choosing: 47 % for 4.5 %); at 2,
# 46 % for 2.3 % (36 % for 2.7 %). A wrongly withdrawn answer is right only some of the
# time anyway, and the decline names the line and its sender, so 1 is kept.
MIN_SHARED_WORDS = 1


# "Yes, Melanie made the bowl": a reply word places nothing (the other person's "yes"
# in a line about something else withdrew a right answer on LoCoMo-dev)
_REPLY_WORDS = frozenset("yes yeah yep nope oui sì si ja nein sí".split())


@dataclass(frozen=True)
class Misattribution:
    """The question asks about ``asked``; the answer is in ``speaker``'s line."""

    asked: str
    speaker: str
    line: str
    source: int


def chat_lines(text: str) -> list[tuple[str, str]]:
    """(sender, text) of each message line of a chat chunk."""
    return [(m.group(1).strip(), m.group(2).strip()) for m in _CHAT_LINE.finditer(text)]


def _forms(text: str, language: str) -> set[str]:
    from assistant.language.keywords import search_form
    from assistant.language.stop_words import STOP_WORDS

    words = [w for w in _WORD.findall(text.lower()) if w not in STOP_WORDS and w not in _REPLY_WORDS and len(w) > 1]
    return set(search_form(" ".join(words), language).split())


def _first_names(person: str) -> set[str]:
    from assistant.language.keywords import fold

    return {fold(word) for word in _WORD.findall(person.split("<")[0]) if len(word) > 1}


def misattribution(
    question: str, answer: str, names: Iterable[str], sources: Iterable[tuple[int, str]], language: str = "en"
) -> Misattribution | None:
    """Whether ``answer`` rests on a chat line of someone other than the one person
    among ``names`` (the question's names) who takes part in the cited chats.

    ``sources`` are the cited chunks as (number, text); ``language`` stems the words."""
    from assistant.language.keywords import fold

    lines = [(n, sender, text) for n, chunk in sources for sender, text in chat_lines(chunk)]
    if not lines:
        return None
    senders = {sender for _, sender, _ in lines}
    asked_names = {fold(name) for name in names}
    asked = [sender for sender in senders if _first_names(sender) & asked_names]
    if len(asked) != 1:
        return None  # nobody, or two of the chat's people: "what did Tim suggest to John"
    person = asked[0]
    question_words = _forms(question, language)
    own_words = _forms(answer, language) - question_words
    if len(own_words) < MIN_SHARED_WORDS:
        return None  # "Yes." or a restated question: nothing to place
    best_other: tuple[int, int, str, str] | None = None
    best_asked = 0
    for n, sender, text in lines:
        shared = len(own_words & _forms(text, language))
        if sender == person:
            best_asked = max(best_asked, shared)
        elif best_other is None or shared > best_other[0]:
            best_other = (shared, n, sender, text)
    if best_other is None or best_other[0] < MIN_SHARED_WORDS or best_other[0] <= best_asked:
        return None
    shared, n, sender, text = best_other
    return Misattribution(asked=person, speaker=sender, line=text, source=n)
