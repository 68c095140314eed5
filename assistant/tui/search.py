"""Search mode: results as you type, a filter bar, filters shown as chips."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Select, Static

from assistant.retrieval.search_types import Filters, SearchOutcome
from assistant.tui.host import CoreCall, satchel_app
from assistant.tui.view import KINDS, FilterState, SourceView, lift_filters
from assistant.tui.widgets import FilterChips, SourceList, StatusLine

DEBOUNCE_S = 0.3
RESULTS = 20
EMPTY = "Results appear as you type."


class SearchScreen(Screen[None]):
    AUTO_FOCUS = "#search-query"
    BINDINGS = [
        Binding("ctrl+r", "clear_filters", "Clear"),
        Binding("down", "focus_results", "Results", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter_state = FilterState()
        self._timer: Timer | None = None
        self._request = 0
        self._last: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="search-body"):
            yield Input(placeholder="Search…  (filters: kind:chat from:Name after:2026-01)", id="search-query")
            with Horizontal(id="filter-bar"):
                yield Select([(k, k) for k in KINDS], prompt="kind", id="kind-filter", compact=True)
                yield Input(placeholder="person ⏎", id="person-filter", compact=True)
                yield Input(placeholder="after ⏎", id="after-filter", compact=True)
                yield Input(placeholder="before ⏎", id="before-filter", compact=True)
                yield Select[str]([], prompt="source", id="source-filter", compact=True)
            yield FilterChips(self.filter_state, id="search-chips", classes="chips")
            yield Static("", id="search-summary")
            yield SourceList(empty=EMPTY, id="results")
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Search"
        self.watch(self.app, "data_version", self._sources_changed)

    def _sources_changed(self, _version: int) -> None:
        sources = satchel_app(self).sources_cache
        options = [(Content(Path(s["path"]).name or s["path"]), str(s["id"])) for s in sources]
        self.query_one("#source-filter", Select).set_options(options)

    # --- typing --------------------------------------------------------------------
    @on(Input.Changed, "#search-query")
    def on_query_changed(self, event: Input.Changed) -> None:
        left, problems = self._lift(event.value, complete_only=True)
        if left != event.value:
            event.input.value = left
        self._schedule()

    @on(Input.Submitted, "#search-query")
    def on_query_submitted(self, event: Input.Submitted) -> None:
        self._submit(event.input)

    def _submit(self, box: Input) -> None:
        left, _ = self._lift(box.value, complete_only=False)
        box.value = self._lift_said_filters(left)
        self._search_now(force=True)

    def _lift_said_filters(self, text: str) -> str:
        """On Enter, filters said in words ("emails from Anna last March") become
        chips the person can see and remove; the words leave the query."""
        try:
            searched, said, applied = satchel_app(self).satchel.interpret(text, Filters())
        except Exception:  # reading filters is a convenience; the search goes on
            return text
        if not applied:
            return text
        for kind in said.kinds:
            self.filter_state.add("kind", kind)
        for person in said.persons:
            self.filter_state.add("person", person)
        for key, moment in (("after", said.after), ("before", said.before)):
            if moment is not None:
                self.filter_state.add(key, moment.strftime("%Y-%m-%d"))
        self.query_one(FilterChips).refresh_chips()
        return searched

    def _lift(self, text: str, *, complete_only: bool) -> tuple[str, list[str]]:
        before = len(self.filter_state.chips)
        left, problems = lift_filters(
            text, self.filter_state, satchel_app(self).sources_cache, complete_only=complete_only
        )
        for problem in problems:
            self.notify(problem, severity="warning", markup=False)
        if len(self.filter_state.chips) != before or problems:
            self.query_one(FilterChips).refresh_chips()
        return left, problems

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_S, self._search_now)

    # --- the filter bar ------------------------------------------------------------
    @on(Select.Changed, "#kind-filter")
    @on(Select.Changed, "#source-filter")
    def on_select(self, event: Select.Changed) -> None:
        if event.value is Select.NULL:
            return
        key = "kind" if event.select.id == "kind-filter" else "source"
        self._add_filter(key, str(event.value))
        event.select.clear()

    @on(Input.Submitted, "#person-filter")
    @on(Input.Submitted, "#after-filter")
    @on(Input.Submitted, "#before-filter")
    def on_filter_input(self, event: Input.Submitted) -> None:
        key = (event.input.id or "").removesuffix("-filter")
        if event.value.strip() and self._add_filter(key, event.value):
            event.input.value = ""

    def _add_filter(self, key: str, value: str) -> bool:
        try:
            self.filter_state.add(key, value, satchel_app(self).sources_cache)
        except ValueError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return False
        self.query_one(FilterChips).refresh_chips()
        self._search_now()
        return True

    def on_filter_chips_removed(self, event: FilterChips.Removed) -> None:
        self._search_now()

    def action_clear_filters(self) -> None:
        self.filter_state.clear()
        self.query_one(FilterChips).refresh_chips()
        self._search_now()

    def action_focus_results(self) -> None:
        self.query_one(SourceList).focus()

    # --- searching -----------------------------------------------------------------
    def _search_now(self, force: bool = False) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        query = self.query_one("#search-query", Input).value.strip()
        filters = self.filter_state.filters()
        key = (query, repr(filters.as_json()))
        if key == self._last and not force:
            return  # the same search as the one shown (a timer after Enter, say)
        self._last = key
        self._request += 1
        if not query:
            self.query_one("#search-summary", Static).update("")
            self.query_one(SourceList).show_views([], EMPTY)
            return
        self._search_worker(self._request, query, filters)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search_worker(self, request: int, query: str, filters: Filters) -> None:
        with CoreCall(self, "search", partial(self._search_failed, request)) as call:
            outcome = satchel_app(self).satchel.search(query, filters, k=RESULTS)
        if call.failed:
            return
        self.app.call_from_thread(self._show_results, request, outcome)

    def _show_results(self, request: int, outcome: SearchOutcome) -> None:
        if request != self._request:
            return  # an older query answered after a newer one was typed
        views = [SourceView.from_result(i + 1, r) for i, r in enumerate(outcome.results)]
        count = len(views)
        summary = f"{count} result{'s' if count != 1 else ''} for “{outcome.query}”"
        if outcome.applied:
            # filters the core read from the words of the query ("emails from Anna")
            summary += " · read from your words: " + ", ".join(outcome.applied)
        elif not outcome.filters.is_empty():
            summary += " · filtered"
        self.query_one("#search-summary", Static).update(Content(summary))
        self.query_one(SourceList).show_views(views, "Nothing found: try other words or fewer filters.")

    def _search_failed(self, request: int, message: str) -> None:
        if request == self._request:
            self.query_one("#search-summary", Static).update(Content.styled(message, "$text-error"))
        self.notify(message, title="Search failed", severity="error", markup=False, timeout=10)

    def on_source_list_open(self, event: SourceList.Open) -> None:
        satchel_app(self).open_document(event.view)

    def search_for(self, query: str) -> None:
        """Put ``query`` in the box and search now (from the command palette)."""
        box = self.query_one("#search-query", Input)
        box.value = query
        self._submit(box)
        box.focus()
