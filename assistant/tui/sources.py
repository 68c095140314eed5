"""The sources screen: what is indexed, add, remove, re-sync, and what failed."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, ProgressBar, Static

from assistant.tui.dialogs import ConfirmScreen, PathPicker
from assistant.tui.host import CoreCall, satchel_app
from assistant.tui.view import display_path, format_when, relative_to_roots
from assistant.tui.widgets import StatusLine


class SourcesScreen(Screen[None]):
    BINDINGS = [
        Binding("s", "sync_selected", "Sync"),
        Binding("ctrl+y", "sync_all", "All"),
        Binding("delete", "remove_selected", "Remove"),
        Binding("ctrl+o", "browse", "Browse", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="sources-body"):
            yield DataTable(id="sources-table", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="add-row", classes="toolbar"):
                yield Input(placeholder="a folder or file to add, e.g. ~/Mail", id="path-input", compact=True)
                yield Button("Browse…", id="browse", compact=True)
                yield Button("Add", id="add", variant="primary", compact=True)
            with Horizontal(id="sync-row", classes="toolbar"):
                yield Button("Sync", id="sync", compact=True)
                yield Button("Sync all", id="sync-all", compact=True)
                yield Button("Remove", id="remove", variant="error", compact=True)
                yield ProgressBar(total=1.0, show_eta=False, id="sync-progress")
                yield Static("", id="sync-label")
            yield Static("Errors", id="errors-title")
            yield DataTable(id="errors-table", cursor_type="row", zebra_stripes=True)
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Sources"
        table = self.query_one("#sources-table", DataTable)
        table.add_column("id", key="id")
        table.add_column("path", key="path")
        table.add_column("docs", key="documents")
        table.add_column("chunks", key="chunks")
        table.add_column("errors", key="errors")
        table.add_column("last sync", key="last_sync")
        errors = self.query_one("#errors-table", DataTable)
        errors.add_column("file", key="file")
        errors.add_column("item", key="item")
        errors.add_column("reason", key="reason")
        self.watch(self.app, "data_version", self._reload)
        self.watch(self.app, "sync_fraction", self._show_progress)
        self.watch(self.app, "sync_text", self._show_sync_text)

    def on_screen_resume(self) -> None:
        self._reload(0)

    # --- loading -------------------------------------------------------------------
    def _reload(self, _version: int) -> None:
        self._load_worker()

    @work(thread=True, exclusive=True, group="sources-load", exit_on_error=False)
    def _load_worker(self) -> None:
        notify = partial(self.app.notify, severity="error", markup=False)
        with CoreCall(self, "status", notify, report_unexpected=False) as call:
            status = satchel_app(self).satchel.status()
        if call.failed:
            return
        self.app.call_from_thread(self._fill, status)

    def _fill(self, status: dict[str, Any]) -> None:
        sources = status["sources"]
        satchel_app(self).sources_cache = sources
        table = self.query_one("#sources-table", DataTable)
        selected = self.selected_source()
        table.clear()
        for s in sources:
            table.add_row(
                str(s["id"]),
                Text(display_path(s["path"])),
                str(s["documents"]),
                str(s["chunks"]),
                Text(str(s["errors"]), style="bold red" if s["errors"] else ""),
                format_when(s["last_sync"]),
                key=str(s["id"]),
            )
        if selected is not None and str(selected["id"]) in table.rows:
            table.move_cursor(row=table.get_row_index(str(selected["id"])))
        if not sources:
            self.query_one("#sync-label", Static).update(
                Content.styled("No sources yet: type a path above and press Add.", "$text-muted")
            )
        roots = [s["path"] for s in sources]
        errors = self.query_one("#errors-table", DataTable)
        errors.clear()
        for e in status["error_list"]:
            errors.add_row(
                Text(relative_to_roots(e["path"] or "", roots)),
                Text(str(e["item"] or "")),
                Text(str(e["reason"] or "")),
            )
        count = status["errors"]
        title = f"Errors · {count}" if count else "Errors · none"
        if count > len(status["error_list"]):
            title += f" (first {len(status['error_list'])} shown)"
        self.query_one("#errors-title", Static).update(title)

    def selected_source(self) -> dict[str, Any] | None:
        table = self.query_one("#sources-table", DataTable)
        if not table.row_count:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:
            return None
        return next((s for s in satchel_app(self).sources_cache if str(s["id"]) == key), None)

    # --- progress ------------------------------------------------------------------
    def _show_progress(self, fraction: float) -> None:
        bar = self.query_one("#sync-progress", ProgressBar)
        bar.display = fraction >= 0
        if fraction >= 0:
            bar.update(progress=fraction)

    def _show_sync_text(self, text: str) -> None:
        self.query_one("#sync-label", Static).update(Content(text))

    # --- actions -------------------------------------------------------------------
    @on(Button.Pressed, "#add")
    @on(Input.Submitted, "#path-input")
    def action_add(self) -> None:
        box = self.query_one("#path-input", Input)
        path = box.value.strip()
        if not path:
            self.notify("Type the path of a folder or file first (or Browse…).", severity="warning")
            box.focus()
            return
        if satchel_app(self).add_source(path):
            box.value = ""

    @on(Button.Pressed, "#browse")
    def action_browse(self) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None:
                box = self.query_one("#path-input", Input)
                box.value = str(path)
                box.focus()

        self.app.push_screen(PathPicker(), chosen)

    @on(Button.Pressed, "#sync")
    def action_sync_selected(self) -> None:
        source = self.selected_source()
        if source is None:
            self.notify("No source selected.", severity="warning")
            return
        satchel_app(self).start_sync([int(source["id"])], Path(source["path"]).name)

    @on(Button.Pressed, "#sync-all")
    def action_sync_all(self) -> None:
        satchel_app(self).start_sync(None, "all sources")

    @on(Button.Pressed, "#remove")
    def action_remove_selected(self) -> None:
        source = self.selected_source()
        if source is None:
            self.notify("No source selected.", severity="warning")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                satchel_app(self).remove_source(source)

        question = (
            f"Remove {display_path(source['path'])} and its {source['documents']} documents "
            "from the index? The files themselves are not touched."
        )
        self.app.push_screen(ConfirmScreen(question, "Remove"), confirmed)
