"""Tombstones: what `satchel forget` erased stays out of later syncs.

Forgetting a person or a document deletes Satchel's copy, but the mbox or chat export
it came from is usually still registered; the next nightly reindex would bring it
back. The store keeps SHA-256 digests of what was forgotten (a person's name or
address as whole words, a message's Message-ID, a document's unit path and key) and
the indexer skips every new document that matches one. Digests, so the store does not
keep the forgotten name itself.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from assistant.store.repository import Store
from connectors.base import Document

# words and whole e-mail addresses, as `forget --person` matches them
_TOKEN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\w+", re.UNICODE)
# longest name (in words) a person tombstone can hold
_MAX_NAME_WORDS = 6


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def name_tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


def person_digest(name: str) -> str:
    return _digest("person", " ".join(name_tokens(name)))


def document_digests(unit_path: str, key: str, dedup_key: str | None) -> list[str]:
    digests = [_digest("document", unit_path, key)]
    if dedup_key:  # the same message in another export
        digests.append(_digest("message", dedup_key))
    return digests


def _person_digests(value: str) -> Iterable[str]:
    """Digests of every run of whole words in a person string ("Marco Bianchi
    <marco@example.org>" yields "marco", "marco bianchi", "marco@example.org", ...)."""
    tokens = name_tokens(value)
    for start in range(len(tokens)):
        for end in range(start + 1, min(len(tokens), start + _MAX_NAME_WORDS) + 1):
            yield _digest("person", " ".join(tokens[start:end]))


@dataclass
class Tombstones:
    persons: set[str] = field(default_factory=set)
    documents: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, store: Store) -> Tombstones:
        stored = store.tombstones()
        return cls(stored["person"], stored["document"])

    def __bool__(self) -> bool:
        return bool(self.persons or self.documents)

    def forbid(self, doc: Document, unit_path: str) -> bool:
        """Whether ``doc`` (from the unit at ``unit_path``) was forgotten."""
        if self.documents and any(d in self.documents for d in document_digests(unit_path, doc.key, doc.dedup_key)):
            return True
        if self.persons:
            people = [doc.author or "", *doc.participants]
            if doc.kind == "chat":  # a chat named after the person is with them
                people.append(doc.title or "")
            return any(d in self.persons for value in people if value for d in _person_digests(value))
        return False
