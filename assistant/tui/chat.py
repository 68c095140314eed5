"""The chat screen: ask, watch the answer stream in, open its sources."""

from __future__ import annotations

import threading
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Markdown, Static
from textual.widgets.markdown import MarkdownStream

from assistant.answer.rag import Answer
from assistant.backends.generation import GenerationStats
from assistant.tui.host import CoreCall, from_thread, satchel_app
from assistant.tui.view import FilterState, SourceView, lift_filters, linkify_citations
from assistant.tui.widgets import FilterChips, SourceList, StatusLine

FLUSH_INTERVAL_S = 0.08
WELCOME = """\
**Ask your own data.** Type a question and press **Enter**; **Esc** stops an answer.
**Tab** reaches the sources: **1**–**9** or **Enter** open one. **F1** shows every key.
Filters inside a question: `kind:email` `from:Helena` `after:2026-04` `source:2`"""


class Turn(Vertical):
    """One question and its answer, with the sources that answer cites."""

    def __init__(self, question: str, filters: str = "") -> None:
        super().__init__(classes="turn")
        self.question = question
        self.filters = filters
        self.sources: list[SourceView] = []

    def compose(self) -> ComposeResult:
        head = Content.assemble(("You ", "bold $text-primary"), self.question)
        if self.filters:
            head += Content.styled(f"  [{self.filters}]", "$text-muted")
        yield Static(head, classes="question")
        yield Markdown("", open_links=False, classes="answer")
        yield Static(Content.styled("searching your data…", "$text-muted"), classes="turn-note")

    @property
    def answer_view(self) -> Markdown:
        return self.query_one(".answer", Markdown)

    def set_note(self, text: str) -> None:
        note = self.query_one(".turn-note", Static)
        note.update(Content.styled(text, "$text-muted"))
        note.display = bool(text)


def token_rate(stats: GenerationStats) -> str:
    """ ", 12 tok/s" for the meter: a slow answer reads "0.6 tok/s", never "0 tok/s";
    one token has no rate, and a whole answer's rate stands in for a missing one."""
    speed = stats.generation_tokens_per_s
    if not speed and stats.generated_tokens > 1 and stats.total_s > stats.time_to_first_token_s:
        speed = (stats.generated_tokens - 1) / (stats.total_s - stats.time_to_first_token_s)
    if not speed:
        return ""
    return f", {speed:.0f} tok/s" if speed >= 10 else f", {speed:.1f} tok/s" if speed >= 0.1 else f", {speed:.2f} tok/s"


class ChatScreen(Screen[None]):
    AUTO_FOCUS = "#question"
    BINDINGS = [
        Binding("escape", "stop", "Stop"),
        Binding("ctrl+n", "new_chat", "New"),
        *[Binding(str(n), f"open_source({n})", f"Open source {n}", show=False) for n in range(1, 10)],
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter_state = FilterState()
        self.conversation_id: int | None = None
        self.answering = False
        self._stop = threading.Event()
        self._turn: Turn | None = None
        self._stream: MarkdownStream | None = None
        # Tokens wait here for the next screen update: the model never waits for
        # the screen, and the screen redraws a few times a second, not per token.
        self._pending: list[str] = []
        self._pending_lock = threading.Lock()
        self._flush_timer: Timer | None = None
        self.current_sources: list[SourceView] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="chat-body"):
            with Vertical(id="chat-main"):
                with VerticalScroll(id="conversation"):
                    yield Markdown(WELCOME, id="welcome", open_links=False)
                yield FilterChips(self.filter_state, id="chat-chips", classes="chips")
                yield Input(
                    placeholder="Ask about your email, chats and files…",
                    id="question",
                )
            with Vertical(id="sources-pane"):
                yield Static("Sources", id="sources-title")
                yield SourceList(empty="The sources of an answer are listed here.", id="sources")
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#conversation", VerticalScroll).anchor()
        self.sub_title = "Chat"
        self._flush_timer = self.set_interval(FLUSH_INTERVAL_S, self._flush, pause=True)

    def on_unmount(self) -> None:
        self._stop.set()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self.answering
        return True

    def _set_answering(self, value: bool) -> None:
        self.answering = value
        self.refresh_bindings()

    # --- asking --------------------------------------------------------------------
    @on(Input.Submitted, "#question")
    def on_question(self, event: Input.Submitted) -> None:
        event.input.value = self.submit(event.value)

    def submit(self, text: str) -> str:
        """Read filters out of ``text`` and ask the rest; returns what the question
        box should keep (the question, when an answer is still being written)."""
        sapp = satchel_app(self)
        question, problems = lift_filters(text, self.filter_state, sapp.sources_cache)
        for problem in problems:
            self.notify(problem, severity="warning", markup=False)
        self.query_one(FilterChips).refresh_chips()
        if not question.strip():
            return ""
        if self.answering:
            self.notify("Satchel is still answering: press Esc to stop it first.", severity="warning")
            return question
        self.ask(question)
        return ""

    def ask(self, question: str) -> None:
        """Start answering ``question`` with the current filters, in a worker."""
        filters = self.filter_state.filters()
        chips = " ".join(c.text for c in self.filter_state.chips)
        turn = Turn(question, chips)
        conversation = self.query_one("#conversation", VerticalScroll)
        for welcome in self.query("#welcome"):
            welcome.remove()
        conversation.mount(turn)
        conversation.anchor()
        self._turn = turn
        self._stream = None
        self._stop.clear()
        with self._pending_lock:
            self._pending.clear()
        if self._flush_timer is not None:
            self._flush_timer.resume()
        self._set_answering(True)
        self.show_sources([], empty="Searching…")
        self._ask_worker(question, filters, self.conversation_id)

    @work(thread=True, exclusive=True, group="answer", exit_on_error=False)
    def _ask_worker(self, question: str, filters: Any, conversation_id: int | None) -> None:
        sapp = satchel_app(self)

        def on_token(text: str) -> None:
            with self._pending_lock:
                self._pending.append(text)

        def on_status(message: str) -> None:
            turn = self._turn
            if turn is not None and not self._stop.is_set():
                from_thread(self, turn.set_note, f"{message}…  (Esc stops)")

        with CoreCall(self, "answer", self._answer_failed) as call:
            answer = sapp.satchel.ask(
                question,
                filters,
                on_token=on_token,
                should_stop=self._stop.is_set,
                conversation_id=conversation_id,
                origin="tui",
                on_status=on_status,
            )
        if call.failed:
            return
        from_thread(self, self._answer_done, answer)
        self.app.call_from_thread(sapp._set_state, usage=sapp.usage_state())

    async def _flush(self) -> None:
        """Show the tokens that arrived since the last update."""
        with self._pending_lock:
            text = "".join(self._pending)
            self._pending.clear()
        turn = self._turn
        if turn is None or not text:
            return
        if self._stream is None:
            if not self._stop.is_set():
                turn.set_note("writing…  (Esc stops)")
            self._stream = Markdown.get_stream(turn.answer_view)
        await self._stream.write(text)

    async def _finish_stream(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.pause()
        with self._pending_lock:
            self._pending.clear()
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None

    async def _answer_done(self, answer: Answer) -> None:
        await self._finish_stream()
        turn = self._turn
        stopped = self._stop.is_set()
        self._set_answering(False)
        if turn is None:
            return
        views = [SourceView.from_ref(ref) for ref in answer.sources]
        turn.sources = views
        text = answer.answer or ("*(stopped before the first word)*" if stopped else "")
        await turn.answer_view.update(linkify_citations(text))
        turn.set_note(self._note(answer, stopped))
        self.conversation_id = answer.conversation_id
        self.show_sources(views)
        self._turn = None

    @staticmethod
    def _note(answer: Answer, stopped: bool) -> str:
        notes: list[str] = []
        if stopped:
            notes.append("stopped")
        if answer.stats is None:
            notes.append("nothing relevant enough was found, so the model was not asked")
        elif not answer.answered:
            notes.append("not found in your data")
        cited = sum(1 for s in answer.sources if s.cited)
        if answer.sources and answer.stats is not None:
            notes.append(f"{cited} of {len(answer.sources)} sources cited")
        if answer.invalid_citations:
            bad = ", ".join(str(n) for n in answer.invalid_citations)
            notes.append(f"removed citations to missing sources: {bad}")
        if answer.stats is not None and answer.stats.generated_tokens:
            notes.append(f"{answer.stats.generated_tokens} tokens" + token_rate(answer.stats))
        if answer.stats is not None and answer.stats.waited_s >= 0.5:
            notes.append(f"waited {answer.stats.waited_s:.0f} s for its turn")
        return " · ".join(notes)

    async def _answer_failed(self, message: str) -> None:
        await self._finish_stream()
        self._set_answering(False)
        if self._turn is not None:
            self._turn.set_note(f"failed: {message}")
            self._turn = None
        self.show_sources([], empty="No sources.")
        self.notify(message, title="Could not answer", severity="error", markup=False, timeout=10)

    def action_stop(self) -> None:
        if self.answering:
            self._stop.set()
            if self._turn is not None:
                self._turn.set_note("stopping…")

    # --- sources -------------------------------------------------------------------
    def show_sources(self, views: list[SourceView], empty: str | None = None) -> None:
        self.current_sources = views
        title = "Sources"
        cited = [v for v in views if v.cited]
        if views:
            title = f"Sources · {len(cited)} of {len(views)} cited" if cited else f"Sources · {len(views)}"
        self.query_one("#sources-title", Static).update(title)
        self.query_one(SourceList).show_views(views, empty)

    def action_open_source(self, n: int) -> None:
        if 1 <= n <= len(self.current_sources):
            satchel_app(self).open_document(self.current_sources[n - 1])
        else:
            self.notify(f"There is no source {n}.", severity="warning")

    def on_source_list_open(self, event: SourceList.Open) -> None:
        satchel_app(self).open_document(event.view)

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        href = event.href
        if not href.startswith("source:") or not href[7:].isdigit():
            self.notify(f"Links are not opened from answers: {href}", markup=False)
            return
        n = int(href[7:])
        turn = next((a for a in event.markdown.ancestors if isinstance(a, Turn)), None)
        views = turn.sources if turn is not None else self.current_sources
        if 1 <= n <= len(views):
            satchel_app(self).open_document(views[n - 1])

    def on_filter_chips_removed(self, event: FilterChips.Removed) -> None:
        self.query_one("#question", Input).focus()

    # --- conversations -------------------------------------------------------------
    async def action_new_chat(self) -> None:
        if self.answering:
            self._stop.set()
            self.notify("Stopped the answer to start a new conversation.")
        await self._clear()
        self.query_one("#conversation", VerticalScroll).mount(Markdown(WELCOME, id="welcome", open_links=False))
        self.query_one("#question", Input).focus()

    async def _clear(self) -> None:
        self.conversation_id = None
        self._turn = None
        await self.query_one("#conversation", VerticalScroll).remove_children()
        self.show_sources([])

    async def show_conversation(self, conversation_id: int, turns: list[dict[str, Any]]) -> None:
        """Show a stored conversation; the next question continues it."""
        if self.answering:
            self._stop.set()
        await self._clear()
        conversation = self.query_one("#conversation", VerticalScroll)
        last: list[SourceView] = []
        for data in turns:
            turn = Turn(str(data.get("question") or ""))
            await conversation.mount(turn)
            views = [SourceView.from_json(s) for s in data.get("sources") or []]
            turn.sources = views
            await turn.answer_view.update(linkify_citations(str(data.get("answer") or "")))
            cited = sum(1 for v in views if v.cited)
            turn.set_note(f"{cited} of {len(views)} sources cited" if views else "")
            last = views
        self.conversation_id = conversation_id
        self.show_sources(last)
        conversation.anchor()
        self.query_one("#question", Input).focus()
