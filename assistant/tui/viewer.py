"""The document viewer: a whole email, chat month or file, at the cited passage."""

from __future__ import annotations

import re
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from assistant.tui.host import CoreCall, satchel_app
from assistant.tui.view import SourceView, kind_icon, person_name, relative_to_roots, short_date
from assistant.tui.widgets import StatusLine

# A long document (a book-sized PDF) is shown around the passage, not whole.
WINDOW_CHARS = 40_000


def locate(text: str, passage: str) -> tuple[int, int] | None:
    """Where a chunk's text sits in its document's text (whitespace may differ)."""
    if not passage:
        return None
    at = text.find(passage)
    if at >= 0:
        return at, at + len(passage)
    words = passage.split()
    if not words:
        return None
    head = r"\s+".join(re.escape(w) for w in words[:12])
    tail = r"\s+".join(re.escape(w) for w in words[-6:])
    start = re.search(head, text)
    if start is None:
        return None
    end = re.compile(tail).search(text, start.start())
    return start.start(), (end.end() if end else min(len(text), start.start() + len(passage)))


def split_document(text: str, passage: str) -> tuple[str, str, str]:
    """The text before the passage, the passage, and the text after it,
    each cut to a window when the document is long."""
    span = locate(text, passage)
    if span is None:
        return "", "", text[: 2 * WINDOW_CHARS]
    start, end = span
    before, cited, after = text[:start], text[start:end], text[end:]
    if len(before) > WINDOW_CHARS:
        before = f"[… {len(before) - WINDOW_CHARS:,} characters before]\n" + before[-WINDOW_CHARS:]
    if len(after) > WINDOW_CHARS:
        after = after[:WINDOW_CHARS] + f"\n[… {len(after) - WINDOW_CHARS:,} characters after]"
    return before, cited, after


class DocumentScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "back", "Back"),
        Binding("c", "to_passage", "Passage"),
    ]

    def __init__(self, view: SourceView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="document"):
            yield Static(Content.styled("loading…", "$text-muted"), id="doc-head")
            yield Static("", id="doc-before", classes="doc-text")
            yield Static("", id="doc-cited", classes="doc-text")
            yield Static("", id="doc-after", classes="doc-text")
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.view.title or "Document"
        self.query_one("#doc-cited").display = False
        self._load_worker()

    @work(thread=True, exclusive=True, group="document", exit_on_error=False)
    def _load_worker(self) -> None:
        with CoreCall(self, "document", self._failed) as call:
            doc = satchel_app(self).satchel.document(self.view.document_id)
        if call.failed:
            return
        self.app.call_from_thread(self._show, doc)

    def _failed(self, message: str) -> None:
        self.query_one("#doc-head", Static).update(Content(message))
        self.notify(message, title="Cannot open the document", severity="error", markup=False)

    def _head(self, doc: dict[str, Any]) -> Content:
        meta = doc.get("metadata") or {}
        lines = [Content.styled(f"{kind_icon(doc['kind'])} {doc.get('title') or ''}", "bold")]
        fields: list[tuple[str, str]] = []
        if doc.get("author"):
            fields.append(("from", str(doc["author"])))
        if meta.get("to"):
            fields.append(("to", ", ".join(person_name(x) for x in meta["to"])))
        if meta.get("cc"):
            fields.append(("cc", ", ".join(person_name(x) for x in meta["cc"])))
        participants = doc.get("participants") or []
        if participants and doc["kind"] == "chat":
            fields.append(("people", ", ".join(participants)))
        if doc.get("timestamp"):
            fields.append(("date", short_date(doc["timestamp"])))
        roots = [s["path"] for s in satchel_app(self).sources_cache]
        fields.append(("file", relative_to_roots(str(doc.get("source") or ""), roots)))
        if self.view.locator:
            fields.append(("passage", self.view.locator))
        for name, value in fields:
            lines.append(Content.assemble((f"{name:>8} ", "$text-muted"), value))
        return Content("\n").join(lines)

    def _show(self, doc: dict[str, Any] | None) -> None:
        if doc is None:
            self._failed("This document is no longer in the index (the source was synced or removed).")
            return
        self.query_one("#doc-head", Static).update(self._head(doc))
        chunk = next((c for c in doc.get("chunks", []) if c["id"] == self.view.chunk_id), None)
        before, cited, after = split_document(str(doc.get("text") or ""), chunk["text"] if chunk else "")
        self.query_one("#doc-before", Static).update(Content(before.rstrip("\n")))
        cited_view = self.query_one("#doc-cited", Static)
        cited_view.update(Content(cited))
        cited_view.display = bool(cited)
        if self.view.cited is not None:
            cited_view.border_title = f"source {self.view.n}" + (" · cited" if self.view.cited else "")
        else:
            cited_view.border_title = f"result {self.view.n}"
        self.query_one("#doc-after", Static).update(Content(after.lstrip("\n")))
        self.query_one("#doc-before").display = bool(before.strip())
        self.query_one("#doc-after").display = bool(after.strip())
        self.call_after_refresh(self.action_to_passage)

    def action_to_passage(self) -> None:
        cited = self.query_one("#doc-cited", Static)
        scroller = self.query_one("#document", VerticalScroll)
        if cited.display:
            scroller.scroll_to_widget(cited, animate=False, top=True)
        scroller.focus()

    def action_back(self) -> None:
        self.dismiss(None)
