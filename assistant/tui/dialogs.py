"""Small modal screens: a yes/no question, a path picker, the help screen."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Input, Static

from connectors.kinds import KINDS

HELP_KEYS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Everywhere",
        [
            ("F1  ?", "this help"),
            ("F2", "chat: ask questions about your data"),
            ("F3", "search as you type, with filters"),
            ("F4", "sources: add, remove, sync; the error list"),
            ("F5", "history: past conversations"),
            ("Ctrl+P", "command palette: Satchel's commands, themes"),
            ("Ctrl+T", "light or dark theme"),
            ("Ctrl+Q", "quit"),
        ],
    ),
    (
        "Chat",
        [
            ("Enter", "ask the question (a follow-up keeps the conversation)"),
            ("Esc", "stop the answer being written"),
            ("Ctrl+N", "new conversation"),
            ("Tab", "move to the sources list"),
            ("1 … 9", "open source n (outside the question box)"),
            ("click [n]", "open the source a citation names"),
        ],
    ),
    (
        "Lists, search, sources, history",
        [
            ("Enter", "open the source or result at the cited passage"),
            ("↓", "from the search box to the results"),
            ("Ctrl+R", "clear the search filters"),
            ("s  Ctrl+Y", "sync the selected source / every source"),
            ("Delete", "remove the selected source (files stay on disk)"),
            ("Ctrl+O", "browse for a folder or file to add"),
            ("Enter", "resume the selected conversation"),
            ("Esc  q", "back from a document or a dialog"),
        ],
    ),
]

HELP_FILTERS = (
    f"Filters, typed in a question or a search: kind:email ({', '.join(KINDS)}), "
    'from:Helena or from:"Helena Duarte", after:2026-04, before:2026-05-01, '
    "source:2 (an id or a folder name). They become chips under the box: "
    "click a chip, or focus it and press Enter, to remove it."
)


def help_content() -> Content:
    lines: list[Content] = [Content.styled("Satchel keys", "bold $text-primary")]
    for section, keys in HELP_KEYS:
        lines.append(Content(""))
        lines.append(Content.styled(section, "bold"))
        for key, what in keys:
            lines.append(Content.assemble((f"  {key:<11}", "bold $text-accent"), what))
    lines.append(Content(""))
    lines.append(Content(HELP_FILTERS))
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q,question_mark", "dismiss_help", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Static(help_content(), id="help-text")

    def on_mount(self) -> None:
        dialog = self.query_one("#help-dialog")
        dialog.border_title = "Help"
        dialog.border_subtitle = "Esc closes"

    def action_dismiss_help(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("escape,n", "answer(False)", "No"),
        Binding("y", "answer(True)", "Yes"),
    ]

    def __init__(self, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Static(Content(self.question), id="confirm-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.yes, id="yes", variant="error")
                yield Button("Cancel", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class PathPicker(ModalScreen[Path | None]):
    """Pick a folder or file to add as a source."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, root: Path | None = None) -> None:
        super().__init__()
        self.root = root or Path.home()
        self.chosen: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-dialog", classes="dialog"):
            yield Static("Pick a folder or file to index (Enter opens a folder).", id="picker-title")
            yield Input(str(self.root), id="picker-root", compact=True)
            yield DirectoryTree(self.root, id="picker-tree")
            yield Static("", id="picker-chosen")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Choose", id="choose", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(DirectoryTree).focus()
        self._choose(self.root)

    def _choose(self, path: Path) -> None:
        self.chosen = path
        self.query_one("#picker-chosen", Static).update(Content(f"chosen: {path}"))

    @on(DirectoryTree.DirectorySelected)
    @on(DirectoryTree.FileSelected)
    def on_tree_selected(self, event: DirectoryTree.DirectorySelected | DirectoryTree.FileSelected) -> None:
        self._choose(event.path)

    def on_tree_node_highlighted(self, event: DirectoryTree.NodeHighlighted[object]) -> None:
        data = event.node.data
        path = getattr(data, "path", None)
        if isinstance(path, Path):
            self._choose(path)

    @on(Input.Submitted, "#picker-root")
    def on_root(self, event: Input.Submitted) -> None:
        root = Path(event.value).expanduser()
        if root.is_dir():
            self.query_one(DirectoryTree).path = root
            self._choose(root)
        else:
            self.notify(f"{root} is not a folder", severity="warning", markup=False)

    @on(Button.Pressed, "#choose")
    def on_choose(self) -> None:
        self.dismiss(self.chosen)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
