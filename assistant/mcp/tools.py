"""What the MCP tools do, on top of the core facade; the SDK wiring is in server.py.

One :class:`SatchelTools` lives as long as the server, so the store connection, the
embedder, the FAISS index and (after the first `ask`) the language model stay loaded
between calls. Reads share one lock, answers another, so a search is not held up
while the local model writes an answer; writes go through a second core (its own
store connection, the same embedder), as in the TUI, and take the writer lock only
while they run, never while the server merely serves reads.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.core import Satchel
from assistant.errors import SatchelError
from assistant.mcp.schemas import (
    AnswerResponse,
    AnswerSource,
    DocumentPage,
    LocatorAt,
    SearchHit,
    SearchResponse,
    SourceInfo,
    SourcesResponse,
)
from assistant.mcp.scope import ScopedFilters, ScopedSatchel
from assistant.retrieval.search_types import Filters, Result, parse_date
from assistant.store import scoping

log = logging.getLogger("satchel.mcp")

DEFAULT_PAGE_CHARS = 8000
MAX_PAGE_CHARS = 50_000
MAX_RESULTS = 50
_REFERENCE = re.compile(r"^(?:doc:)?(\d+)$")
_PAGE = re.compile(r"^page (\d+)$")


class ToolInputError(SatchelError):
    """A call the client's model can correct: an unknown reference, a bad date."""


def reference(document_id: int) -> str:
    return f"doc:{document_id}"


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    """Models often send one string where a list is asked for; both are fine."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [v for v in value if v and v.strip()]


class SatchelTools:
    def __init__(self, app: ScopedSatchel, *, allow_writes: bool = False) -> None:
        self.app = app
        self.guard = app.guard
        self.allow_writes = allow_writes
        self._read = threading.Lock()
        self._answer = threading.Lock()
        self._write = threading.Lock()
        self._writer: Satchel | None = None

    # --- warm-up ---------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load the embedder and the index before the first call needs them."""
        with self._read:
            self.app.searcher()
            self.app.serving_embedder.encode_query("warm up")
            self.app.known_persons()
            self.guard.excluded_documents()

    # --- filters -----------------------------------------------------------------------
    def _filters(
        self,
        kind: str | Sequence[str] | None,
        person: str | Sequence[str] | None,
        after: str | None,
        before: str | None,
        source: str | Sequence[str] | None,
    ) -> Filters:
        """The filters a client gave, as the CLI reads its flags, narrowed to the scope."""
        sources: list[int] = []
        for ref in _as_list(source):
            row = self.app.store.find_source(ref)
            if row is None:
                raise ToolInputError(f"source {ref!r}: not a registered source (list_sources shows them)")
            sources.append(int(row["id"]))
        try:
            after_at = parse_date(after) if after else None
            before_at = parse_date(before) if before else None
        except ValueError as exc:
            raise ToolInputError(f"{exc}; dates are YYYY, YYYY-MM or YYYY-MM-DD") from exc
        filters = Filters(
            kinds=[k.strip().lower() for k in _as_list(kind)],
            sources=sources,
            persons=_as_list(person),
            after=after_at,
            before=before_at,
        )
        return self.guard.apply(filters)

    # --- results -----------------------------------------------------------------------
    def _documents(self, ids: Sequence[int]) -> dict[int, Any]:
        ids = sorted(set(ids))
        if not ids:
            return {}
        rows = scoping.passage_rows(self.app.store.conn, ids)
        return {int(r["id"]): r for r in rows}

    def _passage(self, result: Result, row: Any) -> dict[str, Any]:
        metadata = json.loads(row["metadata"] or "{}") if row is not None else {}
        message_id = None
        if result.kind == "email":
            message_id = metadata.get("message_id") or metadata.get("parent_message_id")
        page = _PAGE.match(result.locator or "")
        return {
            "reference": reference(result.document_id),
            "kind": result.kind,
            "title": result.title or Path(result.source).name,
            "author": result.author,
            "time": result.timestamp,
            "locator": result.locator or "",
            "message_id": message_id,
            "page": int(page.group(1)) if page else None,
            "time_range": result.locator if result.kind == "chat" else None,
            "source": result.source,
            "snippet": result.snippet,
        }

    def _visible_results(self, results: list[Result]) -> list[Result]:
        """The results once more against the scope. Retrieval already applied it;
        a result outside it here is a bug, withheld and logged, never returned."""
        if not self.guard.scope.restricted:
            return results
        visible = self.guard.visible(r.document_id for r in results)
        kept = [r for r in results if r.document_id in visible]
        if len(kept) != len(results):
            log.error("withheld %d results outside the server's scope", len(results) - len(kept))
        return kept

    # --- read tools ----------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        kind: str | Sequence[str] | None = None,
        person: str | Sequence[str] | None = None,
        after: str | None = None,
        before: str | None = None,
        source: str | Sequence[str] | None = None,
        k: int = 10,
        read_filters: bool = True,
        include_text: bool = False,
    ) -> SearchResponse:
        if not query.strip():
            raise ToolInputError("the query is empty: say what to look for")
        k = max(1, min(int(k), MAX_RESULTS))
        with self._read:
            filters = self._filters(kind, person, after, before, source)
            outcome = self.app.search(query, filters, k, auto_filters=read_filters)
            results = self._visible_results(outcome.results)
            rows = self._documents([r.document_id for r in results])
        hits = [
            SearchHit(
                **self._passage(r, rows.get(r.document_id)),
                score=round(r.score, 6),
                text=r.text if include_text else None,
            )
            for r in results
        ]
        return SearchResponse(
            query=query, searched=outcome.searched or query, applied_filters=list(outcome.applied), results=hits
        )

    def resolve(self, ref: str) -> int:
        """A document id from a reference (doc:123), a bare id or an email's Message-ID;
        a document outside the scope is reported as missing, not as hidden."""
        text = ref.strip()
        match = _REFERENCE.match(text)
        store = self.app.store
        candidates: list[int] = []
        if match:
            candidates = [int(match.group(1))]
        elif "@" in text:
            message_id = text.removeprefix("message ").strip().strip("<>")
            candidates = scoping.message_documents(store.conn, message_id)
        else:
            raise ToolInputError(
                f"{ref!r} is not a reference: pass the 'reference' of a search result (like doc:123) "
                "or an email's Message-ID"
            )
        visible = self.guard.visible(candidates)
        for candidate in candidates:
            if candidate in visible:
                return candidate
        raise ToolInputError(f"{ref}: no such document (search again for a current reference)")

    def fetch_document(
        self, ref: str, *, offset: int = 0, max_chars: int = DEFAULT_PAGE_CHARS, locator: str | None = None
    ) -> DocumentPage:
        max_chars = max(200, min(int(max_chars), MAX_PAGE_CHARS))
        with self._read:
            document_id = self.resolve(ref)
            doc = self.app.document(document_id)
            if doc is None:  # deleted between the two reads
                raise ToolInputError(f"{ref}: no such document (search again for a current reference)")
            children = self.app.store.child_documents(document_id)
            children = sorted(self.guard.visible(children))
        chunks = doc["chunks"]
        text = doc.get("text") or "\n\n".join(c["text"] for c in chunks)
        starts = chunk_starts(text, chunks)
        if locator:
            wanted = locator.strip().strip("<>").lower()
            found = [at for loc, at in starts if loc.lower() == wanted or wanted in loc.lower()]
            if not found:
                known = list(dict.fromkeys(loc for loc, _ in starts))
                raise ToolInputError(f"no locator {locator!r} in {ref}; it has: {', '.join(known[:30]) or 'none'}")
            offset = found[0]
        if offset < 0 or (offset > len(text) and text):
            raise ToolInputError(f"offset {offset} is outside the document (0 to {len(text)})")
        end = page_end(text, offset, max_chars)
        metadata = doc.get("metadata") or {}
        parent = doc.get("parent_id")
        return DocumentPage(
            reference=reference(document_id),
            kind=doc["kind"],
            title=doc.get("title") or Path(doc["source"]).name,
            author=doc.get("author"),
            time=doc.get("timestamp"),
            participants=[str(p) for p in doc.get("participants") or []],
            message_id=metadata.get("message_id") if doc["kind"] == "email" else None,
            source=doc["source"],
            metadata=metadata,
            parent_reference=reference(parent) if parent and self.guard.visible([parent]) else None,
            attachments=[reference(c) for c in children],
            text=text[offset:end],
            offset=offset,
            next_offset=end if end < len(text) else None,
            total_chars=len(text),
            locators=_locators_between(starts, offset, end),
        )

    def ask(
        self,
        question: str,
        *,
        kind: str | Sequence[str] | None = None,
        person: str | Sequence[str] | None = None,
        after: str | None = None,
        before: str | None = None,
        source: str | Sequence[str] | None = None,
        read_filters: bool = True,
    ) -> AnswerResponse:
        if not question.strip():
            raise ToolInputError("the question is empty")
        with self._answer:
            filters = self._filters(kind, person, after, before, source)
            # save=False: a read-only server leaves the person's conversation history alone
            answer = self.app.ask(question, filters, save=False, auto_filters=read_filters, origin="mcp")
            used = [s.result for s in answer.sources]
            if self.guard.scope.restricted and len(self._visible_results(used)) != len(used):
                raise SatchelError("the answer drew on a document outside this server's scope and was withheld")
            rows = self._documents([r.document_id for r in used])
        return AnswerResponse(
            question=question,
            answer=answer.answer,
            answered=answer.answered,
            sources=[
                AnswerSource(**self._passage(s.result, rows.get(s.result.document_id)), n=s.n, cited=s.cited)
                for s in answer.sources
            ],
            applied_filters=list(answer.applied_filters),
            model=answer.stats.model if answer.stats else None,
        )

    def _visible_counts(self) -> tuple[dict[int, int], int]:
        """Documents per source and chunks that this server may show."""
        scoped = self.guard.apply(None)
        if isinstance(scoped, ScopedFilters):
            where, params = scoped.sql()
            return scoping.visible_counts(self.app.store.conn, where, params)
        return scoping.visible_counts(self.app.store.conn, None, ())

    def list_sources(self) -> SourcesResponse:
        with self._read:
            allowed = self.guard.source_ids()
            documents, _ = self._visible_counts()
            sources = [s for s in self.app.sources() if allowed is None or int(s["id"]) in allowed]
        return SourcesResponse(
            sources=[
                SourceInfo(
                    id=int(s["id"]),
                    path=s["path"],
                    connector=s["connector"],
                    documents=documents.get(int(s["id"]), 0),
                    last_sync=s["last_sync"],
                )
                for s in sources
            ]
        )

    def status(self) -> dict[str, Any]:
        with self._read:
            status = self.app.status()
            allowed = self.guard.source_ids()
            documents, chunks = self._visible_counts()
            sources = [s for s in status["sources"] if allowed is None or int(s["id"]) in allowed]
            errors = sum(int(s["errors"]) for s in sources)
            generation = self.app.store.generation()
        return {
            "documents": sum(documents.get(int(s["id"]), 0) for s in sources),
            "chunks": chunks,
            "sources": len(sources),
            "errors": errors,
            "embedding_model": status["embedding_model"],
            "answer_model": status["llm_model"],
            "store_generation": generation,
            "reembedding": status["reembed"] is not None,
            "writes_allowed": self.allow_writes,
            "scope": self.guard.scope.summary(),
            "home": status["home"],
        }

    # --- write tools (only with --allow-writes) -------------------------------------------
    def writer(self) -> Satchel:
        """A second core for writes, sharing the loaded embedding model (as the TUI does)."""
        if self._writer is None:
            writer = Satchel(self.app.settings)
            writer._embedder = self.app.embedder
            writer._serving = self.app._serving
            self._writer = writer
        return self._writer

    def _require_writes(self) -> None:
        if not self.allow_writes:  # the tools are not even listed; this is a second lock
            raise SatchelError("this server is read-only; start it with --allow-writes to change the store")

    def add_source(self, path: str, *, kind: str | None = None, index: bool = True) -> dict[str, Any]:
        self._require_writes()
        scope = self.guard.scope
        if scope.sources:
            raise ToolInputError(
                "this server only sees some sources (--source), so a new one would stay invisible; "
                "add it with `satchel add`"
            )
        resolved = str(Path(path).expanduser().resolve())
        for folder in scope.exclude_folders:
            if resolved == folder or resolved.startswith(folder.rstrip("/") + "/"):
                raise ToolInputError(f"{path}: inside a folder this server excludes")
        with self._write:
            added = self.writer().add_source(path, kind or None)
            if index:
                report = self.writer().sync(source_ids=[int(added["id"])])
                added["indexed"] = _sync_summary(report.as_json())
        return added

    def sync(self, source: str | None = None) -> dict[str, Any]:
        self._require_writes()
        source_ids: list[int] | None = None
        if source:
            row = self.app.store.find_source(source)
            allowed = self.guard.source_ids()
            if row is None or (allowed is not None and int(row["id"]) not in allowed):
                raise ToolInputError(f"source {source!r}: not a registered source (list_sources shows them)")
            source_ids = [int(row["id"])]
        else:
            source_ids = self.guard.source_ids()
        with self._write:
            report = self.writer().sync(source_ids=source_ids)
        return _sync_summary(report.as_json())

    def forget(
        self,
        *,
        document: str | None = None,
        source: str | None = None,
        person: str | None = None,
        dry_run: bool = True,
    ) -> dict[str, Any]:
        self._require_writes()
        from assistant.ops.forget import forget

        if sum(bool(x) for x in (document, source, person)) != 1:
            raise ToolInputError("forget needs exactly one of document, source or person")
        document_id = self.resolve(document) if document else None
        if source:
            row = self.app.store.find_source(source)
            allowed = self.guard.source_ids()
            if row is None or (allowed is not None and int(row["id"]) not in allowed):
                raise ToolInputError(f"source {source!r}: not a registered source (list_sources shows them)")
            if self.guard.scope.restricted:
                # it would reach (and count) the source's documents this server hides
                raise ToolInputError("this server's view is restricted: forget a whole source with `satchel forget`")
            source = str(row["id"])
        if person and self.guard.scope.restricted:
            raise ToolInputError(
                "this server's view is restricted, and forgetting a person reaches every source: "
                "use `satchel forget --person`"
            )
        with self._write:
            report = forget(self.writer(), source=source, document=document_id, person=person, dry_run=dry_run)
        return report.as_json()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self.app.close()


def _sync_summary(report: dict[str, Any]) -> dict[str, Any]:
    keys = ("added", "updated", "deleted", "unchanged", "embedded_chunks", "errors", "seconds")
    summary = {k: report.get(k) for k in keys}
    summary["error_list"] = report.get("error_list", [])[:20]
    return summary


def chunk_starts(text: str, chunks: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """Where each chunk's locator starts in the document's text (approximately).

    Chunks may carry a heading breadcrumb or normalised spaces, so a chunk is found
    by a run of its words (the first eight, else a later run) with any spacing
    between them. Chunks come in order and overlap by less than half of one, so the
    search for the next starts half-way through the previous: text that repeats
    (boilerplate, a form on every page) is then not found pages too early.
    """
    starts: list[tuple[str, int]] = []
    floor = 0  # where the next chunk may start at the earliest
    previous = 0  # where the previous chunk was found
    for chunk in chunks:
        words = str(chunk["text"]).split()
        locator = str(chunk.get("locator") or "")
        at = None
        for begin in (floor, previous):
            for start in (0, 8, 16, max(0, len(words) // 2)):
                run = words[start : start + 8]
                if not run or (start and len(run) < 3):
                    continue
                found = re.compile(r"\s+".join(re.escape(w) for w in run)).search(text, begin)
                if found is not None:
                    # a run found past the chunk's start: step back over the words skipped
                    at = _back_words(text, found.start(), start) if start else found.start()
                    break
            if at is not None:
                break
        if at is None:
            continue
        starts.append((locator, at))
        previous, floor = at, at + len(str(chunk["text"])) // 2
    return starts


def _back_words(text: str, at: int, count: int) -> int:
    head = text[:at]
    spans = list(re.finditer(r"\S+", head))
    return spans[-count].start() if len(spans) >= count else 0


def page_end(text: str, offset: int, max_chars: int) -> int:
    """Where a part of at most ``max_chars`` ends: at a paragraph or line break, or a
    space, in its last fifth, so no word is cut in two."""
    end = offset + max_chars
    if end >= len(text):
        return len(text)
    floor = offset + max_chars * 4 // 5
    for separator in ("\n\n", "\n", " "):
        cut = text.rfind(separator, floor, end)
        if cut != -1:
            return cut + len(separator)
    return end


def _locators_between(starts: list[tuple[str, int]], offset: int, end: int) -> list[LocatorAt]:
    seen: set[str] = set()
    out: list[LocatorAt] = []
    for locator, at in starts:
        if locator and offset <= at < end and locator not in seen:
            seen.add(locator)
            out.append(LocatorAt(locator=locator, offset=at))
    return out
