"""Past conversations: pick one to read it, Enter to carry on with it."""

from __future__ import annotations

from functools import partial
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Markdown

from assistant.tui.host import CoreCall, satchel_app
from assistant.tui.view import format_when
from assistant.tui.widgets import StatusLine

EMPTY = "*No conversations yet: ask something on the chat screen (F2).*"


def preview_markdown(turns: list[dict[str, Any]]) -> str:
    """A conversation as Markdown: questions as quotes, answers as they were."""
    if not turns:
        return EMPTY
    parts = []
    for turn in turns:
        question = " ".join(str(turn.get("question") or "").split())
        parts.append(f"> **{question}**\n\n{turn.get('answer') or ''}")
    return "\n\n---\n\n".join(parts)


class HistoryScreen(Screen[None]):
    BINDINGS = [Binding("enter", "resume", "Resume", show=True)]

    def __init__(self) -> None:
        super().__init__()
        self.conversations: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="history-body"):
            yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
            yield Markdown(EMPTY, id="history-preview", open_links=False)
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "History"
        table = self.query_one(DataTable)
        table.add_column("conversation", key="title")
        table.add_column("turns", key="turns")
        table.add_column("updated", key="updated")

    def on_screen_resume(self) -> None:
        self._load_worker()

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def _load_worker(self) -> None:
        notify = partial(self.app.notify, severity="error", markup=False)
        with CoreCall(self, "history", notify, report_unexpected=False) as call:
            conversations = satchel_app(self).satchel.conversations()
        if call.failed:
            return
        self.app.call_from_thread(self._fill, conversations)

    def _fill(self, conversations: list[dict[str, Any]]) -> None:
        self.conversations = conversations
        table = self.query_one(DataTable)
        table.clear()
        for c in conversations:
            table.add_row(Text(str(c["title"] or "")), str(c["turns"]), format_when(c["updated_at"]), key=str(c["id"]))
        if not conversations:
            self.query_one("#history-preview", Markdown).update(EMPTY)
        else:
            table.focus()

    def _selected(self) -> int | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self._preview_worker(int(event.row_key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            satchel_app(self).resume_conversation(int(event.row_key.value))

    def action_resume(self) -> None:
        selected = self._selected()
        if selected is not None:
            satchel_app(self).resume_conversation(selected)

    @work(thread=True, exclusive=True, group="history-preview", exit_on_error=False)
    def _preview_worker(self, conversation_id: int) -> None:
        with CoreCall(self, "history preview") as call:
            turns = satchel_app(self).satchel.conversation_turns(conversation_id)
        if call.failed:
            return
        self.app.call_from_thread(self.query_one("#history-preview", Markdown).update, preview_markdown(turns))
