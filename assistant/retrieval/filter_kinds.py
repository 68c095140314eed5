"""Kinds of source named in a question ("emails", "my WhatsApp chats", "PDFs")."""

from __future__ import annotations

import re

from assistant.language.stop_words import STOP_WORDS
from assistant.retrieval.filter_words import FLAGS, Spans, last_word, next_word, skip_space

# --------------------------------------------------------------------------- kinds

_PLATFORMS = frozenset("whatsapp telegram signal slack discord messenger instagram".split())
_KIND_OF = {
    **dict.fromkeys("email emails mail mails inbox inboxes mailbox mailboxes".split(), "email"),
    **dict.fromkeys("chat chats groupchat groupchats dm dms".split(), "chat"),
    **dict.fromkeys(_PLATFORMS, "chat"),
    **dict.fromkeys("pdf pdfs document documents docs file files".split(), "file"),
    **dict.fromkeys("note notes".split(), "note"),
}
_COLLECTIONS = (
    frozenset(
        "emails mails inbox inboxes mailbox mailboxes chats groupchats dms pdfs documents docs files notes".split()
    )
    | _PLATFORMS
)
KIND_WORD = re.compile(
    r"(?<![\w@./:-])(?:group\s*chats?|e-?mails?|mails?|inbox(?:es)?|mailbox(?:es)?|chats?|dms?|whats\s?app|"
    r"telegram|signal|slack|discord|messenger|instagram|pdfs?|documents?|docs|files?|notes?)(?![\w@-])",
    FLAGS,
)
# nouns that may follow an email/chat word and belong to the same filter ("email thread")
_HEAD = re.compile(
    r"\s+(?:groups?(?:\s+chats?)?|threads?|conversations?|chains?|exchanges?|messages?|correspondence|chats?|dms?)"
    r"(?![\w-])",
    FLAGS,
)
_PREFIX_DETS = (
    r"(?:(?:my|the|our|your|his|her|their|these|those|this|that|a|an|any|some|all|recent|latest|old|older|last"
    r"|previous|new|unread|shared|[^\W\d_]+['’]s)\s+){0,2}"
)
_BEFORE_PREFIX = re.compile(
    rf"\b(?:in|from|among|across|within|through|of|via|over|by|on|using|per|search|searched|check|checked)\s+{_PREFIX_DETS}$",
    FLAGS,
)
_BEFORE_DET = re.compile(
    r"\b(?:my|our|his|her|their|all|any|these|those|recent|latest|new|unread|[^\W\d_]+['’]s)\s+$", FLAGS
)
_AT_START = re.compile(
    r"^\s*(?:(?:show|list|find|get|search|give|me|all|any|my|the|recent|latest|new|unread|some|are|there|were|"
    r"is|which|what)\s+)*$",
    FLAGS,
)
_FOLLOW_OK = STOP_WORDS | frozenset(
    (
        "sent received mentioning regarding re concerning containing last yesterday today since until till where "
        "which who ever recently lately mention mentioned mentions say said says talk talked discuss discussed "
        "contain contains"
    ).split()
)
CONFIRM_KIND = frozenset(
    (
        "about from by to with regarding re concerning mentioning between on in since before after during sent "
        "received where which who last this yesterday today until till containing mention mentioned mentions say "
        "said says talk talked talking discuss discussed discussing contain contains i we you he she they did do "
        "does have has had were are was is that"
    ).split()
)
# a singular kind word after these is a verb ("I need to file", "did I note")
_VERB_BEFORE = frozenset(
    "to will would should must can could please i we you they he she didn't don't did do does doesn't let's lets "
    "not never also just shall".split()
)
# ...and before these ("file a claim", "note that", "email the plumber")
_VERB_OBJECTS = frozenset(
    "a an the that this these those it them him her me us my your our their his down how for".split()
)


def extract_kinds(q: str, spans: Spans) -> list[str]:
    kinds: list[str] = []
    for m in KIND_WORD.finditer(q):
        start, end = m.span()
        if not spans.free(start, end):
            continue
        word = re.sub(r"[\s-]", "", m.group().lower())
        platform, collection = word in _PLATFORMS, word in _COLLECTIONS
        kind = _KIND_OF[word]
        # what follows must fit a filter: nothing, a filter phrase, a function word, "thread"
        nxt = skip_space(q, end)
        follow = next_word(q, nxt)
        head = _HEAD.match(q, end) if kind in ("email", "chat") else None
        if head:
            end, follow_ok = head.end(), True
        else:
            follow_ok = nxt >= len(q) or not follow or spans.starts_at(nxt) or follow in _FOLLOW_OK
        if not follow_ok:
            continue
        pre = q[:start]
        phrase: tuple[int, int] | None = None
        prefix = _BEFORE_PREFIX.search(pre)
        det = _BEFORE_DET.search(pre)
        if prefix:
            phrase = (prefix.start(), end)
        elif collection and det:
            phrase = (det.start(), end)
        elif end > m.end() and (platform or word in ("email", "mail", "chat", "dm", "groupchat")):
            phrase = (start, end)  # "WhatsApp messages", "email thread"
        elif not platform:
            singular = not collection
            if singular and (last_word(pre) in _VERB_BEFORE or follow in _VERB_OBJECTS):
                continue
            confirmed = follow in CONFIRM_KIND or spans.starts_at(nxt) or (collection and not follow)
            if confirmed or _AT_START.match(pre):
                phrase = (start, end)
        if phrase is None:
            continue
        spans.take(*phrase)
        if kind not in kinds:
            kinds.append(kind)
    return kinds
