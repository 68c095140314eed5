"""Satchel's commands in the command palette (Ctrl+P)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from assistant.tui.host import SatchelHost


class SatchelCommands(Provider):
    def _app(self) -> SatchelHost:
        return cast("SatchelHost", self.app)

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self._app()
        return [
            ("Chat", partial(app.action_show_mode, "chat"), "Ask questions about your data (F2)"),
            ("Search", partial(app.action_show_mode, "search"), "Search as you type, with filters (F3)"),
            ("Sources", partial(app.action_show_mode, "sources"), "Add, remove and sync sources (F4)"),
            ("History", partial(app.action_show_mode, "history"), "Past conversations (F5)"),
            ("New conversation", app.action_new_chat, "Start a fresh chat (Ctrl+N)"),
            ("Sync all sources", app.action_sync_all, "Index what changed in every source"),
            ("Add a source…", app.action_add_source, "Pick a folder or file to index"),
            ("Toggle light / dark theme", app.action_toggle_theme, "Ctrl+T"),
            ("Help: keys and filters", app.action_help, "F1"),
        ]

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
        text = query.strip()
        if len(text) > 2:
            app = self._app()
            yield Hit(
                0.5,
                Content(f"Ask: {text}"),
                partial(app.ask_question, text),
                text=f"Ask: {text}",
                help="Answer it in the chat",
            )
            yield Hit(
                0.4,
                Content(f"Search: {text}"),
                partial(app.search_for, text),
                text=f"Search: {text}",
                help="Search for it",
            )
