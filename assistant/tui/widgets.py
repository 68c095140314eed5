"""Widgets the screens share: the source list, the filter chips, the status line."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from assistant.tui.host import satchel_app
from assistant.tui.view import FilterState, SourceView


class SourceList(OptionList):
    """Sources of an answer or search results: kind, title, who, when, where,
    snippet with matches highlighted, cited or not. Enter or a click opens one."""

    class Open(Message):
        def __init__(self, view: SourceView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, empty: str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.views: list[SourceView] = []
        self.empty = empty
        self._rendered_width = 0

    def on_mount(self) -> None:
        self.show_views([])

    def show_views(self, views: list[SourceView], empty: str | None = None) -> None:
        self.views = list(views)
        if empty is not None:
            self.empty = empty
        self.clear_options()
        self._rendered_width = self._option_width()
        roots = [s["path"] for s in satchel_app(self).sources_cache]
        if not views:
            if self.empty:
                self.add_option(Option(Content.styled(self.empty, "$text-muted"), disabled=True))
            return
        options: list[Option | None] = []
        for i, view in enumerate(views):
            if i:
                options.append(None)  # a separator line between sources
            options.append(Option(view.prompt(roots, self._option_width()), id=f"src-{i}"))
        self.add_options(options)
        self.highlighted = 0

    def _option_width(self) -> int:
        # room for a scrollbar whether or not one shows yet
        width = (self.content_region.width or 80) - self.styles.scrollbar_size_vertical
        padding = self.get_component_styles("option-list--option").padding
        return max(20, width - padding.width)

    def on_resize(self) -> None:
        if self.views and self._rendered_width != self._option_width():
            highlighted = self.highlighted
            self.show_views(self.views)
            self.highlighted = highlighted

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id or ""
        if option_id.startswith("src-"):
            self.post_message(self.Open(self.views[int(option_id[4:])]))


class ChipButton(Button):
    def __init__(self, index: int, text: str) -> None:
        super().__init__(Content(f"{text} ✕"), classes="chip", compact=True)
        self.chip_index = index
        self.tooltip = f"remove the filter {text}"


class FilterChips(Horizontal):
    """The active filters as removable chips (click one, or focus it and press Enter)."""

    class Removed(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.chip_index = index

    def __init__(self, state: FilterState, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.state = state

    def compose(self) -> ComposeResult:
        yield Static("filters:", classes="chips-label")

    def refresh_chips(self) -> None:
        self.remove_children(ChipButton)
        chips = self.state.chips
        self.set_class(not chips, "-empty")
        self.mount_all(ChipButton(i, chip.text) for i, chip in enumerate(chips))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if isinstance(event.button, ChipButton):
            event.stop()
            self.state.remove(event.button.chip_index)
            self.refresh_chips()
            self.post_message(self.Removed(event.button.chip_index))

    def on_mount(self) -> None:
        self.refresh_chips()


class StatusLine(Static):
    """One line under every screen: index and model state, and what is running."""

    def on_mount(self) -> None:
        self.watch(self.app, "status_text", self._show)

    def _show(self, text: str) -> None:
        self.update(Content(text))
