"""The Textual app: chat, search, sources and history over one Satchel store.

The app shows itself at once; the store, the vector index, the embedder and the
language model are opened by a worker at startup while the status line says so.
Every call into the core runs in a thread worker: a :class:`SatchelError` becomes a
notification that says what to do, and the app keeps running.

Reads (search, answers, documents, history) use the :class:`Satchel` the app was
given. Writes (add, remove, sync) use a second Satchel on the same home with its
own SQLite connection, so a long sync never holds a transaction open under a
search; both share the one embedding model in memory.
"""

from __future__ import annotations

import threading
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive

from assistant.core import Satchel
from assistant.errors import SatchelError
from assistant.ingest.ocr_pass import OcrProgress, OcrReport
from assistant.ingest.ocr_pass import summary_line as ocr_summary_line
from assistant.ingest.reports import Progress, SyncReport
from assistant.tui.chat import ChatScreen
from assistant.tui.commands import SatchelCommands
from assistant.tui.dialogs import HelpScreen, PathPicker
from assistant.tui.history import HistoryScreen
from assistant.tui.host import CoreCall, SatchelHost, from_thread
from assistant.tui.search import SearchScreen
from assistant.tui.sources import SourcesScreen
from assistant.tui.view import SourceView, display_path, format_eta
from assistant.tui.viewer import DocumentScreen

# Progress reaches the screen at most this often (a sync reports per file).
PROGRESS_INTERVAL_S = 0.1


class SyncCancelled(Exception):
    """Raised from the progress callback to end a sync when the app quits; a sync
    may stop at any point and leave a consistent store (see assistant/ingest/sync.py)."""


class SatchelApp(App[None]):
    CSS_PATH = "satchel.tcss"
    TITLE = "Satchel"
    MODES = {
        "chat": ChatScreen,
        "search": SearchScreen,
        "sources": SourcesScreen,
        "history": HistoryScreen,
    }
    DEFAULT_MODE = "chat"
    COMMANDS = App.COMMANDS | {SatchelCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("f2", "show_mode('chat')", "Chat"),
        Binding("f3", "show_mode('search')", "Search"),
        Binding("f4", "show_mode('sources')", "Sources"),
        Binding("f5", "show_mode('history')", "History"),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
    ]

    status_text: reactive[str] = reactive("starting…")
    # Bumped whenever sources or indexed documents change; screens reload on it.
    data_version: reactive[int] = reactive(0)
    # -1 when no sync runs; the sources screen shows a progress bar otherwise.
    sync_fraction: reactive[float] = reactive(-1.0)
    sync_text: reactive[str] = reactive("")

    def __init__(self, satchel: Satchel, *, load_model: bool = True) -> None:
        super().__init__()
        self.satchel = satchel
        self.load_model = load_model
        self.sources_cache: list[dict[str, Any]] = []
        self.syncing = False
        self._writer: Satchel | None = None
        self._writer_lock = threading.Lock()
        self._quitting = threading.Event()
        self._states = {"index": "loading index…", "model": "", "activity": "", "usage": ""}
        self._update_status()

    # --- startup -------------------------------------------------------------------
    def on_mount(self) -> None:
        self._warm_up()

    def on_unmount(self) -> None:
        self._quitting.set()
        if self._writer is not None:
            self._writer.close()

    def _set_state(self, **states: str) -> None:
        self._states.update(states)
        self._update_status()

    def _update_status(self) -> None:
        self.status_text = " · ".join(v for v in self._states.values() if v)

    def _index_state(self, sources: list[dict[str, Any]]) -> str:
        if not sources:
            return "no sources yet: F4 to add one"
        documents = sum(int(s["documents"]) for s in sources)
        return f"{documents} documents in {len(sources)} source{'s' if len(sources) != 1 else ''}"

    def usage_state(self) -> str:
        """Today's tokens and Wh from the usage ledger, for the status line (called
        from a worker thread: it reads the store); empty before the first answer of
        the day or with status_usage off."""
        if not self.satchel.settings.status_usage:
            return ""
        try:
            today = self.satchel.usage_today()
        except Exception as exc:  # the status line is no reason to fail
            self.log.error(f"reading the usage ledger failed: {exc!r}")
            return ""
        if not today["answers"]:
            return ""
        wh = today["wh"]
        energy = "<0.01 Wh" if wh < 0.01 else f"{wh:.2f} Wh"
        return f"today {int(today['tokens']):,} tokens, {energy}"

    def _sources_loaded(self, sources: list[dict[str, Any]]) -> None:
        self.sources_cache = sources
        self._set_state(index=self._index_state(sources))
        self.data_version += 1

    def _notify_error(self, message: str, title: str = "") -> None:
        self.notify(message, title=title, severity="error", markup=False, timeout=10)

    def _warm_up(self) -> None:
        self.run_worker(self._warm_up_work, thread=True, group="startup", exit_on_error=False)

    def _warm_up_work(self) -> None:
        """Open the store and the index, load the embedder, then the model."""
        with CoreCall(self, "startup", self._index_unavailable) as call:
            sources = self.satchel.sources()
            self.call_from_thread(self._sources_loaded, sources)
            self.call_from_thread(self._set_state, usage=self.usage_state())
            self.satchel.searcher()
            self.satchel.serving_embedder.encode_query("warm up")  # the model queries go through
        if call.failed or not self.load_model or self._quitting.is_set():
            return
        self.call_from_thread(self._set_state, model="loading model…")
        with CoreCall(self, "model load", self._model_unavailable) as call:
            model = self.satchel.model()
            load = getattr(model, "load", None)
            if callable(load):
                load()
        if call.failed:
            return
        self.call_from_thread(self._set_state, model="model ready")

    def _index_unavailable(self, message: str) -> None:
        self._set_state(index="index unavailable")
        self._notify_error(message, "Cannot open the index")

    def _model_unavailable(self, message: str) -> None:
        self._set_state(model="no model: answers unavailable")
        self._notify_error(message, "Cannot load the model")

    def refresh_sources(self) -> None:
        """Reload the sources and counts (after a sync, an add or a remove)."""

        def work() -> None:
            with CoreCall(self, "reading sources") as call:
                sources = self.satchel.sources()
            if call.failed:
                return
            self.call_from_thread(self._sources_loaded, sources)

        self.run_worker(work, thread=True, group="refresh", exclusive=True, exit_on_error=False)

    # --- the writer ----------------------------------------------------------------
    def writer(self) -> Satchel:
        """A second core for writes, sharing the loaded embedding model."""
        with self._writer_lock:
            if self._writer is None:
                writer = Satchel(self.satchel.settings)
                writer._embedder = self.satchel.embedder
                writer._serving = self.satchel._serving  # the old model, during a model change
                self._writer = writer
            return self._writer

    def _busy(self) -> bool:
        if self.syncing:
            self.notify("A sync is running: wait for it to finish.", severity="warning")
        return self.syncing

    def add_source(self, path: str) -> bool:
        """Register ``path`` and index it; False when that cannot start now."""
        if self._busy():
            return False
        self.syncing = True  # add + first sync are one piece of work

        def work() -> None:
            with CoreCall(self, "add", self._add_failed) as call:
                added = self.writer().add_source(path)
            if call.failed:
                return
            self.call_from_thread(self._added, added)

        self.run_worker(work, thread=True, group="add", exit_on_error=False)
        return True

    def _add_failed(self, message: str) -> None:
        self.syncing = False
        self._notify_error(message, "Cannot add the source")

    def _added(self, added: dict[str, Any]) -> None:
        self.syncing = False
        self.notify(f"Added {display_path(added['path'])}: indexing it now.", markup=False)
        self.refresh_sources()
        self.start_sync([int(added["id"])], Path(added["path"]).name)

    def remove_source(self, source: dict[str, Any]) -> None:
        if self._busy():
            return

        def work() -> None:
            with CoreCall(self, "remove", partial(self._notify_error, title="Cannot remove the source")) as call:
                removed = self.writer().remove_source(str(source["id"]))
            if call.failed:
                return
            self.call_from_thread(
                self.notify,
                f"Removed {display_path(removed['path'])} ({removed['documents']} documents).",
                markup=False,
            )
            self.call_from_thread(self.refresh_sources)

        self.run_worker(work, thread=True, group="remove", exit_on_error=False)

    def start_sync(self, source_ids: list[int] | None, label: str) -> None:
        """Sync some sources (None: all) with progress and ETA on the sources screen."""
        if self._busy():
            return
        self.syncing = True
        self.sync_fraction = 0.0
        self.sync_text = f"syncing {label}…"
        self._set_state(activity="syncing…")
        self.run_worker(lambda: self._sync_work(source_ids, label), thread=True, group="sync", exit_on_error=False)

    def _sync_work(self, source_ids: list[int] | None, label: str) -> None:
        last = 0.0

        def progress(p: Progress) -> None:
            nonlocal last
            if self._quitting.is_set():
                raise SyncCancelled
            now = time.monotonic()
            if now - last < PROGRESS_INTERVAL_S and p.fraction < 1:
                return
            last = now
            text = f"{label}: {p.units_done}/{p.units_total} files · {p.chunks} chunks · {format_eta(p.eta_seconds)}"
            self.call_from_thread(self._sync_progress, p.fraction, text)

        with CoreCall(self, "sync", self._sync_failed, quiet=(SyncCancelled,)) as call:
            report = self.writer().sync(progress=progress, source_ids=source_ids)
        if call.failed:
            return
        self.call_from_thread(self._sync_done, report, label)
        self._ocr_work()

    def _ocr_work(self) -> None:
        """After the text (searchable now): images and scanned pages, with their own
        progress and ETA; stopped between two images when the app quits."""
        writer = self.writer()
        try:
            state = writer.ocr_state()
        except SatchelError:
            return
        if not state["enabled"] or not state["pending"]:
            return
        last = 0.0

        def progress(p: OcrProgress) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last < PROGRESS_INTERVAL_S and p.fraction < 1:
                return
            last = now
            text = f"OCR: {p.done}/{p.total} images and scanned pages · {format_eta(p.eta_seconds)}"
            self.call_from_thread(self._sync_progress, p.fraction, text)

        self.call_from_thread(self._ocr_started)
        try:
            report = writer.ocr(progress, stop=self._quitting)
        except SatchelError as exc:
            self.call_from_thread(self._sync_failed, f"OCR: {exc}")
            return
        if self._quitting.is_set():
            return
        self.call_from_thread(self._ocr_done, report)

    def _ocr_started(self) -> None:
        self.syncing = True
        self.sync_fraction = 0.0
        self.sync_text = "reading images and scanned pages (OCR)…"
        self._set_state(activity="OCR…")

    def _ocr_done(self, report: OcrReport) -> None:
        self.syncing = False
        self.sync_fraction = -1.0
        summary = ocr_summary_line(report.as_json()) or "OCR: nothing to read"
        self.sync_text = summary
        self._set_state(activity="")
        self.notify(summary, severity="warning" if report.errors else "information", markup=False)
        self.refresh_sources()

    def _sync_progress(self, fraction: float, text: str) -> None:
        self.sync_fraction = fraction
        self.sync_text = text
        self._set_state(activity=f"syncing {fraction:.0%}")

    def _sync_failed(self, message: str) -> None:
        self.syncing = False
        self.sync_fraction = -1.0
        self.sync_text = f"sync failed: {message}"
        self._set_state(activity="")
        self._notify_error(message, "Sync failed")
        self.refresh_sources()

    def _sync_done(self, report: SyncReport, label: str) -> None:
        self.syncing = False
        self.sync_fraction = -1.0
        summary = (
            f"synced {label}: {report.added} added, {report.updated} updated, "
            f"{report.deleted} deleted, {report.unchanged} unchanged, {report.errors} errors"
        )
        self.sync_text = summary
        self._set_state(activity="")
        self.notify(summary, severity="warning" if report.errors else "information", markup=False)
        self.refresh_sources()

    # --- navigation ----------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # the footer leaves out the key of the screen already shown (room at 80 columns)
        return not (action == "show_mode" and parameters and parameters[0] == self.current_mode)

    async def action_show_mode(self, mode: str) -> None:
        if self.current_mode != mode:
            await self.switch_mode(mode)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def open_document(self, view: SourceView) -> None:
        self.push_screen(DocumentScreen(view))

    async def _mode_screen(self, mode: str) -> Any:
        await self.action_show_mode(mode)
        return self.screen_stack[0]

    async def action_new_chat(self) -> None:
        chat = await self._mode_screen("chat")
        await chat.action_new_chat()

    async def ask_question(self, question: str) -> None:
        chat = await self._mode_screen("chat")
        chat.submit(question)

    async def search_for(self, query: str) -> None:
        search = await self._mode_screen("search")
        search.search_for(query)

    def action_sync_all(self) -> None:
        self.start_sync(None, "all sources")

    async def action_add_source(self) -> None:
        await self.action_show_mode("sources")

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.add_source(str(path))

        self.push_screen(PathPicker(), chosen)

    def resume_conversation(self, conversation_id: int) -> None:
        def work() -> None:
            try:
                turns = self.satchel.conversation_turns(conversation_id)
            except Exception as exc:
                self.call_from_thread(self._notify_error, str(exc), "Cannot open the conversation")
                return
            from_thread(self, self._resume, conversation_id, turns)

        self.run_worker(work, thread=True, group="resume", exit_on_error=False)

    async def _resume(self, conversation_id: int, turns: list[dict[str, Any]]) -> None:
        chat = await self._mode_screen("chat")
        await chat.show_conversation(conversation_id, turns)


if TYPE_CHECKING:
    # the screens reach the app as a SatchelHost (host.py): mypy holds the app to it
    _host: type[SatchelHost] = SatchelApp


def create_app(satchel: Satchel, *, load_model: bool = True) -> SatchelApp:
    """The app the CLI runs and the tests drive."""
    return SatchelApp(satchel, load_model=load_model)
