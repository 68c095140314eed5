"""What an MCP client may see: the restrictions of `satchel mcp`.

A person runs the server for an AI client whose model sees every result, so they
can narrow what it sees: some sources (``--source``), some kinds (``--kind``), and
never a person (``--exclude-person``) or a folder (``--exclude-folder``).

The restrictions are enforced inside retrieval, not on the results afterwards:
:class:`ScopedFilters` adds them to the SQL that every retriever (BM25, the dense
allowed-id set, the answerer's retrieval) runs, so a restricted search still fills
its page, and filters a client asks for (or that are read from its words) can only
narrow the scope, never widen it. Documents are checked again before they are
returned (:meth:`ScopeGuard.visible`), so a mistake in one place is not a leak.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.backends.protocols import ChatModel, Embedder
from assistant.core import Satchel
from assistant.errors import SatchelError, SourceError
from assistant.retrieval.search_types import Filters
from assistant.settings import Settings
from assistant.store import scoping
from connectors.kinds import KINDS


@dataclass(frozen=True)
class Scope:
    """The restrictions as the person gave them. Empty means no restriction."""

    kinds: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # registered source ids or paths
    exclude_persons: tuple[str, ...] = ()  # names or addresses, matched as `forget --person` does
    exclude_folders: tuple[str, ...] = ()  # absolute paths: a folder and all under it, or one file

    @property
    def restricted(self) -> bool:
        return bool(self.kinds or self.sources or self.exclude_persons or self.exclude_folders)

    def summary(self) -> dict[str, Any]:
        """What a client is told about its view. Excluded names and folders are
        counted, never named: naming them would tell the client what was hidden."""
        return {
            "restricted": self.restricted,
            "kinds": list(self.kinds) or None,
            "sources": list(self.sources) or None,
            "excluded_persons": len(self.exclude_persons),
            "excluded_folders": len(self.exclude_folders),
        }


@dataclass
class ScopedFilters(Filters):
    """Filters with the server's scope, which :meth:`sql` always ANDs in.

    The scope lives in fields of its own, so merging filters read from a query's
    words (which unites kinds) cannot widen it. ``None`` means unrestricted; an
    empty list means nothing is allowed.
    """

    scope_kinds: list[str] | None = None
    scope_sources: list[int] | None = None
    scope_excluded: list[int] = field(default_factory=list)  # document ids

    def is_empty(self) -> bool:
        return (
            super().is_empty() and self.scope_kinds is None and self.scope_sources is None and not self.scope_excluded
        )

    def sql(self) -> tuple[str, list[Any]]:
        where, params = super().sql()
        clauses, params = [where], list(params)
        for column, allowed in (("c.kind", self.scope_kinds), ("c.source_id", self.scope_sources)):
            if allowed is None:
                continue
            if not allowed:
                clauses.append("0")
                continue
            clauses.append(f"{column} IN ({','.join('?' * len(allowed))})")
            params += allowed
        if self.scope_excluded:
            # one parameter whatever the count: SQLite caps the number of parameters
            clauses.append("c.document_id NOT IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(self.scope_excluded))
        return " AND ".join(clauses), params


class ScopeGuard:
    """The scope bound to a store: source refs resolved to ids, persons and
    folders to the documents they exclude (recomputed whenever the store changed)."""

    def __init__(self, app: Satchel, scope: Scope) -> None:
        self.app = app
        self.scope = scope
        self._lock = threading.Lock()
        self._cache_key: tuple[int, int] | None = None
        self._excluded: list[int] = []
        self._matchers = [_matcher(p) for p in scope.exclude_persons]

    def check(self) -> None:
        """Fail at start-up, with a message, on restrictions that cannot mean what
        the person wanted (a source that is not registered, an unknown kind)."""
        # a third-party connector may bring a kind of its own, once it indexed some
        known = set(KINDS) | self.app.store.document_kinds()
        unknown = [k for k in self.scope.kinds if k not in known]
        if unknown:
            raise SatchelError(f"--kind {unknown[0]}: not a kind; use one of {', '.join(sorted(known))}")
        for ref in self.scope.sources:
            if self.app.store.find_source(ref) is None:
                raise SourceError(f"--source {ref}: not a registered source (see `satchel sources`)")

    def source_ids(self) -> list[int] | None:
        """The allowed sources now (a source removed since start-up allows nothing)."""
        if not self.scope.sources:
            return None
        ids = []
        for ref in self.scope.sources:
            row = self.app.store.find_source(ref)
            if row is not None:
                ids.append(int(row["id"]))
        return ids

    def excluded_documents(self) -> list[int]:
        """Documents of an excluded person or folder, with their attachments."""
        if not (self.scope.exclude_persons or self.scope.exclude_folders):
            return []
        store = self.app.store
        # data_version moves whenever another connection (the indexer, `watch`, this
        # server's writer) commits; a generation alone misses a file moved into an
        # excluded folder without new vectors
        key = (id(store.conn), scoping.data_version(store.conn))
        with self._lock:
            if key == self._cache_key:
                return self._excluded
            from assistant.ops.forget import person_documents

            found: set[int] = set()
            for person in self.scope.exclude_persons:
                found |= person_documents(store, person)[0]
            for folder in self.scope.exclude_folders:
                found.update(scoping.folder_documents(store.conn, folder))
            found |= scoping.attachments(store.conn, found)
            self._excluded, self._cache_key = sorted(found), key
            return self._excluded

    def apply(self, filters: Filters | None) -> Filters:
        """``filters`` narrowed to the scope (unchanged when nothing is restricted)."""
        filters = filters or Filters()
        if not self.scope.restricted:
            return filters
        values = {f.name: getattr(filters, f.name) for f in dataclasses.fields(Filters)}
        return ScopedFilters(
            **values,
            scope_kinds=list(self.scope.kinds) if self.scope.kinds else None,
            scope_sources=self.source_ids(),
            scope_excluded=self.excluded_documents(),
        )

    def visible(self, document_ids: Iterable[int]) -> set[int]:
        """Which of these documents the client may see."""
        ids = sorted({int(i) for i in document_ids})
        if not ids:
            return set()
        rows = scoping.scope_rows(self.app.store.conn, ids)
        if not self.scope.restricted:
            return {int(r["id"]) for r in rows}
        sources = self.source_ids()
        excluded = set(self.excluded_documents())
        return {
            int(r["id"])
            for r in rows
            if (not self.scope.kinds or r["kind"] in self.scope.kinds)
            and (sources is None or int(r["source_id"]) in sources)
            and int(r["id"]) not in excluded
        }

    def hides_person(self, name: str) -> bool:
        return any(matches(name) for matches in self._matchers)


def _matcher(person: str) -> Any:
    from assistant.ops.forget import person_matcher

    return person_matcher(person)


class ScopedSatchel(Satchel):
    """The core facade with the scope applied wherever filters are made.

    The core reads filters from a query's words ("emails from Anna") and merges them
    into new filters, in :meth:`search` and inside the answerer; scoping the result
    of :meth:`interpret` keeps the scope on both paths without changing the core.
    """

    def __init__(
        self, settings: Settings, scope: Scope, *, embedder: Embedder | None = None, chat_model: ChatModel | None = None
    ) -> None:
        super().__init__(settings, embedder=embedder, chat_model=chat_model)
        self.guard = ScopeGuard(self, scope)

    def interpret(self, query: str, filters: Filters) -> tuple[str, Filters, list[str]]:
        searched, merged, applied = super().interpret(query, filters)
        return searched, self.guard.apply(merged), applied

    def known_persons(self) -> tuple[str, ...]:
        # an excluded person's full name would otherwise come back in the filters
        # read from a query ("emails from Helena" -> "person: Helena Duarte")
        persons = super().known_persons()
        if not self.guard.scope.exclude_persons:
            return persons
        return tuple(p for p in persons if not self.guard.hides_person(p))


def resolve_folder(path: str) -> str:
    """An excluded folder as the store records paths: absolute, symbolic links resolved."""
    try:
        return str(Path(path).expanduser().resolve())
    except RuntimeError:  # a symbolic link loop
        raise SourceError(f"--exclude-folder {path}: a symbolic link loop") from None
