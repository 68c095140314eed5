"""The Textual app: snapshots of the main screens and Pilot tests that use it as a
person would. A store built from data/sample with the fake embedder, and a fake
model that streams a canned answer with citations, keep these fast and
deterministic; tests/test_tui.py::test_tmux_demo drives the real thing."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Markdown, Select, Static

from assistant.core import Satchel
from assistant.errors import ModelError
from assistant.tui.app import SatchelApp, create_app
from assistant.tui.chat import ChatScreen, Turn
from assistant.tui.dialogs import HelpScreen, PathPicker
from assistant.tui.search import SearchScreen
from assistant.tui.sources import SourcesScreen
from assistant.tui.view import (
    FilterState,
    SourceView,
    lift_filters,
    linkify_citations,
    snippet_content,
    wrap_content,
)
from assistant.tui.viewer import DocumentScreen, split_document
from assistant.tui.widgets import ChipButton, SourceList
from tests.conftest import REPO, SAMPLE, link_model

QUESTION = "When is the cabin check-in and what is the door code?"
ANSWER_TOKENS = ["Check-in is ", "from 16:00 ", "on Friday [2]", " and the door ", "code is 4827 [1]."]


class FakeModel:
    """Streams a canned answer; with ``gate`` it waits after the first token until
    the test lets it go on, so a test can see the answer arrive piece by piece."""

    name = "fake-model.gguf"

    def __init__(
        self, tokens: list[str] | None = None, *, gate: threading.Event | None = None, endless: bool = False
    ) -> None:
        self.tokens = tokens or ANSWER_TOKENS
        self.gate = gate
        self.endless = endless
        self.streamed = 0
        self.first_token = threading.Event()

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        stats: Any,
        should_stop: Any = None,
        **options: Any,  # what else the real model takes (words_first, …)
    ) -> Iterator[str]:
        n = 0
        while True:
            piece = self.tokens[n % len(self.tokens)] if self.endless else self.tokens[n]
            n += 1
            self.streamed = n
            stats.generated_tokens = n
            yield piece
            self.first_token.set()
            if self.gate is not None and n == 1:
                assert self.gate.wait(10), "the test never released the model"
            if self.endless:
                time.sleep(0.01)
            if should_stop is not None and should_stop():
                return
            if not self.endless and n >= len(self.tokens):
                return
            if n > 2000:
                return


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


FIXED_TIME = "2026-04-20T09:00:00+00:00"


@pytest.fixture
def satchel(fake_app: Satchel, monkeypatch: pytest.MonkeyPatch) -> Satchel:
    """The sample store, a fake model, no relevance floor (the fake embedder's
    cosines are low), fixed times and paths shown from the repository (as
    ``data/sample``) so that snapshots do not change."""
    monkeypatch.chdir(REPO)
    fake_app.add_source(SAMPLE)
    fake_app.sync()
    fake_app.store.conn.execute("UPDATE sources SET added_at = ?, last_sync = ?", (FIXED_TIME, FIXED_TIME))
    fake_app.settings = dataclasses.replace(fake_app.settings, min_relevance=-1.0)
    fake_app.model = lambda override=None: FakeModel()  # type: ignore[method-assign]
    return fake_app


def use_model(satchel: Satchel, model: Any) -> None:
    satchel.model = lambda override=None: model  # type: ignore[method-assign]


async def settle(pilot: Pilot[Any], delay: float = 0.0) -> None:
    """Let timers fire, workers finish and their results reach the screen."""
    if delay:
        await pilot.pause(delay)
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def steady(app: Any) -> None:
    """No blinking cursors in a snapshot."""
    for box in app.screen.query(Input):
        box.cursor_blink = False


async def ask(pilot: Pilot[Any], question: str = QUESTION) -> None:
    box = pilot.app.screen.query_one("#question", Input)
    box.value = question
    await pilot.press("enter")
    await settle(pilot, 0.1)


async def open_search(pilot: Pilot[Any]) -> SearchScreen:
    """From the start screen to the search screen (F3)."""
    await settle(pilot)
    await pilot.press("f3")
    await settle(pilot)
    search = pilot.app.screen
    assert isinstance(search, SearchScreen)
    return search


def answer_texts(app: Any) -> list[str]:
    return [turn.answer_view.source for turn in app.screen.query(Turn)]


def notifications(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


# --- snapshots ----------------------------------------------------------------------
SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_snapshot_chat_after_answer(satchel: Satchel, snap_compare: Any, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await ask(pilot)
        steady(pilot.app)

    assert snap_compare(create_app(satchel), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_snapshot_search_with_results(satchel: Satchel, snap_compare: Any, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press(*"kind:email door code")
        await settle(pilot, 0.5)
        steady(pilot.app)

    assert snap_compare(create_app(satchel), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_snapshot_sources(satchel: Satchel, snap_compare: Any, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        steady(pilot.app)

    assert snap_compare(create_app(satchel), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_snapshot_help(satchel: Satchel, snap_compare: Any, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        steady(pilot.app)

    assert snap_compare(create_app(satchel), terminal_size=size, run_before=run_before)


# --- chat ----------------------------------------------------------------------------
@pytest.mark.anyio
async def test_question_streams_an_answer_with_citations(satchel: Satchel) -> None:
    gate = threading.Event()
    model = FakeModel(gate=gate)
    use_model(satchel, model)
    app = create_app(satchel)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        documents = satchel.sources()[0]["documents"]
        assert "model ready" in app.status_text and f"{documents} documents in 1 source" in app.status_text
        assert isinstance(app.screen, ChatScreen) and app.focused is app.screen.query_one("#question")
        await pilot.press(*"door code?")
        await pilot.press("enter")
        # the first token shows while the model is still generating
        assert model.first_token.wait(10)
        for _ in range(50):
            await pilot.pause(0.02)
            if "Check-in" in answer_texts(app)[-1]:
                break
        screen = app.screen
        assert isinstance(screen, ChatScreen) and screen.answering
        assert answer_texts(app)[-1].startswith("Check-in is")
        assert "4827" not in answer_texts(app)[-1]
        gate.set()
        await settle(pilot, 0.1)
        assert not screen.answering
        final = answer_texts(app)[-1]
        assert "4827" in final
        # citations became links to their sources
        assert "[\\[1\\]](source:1)" in final and "[\\[2\\]](source:2)" in final
        sources = screen.query_one("#sources", SourceList)
        assert [v.n for v in sources.views] == list(range(1, len(sources.views) + 1))
        assert sum(1 for v in sources.views if v.cited) == 2
        assert "2 of" in str(screen.query_one("#sources-title", Static).render())
        note = screen.query_one(".turn-note", Static)
        assert "sources cited" in str(note.render())
    conversations = satchel.conversations()
    assert len(conversations) == 1 and conversations[0]["title"] == "door code?"


@pytest.mark.anyio
async def test_an_answer_waiting_for_its_turn_says_so(satchel: Satchel) -> None:
    """Another process's answer holds the cores: the turn's note says this one waits,
    and it answers once the other is done (assistant/cpu_budget.py)."""
    from assistant.cpu_budget import CpuBudget

    holding, release = threading.Event(), threading.Event()

    def other_answer() -> None:
        with CpuBudget(satchel.settings.run_dir).answer_turn():
            holding.set()
            release.wait(10)

    other = threading.Thread(target=other_answer)
    other.start()
    assert holding.wait(5)
    app = create_app(satchel)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press(*"door code?", "enter")
            chat = app.screen
            assert isinstance(chat, ChatScreen)
            note = ""
            for _ in range(100):
                await pilot.pause(0.02)
                note = str(chat.query_one(".turn-note", Static).render())
                if "waiting" in note:
                    break
            assert "waiting for another answer (1 ahead)" in note
            assert chat.answering and not answer_texts(app)[-1]
            release.set()
            await settle(pilot, 0.2)
            assert not chat.answering and "4827" in answer_texts(app)[-1]
    finally:
        release.set()
        other.join(5)


@pytest.mark.anyio
async def test_open_a_cited_source_by_key_and_by_citation(satchel: Satchel) -> None:
    app = create_app(satchel)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot)
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        first = chat.current_sources[0]
        await pilot.press("tab")  # to the sources list, where digits open sources
        assert isinstance(app.focused, SourceList)
        await pilot.press("1")
        await settle(pilot)
        viewer = app.screen
        assert isinstance(viewer, DocumentScreen) and viewer.view == first
        cited = viewer.query_one("#doc-cited", Static)
        assert cited.display
        document = satchel.document(first.document_id)
        assert document is not None
        chunk = next(c for c in document["chunks"] if c["id"] == first.chunk_id)
        assert str(cited.render()).strip() == chunk["text"].strip()
        head = str(viewer.query_one("#doc-head", Static).render())
        assert (first.title or "") in head
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is chat
        # a citation in the answer is a link to its source
        answer = chat.query_one(Turn).answer_view
        answer.post_message(Markdown.LinkClicked(answer, "source:2"))
        await settle(pilot)
        assert isinstance(app.screen, DocumentScreen) and app.screen.view == chat.current_sources[1]
        await pilot.press("q")
        await settle(pilot)
        # Enter on a highlighted source opens it too
        chat.query_one(SourceList).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DocumentScreen) and app.screen.view == chat.current_sources[0]


@pytest.mark.anyio
async def test_escape_stops_an_answer(satchel: Satchel) -> None:
    model = FakeModel(endless=True)
    use_model(satchel, model)
    app = create_app(satchel)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"door code", "enter")
        assert model.first_token.wait(10)
        await pilot.pause(0.1)
        chat = app.screen
        assert isinstance(chat, ChatScreen) and chat.answering
        await pilot.press("escape")
        await settle(pilot, 0.1)
        assert not chat.answering
        assert model.streamed < 2000  # stopped long before the model would have
        assert "stopped" in str(chat.query_one(".turn-note", Static).render())
        assert answer_texts(app)[-1].startswith("Check-in is")
        # and the app goes on answering
        use_model(satchel, FakeModel())
        await ask(pilot, "and the door code?")
        assert "4827" in answer_texts(app)[-1]


@pytest.mark.anyio
async def test_filters_in_a_question_become_chips(satchel: Satchel) -> None:
    app = create_app(satchel)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, "kind:email door code")
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        assert [c.text for c in chat.filter_state.chips] == ["kind:email"]
        assert {v.kind for v in chat.current_sources} == {"email"}
        assert "You door code" in str(chat.query(".question").last().render())
        # clicking the chip removes the filter
        await pilot.click(ChipButton)
        await settle(pilot)
        assert chat.filter_state.chips == []


@pytest.mark.anyio
async def test_a_failure_is_a_notification_and_the_app_goes_on(satchel: Satchel) -> None:
    def broken(override: str | None = None) -> Any:
        raise ModelError("model file /nowhere.gguf does not exist (set SATCHEL_LLM_MODEL)")

    satchel.model = broken  # type: ignore[method-assign]
    app = create_app(satchel)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "no model" in app.status_text
        await ask(pilot)
        assert app.is_running
        assert any("does not exist" in n for n in notifications(app))
        chat = app.screen
        assert isinstance(chat, ChatScreen) and not chat.answering
        assert "failed" in str(chat.query_one(".turn-note", Static).render())
        # search still works
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press(*"door code", "enter")
        await settle(pilot)
        assert app.screen.query_one("#results", SourceList).views


@pytest.mark.anyio
async def test_history_resumes_a_conversation(satchel: Satchel) -> None:
    app = create_app(satchel)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot)
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        first_id = chat.conversation_id
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert chat.conversation_id is None and not chat.query(Turn)
        await pilot.press("f5")
        await settle(pilot)
        table = app.screen.query_one("#history-table", DataTable)
        assert table.row_count == 1
        preview = app.screen.query_one("#history-preview", Markdown)
        assert "4827" in preview.source
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is chat and chat.conversation_id == first_id
        assert len(chat.query(Turn)) == 1 and chat.current_sources
        await ask(pilot, "and when is check-out?")
        assert chat.conversation_id == first_id
    assert len(satchel.conversation_turns(first_id)) == 2


# --- search --------------------------------------------------------------------------
@pytest.mark.anyio
async def test_search_as_you_type_with_filters(satchel: Satchel) -> None:
    app = create_app(satchel)
    async with app.run_test(size=(100, 30)) as pilot:
        search = await open_search(pilot)
        await pilot.press(*"check-in")
        await settle(pilot, 0.5)  # debounced: results come after a pause in typing
        results = search.query_one("#results", SourceList)
        assert {v.kind for v in results.views} >= {"chat", "email"}
        # a filter typed into the box becomes a chip, and the results follow it
        search.query_one("#search-query", Input).value = "kind:chat check-in"
        await pilot.press("end", "space")
        await settle(pilot, 0.5)
        assert [c.text for c in search.filter_state.chips] == ["kind:chat"]
        assert search.query_one("#search-query", Input).value.strip() == "check-in"
        assert results.views and {v.kind for v in results.views} == {"chat"}
        # the filter bar adds chips too: a person, and a date range
        search.query_one("#person-filter", Input).value = "Helena"
        search.query_one("#person-filter", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert not results.views  # Helena is not in the Cabin Crew chat
        await pilot.click("ChipButton")  # remove kind:chat
        await settle(pilot)
        assert [c.text for c in search.filter_state.chips] == ["person:Helena"]
        assert results.views and {v.kind for v in results.views} == {"email"}
        search.query_one("#kind-filter", Select).value = "note"
        await settle(pilot)
        assert [c.text for c in search.filter_state.chips] == ["person:Helena", "kind:note"]
        assert not results.views
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert search.filter_state.chips == [] and results.views
        # a bad date is a notification, not a crash
        search.query_one("#after-filter", Input).value = "someday"
        search.query_one("#after-filter", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert any("not a date" in n for n in notifications(app))
        # Enter on a result opens the document
        results.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DocumentScreen)


# --- sources -------------------------------------------------------------------------
@pytest.mark.anyio
async def test_add_a_source_and_resync_it(satchel: Satchel, tmp_path: Path) -> None:
    folder = tmp_path / "boat-notes"
    folder.mkdir()
    note = folder / "boat.md"
    note.write_text("# The boat\n\nThe sailing boat is called Gaivota and is moored at pier 7.\n")
    documents = satchel.sources()[0]["documents"]
    app = create_app(satchel)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SourcesScreen)
        table = screen.query_one("#sources-table", DataTable)
        assert table.row_count == 1
        box = screen.query_one("#path-input", Input)
        box.value = str(folder)
        box.focus()
        await pilot.press("enter")
        await settle(pilot, 0.2)
        await settle(pilot)
        assert table.row_count == 2
        added = next(s for s in satchel.sources() if s["path"] == str(folder))
        assert added["documents"] == 1 and added["last_sync"]
        assert "1 added" in app.sync_text
        assert f"{documents + 1} documents in 2 sources" in app.status_text
        assert satchel.search("Gaivota").results[0].title == "The boat"
        # change the file, re-sync that one source from the table
        note.write_text("# The boat\n\nThe sailing boat is called Andorinha now, at pier 9.\n")
        os.utime(note, (time.time() + 5, time.time() + 5))
        table.focus()
        table.move_cursor(row=table.get_row_index(str(added["id"])))
        await pilot.press("s")
        await settle(pilot, 0.2)
        await settle(pilot)
        assert "boat-notes: 0 added, 1 updated" in app.sync_text
        assert "Andorinha" in satchel.search("Andorinha boat").results[0].text
        # sync all
        await pilot.click("#sync-all")
        await settle(pilot, 0.2)
        await settle(pilot)
        assert "all sources" in app.sync_text and f"{documents + 1} unchanged" in app.sync_text
        # remove it (after confirming)
        table.focus()
        await pilot.press("delete")
        await settle(pilot)
        await pilot.click("#yes")
        await settle(pilot, 0.2)
        await settle(pilot)
        assert table.row_count == 1
        assert [s["path"] for s in satchel.sources()] == [str(SAMPLE)]


@pytest.mark.anyio
async def test_path_picker_fills_the_path(satchel: Satchel, tmp_path: Path) -> None:
    (tmp_path / "letters").mkdir()
    app = create_app(satchel)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        sources = app.screen
        # (the folder tree loads in a worker that lives as long as the tree: pause,
        # not settle, while the picker is open)
        await pilot.press("ctrl+o")
        await pilot.pause(0.3)
        assert isinstance(app.screen, PathPicker)
        root = app.screen.query_one("#picker-root", Input)
        root.value = str(tmp_path / "letters")
        root.focus()
        await pilot.press("enter")
        await pilot.pause(0.3)
        await pilot.click("#choose")
        await pilot.pause(0.3)
        assert app.screen is sources
        assert sources.query_one("#path-input", Input).value == str(tmp_path / "letters")


@pytest.mark.anyio
async def test_palette_asks_a_question(satchel: Satchel) -> None:
    app = create_app(satchel)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"door code [x]")
        await settle(pilot, 0.5)
        await pilot.press("enter")
        await settle(pilot, 0.2)
        await settle(pilot, 0.2)
        assert app.current_mode == "chat"
        assert "4827" in answer_texts(app)[-1]


@pytest.mark.anyio
async def test_adding_a_missing_path_is_a_notification(satchel: Satchel, tmp_path: Path) -> None:
    app = create_app(satchel)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        box = app.screen.query_one("#path-input", Input)
        box.value = str(tmp_path / "nowhere")
        box.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert any("no such file or folder" in n for n in notifications(app))
        assert app.is_running and not app.syncing


# --- app -----------------------------------------------------------------------------
@pytest.mark.anyio
async def test_keys_palette_help_and_theme(satchel: Satchel) -> None:
    app = create_app(satchel)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key, mode in (("f3", "search"), ("f4", "sources"), ("f5", "history"), ("f2", "chat")):
            await pilot.press(key)
            await settle(pilot)
            assert app.current_mode == mode
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ChatScreen)
        dark = app.current_theme.dark
        await pilot.press("ctrl+t")
        assert app.current_theme.dark is not dark
        # the command palette knows Satchel's commands
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"sources")
        await settle(pilot, 0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "sources"


@pytest.mark.anyio
async def test_an_empty_store_says_how_to_start(fake_app: Satchel) -> None:
    app = create_app(fake_app, load_model=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "no sources yet" in app.status_text


def test_create_app_does_no_work(satchel_home: Path) -> None:
    from assistant.settings import load_settings

    app = create_app(Satchel(load_settings()))
    assert isinstance(app, SatchelApp)
    assert not satchel_home.exists()  # no store, no folder until the app runs


# --- pure helpers --------------------------------------------------------------------
def test_lift_filters() -> None:
    state = FilterState()
    left, problems = lift_filters('kind:mail from:"Helena Duarte" when is check-in? after:2026-04', state, [])
    assert left == "when is check-in?" and problems == []
    assert [c.text for c in state.chips] == ["kind:email", "person:Helena Duarte", "after:2026-04"]
    filters = state.filters()
    assert filters.kinds == ["email"] and filters.persons == ["Helena Duarte"]
    assert filters.after is not None and filters.after.isoformat().startswith("2026-04-01")
    # still typing: an unfinished token stays in the box
    state = FilterState()
    left, _ = lift_filters("door kind:ch", state, [], complete_only=True)
    assert left == "door kind:ch" and not state.chips
    left, problems = lift_filters("kind:spaceship source:9 door", state, [{"id": 1, "path": "/x/sample"}])
    assert left == "door" and len(problems) == 2 and not state.chips
    lift_filters("source:sample x", state, [{"id": 1, "path": "/x/sample"}])
    assert state.filters().sources == [1]


def test_citations_snippets_and_wrapping() -> None:
    assert (
        linkify_citations("at 16:00 [1][2], see [a](b)")
        == "at 16:00 [\\[1\\]](source:1)[\\[2\\]](source:2), see [a](b)"
    )
    content = snippet_content("…the **door** **code** is 4827")
    assert content.plain == "…the door code is 4827"
    assert [s.style for s in content.spans] == ["bold $text-accent", "bold $text-accent"]
    lines = wrap_content(snippet_content("word " * 40), 20, 3)
    assert len(lines) == 3 and all(len(line.plain) <= 20 for line in lines)
    assert lines[-1].plain.endswith("…")


def test_document_split_at_the_passage() -> None:
    text = "From: A\nSubject: B\n\nHello,\nthe code is 4827.\nBye"
    assert split_document(text, "the code is 4827.") == (
        "From: A\nSubject: B\n\nHello,\n",
        "the code is 4827.",
        "\nBye",
    )
    # whitespace may differ between a chunk and its document
    before, cited, after = split_document(text, "Hello, the code is 4827.")
    assert cited.startswith("Hello,") and cited.endswith("4827.")
    assert split_document(text, "not there") == ("", "", text)


def test_source_view_from_a_stored_turn() -> None:
    view = SourceView.from_json(
        {
            "n": 2,
            "cited": True,
            "chunk_id": 5,
            "document_id": 3,
            "kind": "email",
            "title": "Hi",
            "author": "Helena Duarte <h@x>",
            "timestamp": "2026-04-10T10:00:00+00:00",
            "source": "/s/mail/inbox.mbox",
            "locator": "message <a@b>",
            "snippet": "x",
        }
    )
    assert view.who() == "Helena Duarte" and view.when() == "2026-04-10" and view.where() == ""
    prompt = view.prompt(["/s"], 60).plain.splitlines()
    assert prompt[0] == "●2 ✉ Hi" and prompt[1].strip() == "Helena Duarte · 2026-04-10 · mail/inbox.mbox"


# --- tmux: the real app, the real embedder and model, driven like a person -----------
@pytest.mark.integration
def test_tmux_demo(tmp_path: Path, model_cache: Path) -> None:
    """scripts/tmux_demo.sh launches `satchel tui` in tmux on a store built from
    data/sample, types the sample question, and prints the screen."""
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: apt-get install -y tmux")
    home = tmp_path / "home"
    link_model(home, model_cache)
    env = dict(os.environ, SATCHEL_HOME=str(home), HF_HUB_OFFLINE="1")
    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / "tmux_demo.sh")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )
    screen = proc.stdout
    assert proc.returncode == 0, proc.stderr + screen
    assert QUESTION in screen
    assert "sources cited" in screen  # the answer finished and has its sources listed
    assert "check-in" in screen.lower()  # in the answer or the sources' snippets
    assert "Sources ·" in screen and "●" in screen  # at least one cited source
    assert "source 1" in screen  # the document viewer opened at source 1


@pytest.mark.anyio
async def test_filters_said_in_words_become_removable_chips(satchel: Satchel) -> None:
    app = create_app(satchel)
    async with app.run_test(size=(100, 30)) as pilot:
        search = await open_search(pilot)
        box = search.query_one("#search-query", Input)
        box.value = "emails from Helena about the door code"
        box.focus()
        await pilot.press("enter")
        await settle(pilot, 0.5)
        chips = [c.text for c in search.filter_state.chips]
        assert "kind:email" in chips and any(c.startswith("person:helena") for c in chips)
        assert "helena" not in box.value.lower() and "door code" in box.value
        results = search.query_one("#results", SourceList)
        assert results.views and {v.kind for v in results.views} == {"email"}
        # removable like any chip: the results follow
        await pilot.click("ChipButton")
        await settle(pilot)
        assert "kind:email" not in [c.text for c in search.filter_state.chips]
