"""Message-IDs, subjects without their Re:/Fwd: prefixes, and the threads they make."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from email.message import Message

from connectors.email.headers import header_text, parse_date, raw_header

# ---------------------------------------------------------------- ids and threads


def normalize_message_id(value: str | None) -> str | None:
    """``<ABC@Example.com>`` → ``abc@example.com``; None when there is no id."""
    if not value:
        return None
    value = value.strip()
    match = re.search(r"<([^<>]+)>", value)
    ident = match.group(1) if match else value.split()[0] if value.split() else ""
    ident = re.sub(r"\s+", "", ident).strip("<>").lower()
    return ident or None


def parse_id_list(value: str | None) -> list[str]:
    """Message-IDs in a References / In-Reply-To header, in order, de-duplicated."""
    if not value:
        return []
    ids = re.findall(r"<([^<>]+)>", value)
    if not ids:
        ids = [w for w in value.split() if "@" in w]
    seen: list[str] = []
    for ident in ids:
        norm = normalize_message_id(ident)
        # An id without "@" is junk (git-send-email once wrote "References: <yes>"),
        # and one junk id shared by many messages would merge unrelated threads.
        if norm and "@" in norm and norm not in seen:
            seen.append(norm)
    return seen


_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|sv|vs|wg|antw|antwort|odp|tr|rif|r|ref|res|enc|doorst|"
    r"vl|vb|ynt|atb|fs|trs)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*|\[[^\]]{1,60}\]\s*)",
    re.IGNORECASE,
)


def normalize_subject(subject: str) -> tuple[str, bool]:
    """Subject without reply/forward prefixes and list tags, lowercased; and whether
    any reply/forward prefix was removed."""
    text = subject or ""
    had_prefix = False
    while True:
        match = _SUBJECT_PREFIX.match(text)
        if not match:
            break
        if not match.group(0).lstrip().startswith("["):
            had_prefix = True
        text = text[match.end() :]
    return re.sub(r"\s+", " ", text).strip().lower(), had_prefix


@dataclass
class ThreadFields:
    """What threading needs from a message's headers."""

    message_id: str | None
    references: list[str]
    in_reply_to: str | None
    subject: str
    date: str | None

    @classmethod
    def of(cls, msg: Message) -> ThreadFields:
        refs = parse_id_list(raw_header(msg, "References"))
        irt_list = parse_id_list(raw_header(msg, "In-Reply-To"))
        return cls(
            message_id=normalize_message_id(raw_header(msg, "Message-ID")),
            references=refs,
            in_reply_to=irt_list[-1] if irt_list else None,
            subject=header_text(msg, "Subject"),
            date=raw_header(msg, "Date"),
        )


@dataclass
class _Member:
    node: str
    fields: ThreadFields
    order: int
    subject_joined: bool = False


class ThreadIndex:
    """Conversations within one unit (an mbox, a Maildir, a single file).

    Messages are linked through Message-ID, In-Reply-To and every References entry
    (union-find), so a broken or reordered References header still lands in the right
    thread; a reply with no such headers ("Re: subject") joins the thread of an
    earlier message with the same normalised subject. A thread's id is the
    Message-ID of its root: the earliest message without parents when the unit has
    it, else the ancestor its members reference most (a root outside the unit), so
    the same conversation gets the same id from two exports.
    """

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}
        self._members: list[_Member] = []
        self._thread: dict[str, str | None] = {}
        self._finished = False

    def _find(self, item: str) -> str:
        parent = self._parent.setdefault(item, item)
        root = item
        while parent != root:
            root = parent
            parent = self._parent[root]
        while item != root:  # path compression
            item, self._parent[item] = self._parent[item], root
        return root

    def _union(self, a: str, b: str) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)

    def add(self, node: str, fields: ThreadFields) -> None:
        """Register a message under ``node``, a key unique within the unit."""
        node = "\x00" + node  # never equal to a Message-ID
        self._members.append(_Member(node, fields, len(self._members)))
        self._find(node)
        for ident in [fields.message_id, *fields.references, fields.in_reply_to]:
            if ident:
                self._union(node, ident)

    def finish(self) -> None:
        by_subject: dict[str, _Member] = {}
        for member in self._members:
            norm, _ = normalize_subject(member.fields.subject)
            if norm and norm not in by_subject:
                by_subject[norm] = member
        for member in self._members:
            f = member.fields
            if f.references or f.in_reply_to:
                continue
            norm, had_prefix = normalize_subject(f.subject)
            first = by_subject.get(norm) if norm and had_prefix else None
            if first is not None and first is not member:
                self._union(member.node, first.node)
                member.subject_joined = True
        components: dict[str, list[_Member]] = {}
        for member in self._members:
            components.setdefault(self._find(member.node), []).append(member)
        for members in components.values():
            thread_id = _thread_root(members)
            for member in members:
                self._thread[member.node] = thread_id
        self._finished = True

    def thread_id(self, node: str) -> str | None:
        if not self._finished:
            self.finish()
        return self._thread.get("\x00" + node)


def _thread_root(members: list[_Member]) -> str | None:
    roots = [
        m
        for m in members
        if m.fields.message_id and not m.fields.references and not m.fields.in_reply_to and not m.subject_joined
    ]
    if roots:

        def order(m: _Member) -> tuple[float, int]:
            moment = parse_date(m.fields.date)
            return (moment.timestamp() if moment else float("inf"), m.order)

        return min(roots, key=order).fields.message_id
    votes: Counter[str] = Counter()
    for m in members:
        vote = m.fields.references[0] if m.fields.references else m.fields.in_reply_to
        if vote:
            votes[vote] += 1
    if votes:
        best = max(votes.values())
        return min(v for v, n in votes.items() if n == best)
    ids = sorted(m.fields.message_id for m in members if m.fields.message_id)
    return ids[0] if ids else None
