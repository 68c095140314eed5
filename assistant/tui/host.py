"""The running app as the screens see it, and the one way they call the core.

The app (``assistant/tui/app.py``) imports every screen to list them in ``MODES``;
the screens, the widgets and the command palette reach the core and the app's shared
state through the app. They type that reach against :class:`SatchelHost` instead of
the app class, so the imports go one way (app → screens → host), and app.py has mypy
check that the app is a :class:`SatchelHost`.

Every call into the core runs in a thread worker inside :class:`CoreCall`: a
:class:`SatchelError` (which says what to do) is reported, anything else is logged
and reported as an unexpected error, and the app keeps running.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, cast

from textual.dom import DOMNode

from assistant.errors import SatchelError

if TYPE_CHECKING:
    from assistant.core import Satchel
    from assistant.tui.view import SourceView


class SatchelHost(Protocol):
    """What screens, widgets and commands ask of the app, beyond Textual's ``App``
    (reach that through ``node.app``)."""

    satchel: Satchel
    sources_cache: list[dict[str, Any]]

    def _set_state(self, **states: str) -> None: ...
    def usage_state(self) -> str: ...
    def add_source(self, path: str) -> bool: ...
    def remove_source(self, source: dict[str, Any]) -> None: ...
    def start_sync(self, source_ids: list[int] | None, label: str) -> None: ...
    def open_document(self, view: SourceView) -> None: ...
    def resume_conversation(self, conversation_id: int) -> None: ...
    async def action_show_mode(self, mode: str) -> None: ...
    async def action_new_chat(self) -> None: ...
    def action_sync_all(self) -> None: ...
    async def action_add_source(self) -> None: ...
    def action_toggle_theme(self) -> None: ...
    def action_help(self) -> None: ...
    async def ask_question(self, question: str) -> None: ...
    async def search_for(self, query: str) -> None: ...


def satchel_app(node: DOMNode) -> SatchelHost:
    """The running app, typed (screens and widgets reach the core through it)."""
    return cast("SatchelHost", node.app)


def from_thread(node: DOMNode, callback: Callable[..., Any], *args: Any) -> Any:
    """``App.call_from_thread`` for sync and async callbacks alike (its typing
    cannot be solved by mypy for a coroutine function)."""
    return node.app.call_from_thread(callback, *args)


class CoreCall:
    """Around a call into the core in a worker thread; ``failed`` tells whether it
    raised. A :class:`SatchelError`'s message goes to ``report`` on the app's thread;
    anything else is logged as "<what> failed" and goes to ``report`` as "unexpected
    error: …" (only logged with ``report_unexpected=False``, all logged without a
    ``report``). Exceptions in ``quiet`` end the call silently::

        with CoreCall(self, "search", self._search_failed) as call:
            outcome = satchel.search(query)
        if call.failed:
            return
    """

    def __init__(
        self,
        node: DOMNode,
        what: str,
        report: Callable[[str], object] | None = None,
        *,
        report_unexpected: bool = True,
        quiet: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.node = node
        self.what = what
        self.report = report
        self.report_unexpected = report_unexpected
        self.quiet = quiet
        self.failed = False

    def __enter__(self) -> CoreCall:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> bool:
        if exc is None:
            return False
        if not isinstance(exc, Exception):
            return False  # KeyboardInterrupt, SystemExit: not ours to swallow
        self.failed = True
        if isinstance(exc, self.quiet):
            return True
        if isinstance(exc, SatchelError) and self.report is not None:
            from_thread(self.node, self.report, str(exc))
            return True
        # the app keeps running whatever the core does
        self.node.app.log.error(f"{self.what} failed: {exc!r}")
        if self.report is not None and self.report_unexpected:
            from_thread(self.node, self.report, f"unexpected error: {exc}")
        return True
