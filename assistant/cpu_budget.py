"""One budget of cores across the Satchel processes of a home.

llama.cpp, torch and OpenMP each size their thread pools to every core. Two of them at
once oversubscribe the cores, and llama.cpp's spinning barriers turn a fair share into
a 12-25x slowdown (docs/benchmarks.md, "Answers while other work runs"). So:

- **Answers take turns.** An answer holds a ticket in ``<run>/answers`` for as long
  as it retrieves and generates; tickets are served oldest first, so two front ends
  asking at once get one answer at full speed and then the other, never two crawling.
- **Background work yields to answers.** Indexing, ``watch``, ``reembed`` and the OCR
  pass hold a ticket in ``<run>/background`` and call :meth:`BackgroundWork.yield_point`
  between embedding batches (and between parsed documents and OCR pages): while any
  answer holds or waits for a turn, they pause there and mark their ticket "paused";
  the answer starts once every background ticket says so (or after a bounded wait).

A ticket is a file its holder keeps an ``flock`` on. The kernel drops the lock when the
holder dies, however it dies, so a ticket nobody locks is stale and whoever meets it
removes it: a killed process can never block the others. A ticket is locked under a
temporary name and only then renamed into place, so no reader sees it unlocked.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

# How often waiters look at the tickets again.
POLL_S = 0.05
# Longest an answer waits for background work to reach its next yield point; one
# embedding batch on 2 cores takes about a second.
PAUSE_WAIT_S = 5.0
RUNNING, PAUSED = "running", "paused"

_counter = itertools.count()


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and
    taskset narrow), not every core of the machine."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass
class Ticket:
    path: Path
    fd: int

    def write(self, state: str) -> None:
        with contextlib.suppress(OSError):
            os.pwrite(self.fd, state.ljust(8).encode(), 0)

    def release(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _take_ticket(folder: Path, label: str, state: str) -> Ticket:
    """A new ticket in ``folder``, named so that names sort in the order taken."""
    name = f"{time.time_ns():020d}-{os.getpid()}-{next(_counter)}-{label}"
    temporary = folder / f".{name}"
    fd = os.open(temporary, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.pwrite(fd, state.ljust(8).encode(), 0)
        final = folder / name
        os.rename(temporary, final)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return Ticket(final, fd)


def _live_tickets(folder: Path, own: Path | None = None) -> list[tuple[str, str]]:
    """(name, state) of the tickets in ``folder`` whose holders are alive, oldest
    first; stale ones are removed on the way."""
    try:
        names = sorted(n for n in os.listdir(folder) if not n.startswith("."))
    except OSError:
        return []
    live = []
    for name in names:
        path = folder / name
        if own is not None and path == own:
            live.append((name, RUNNING))
            continue
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue  # released meanwhile
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                live.append((name, os.pread(fd, 8, 0).decode(errors="replace").strip()))
                continue
            with contextlib.suppress(OSError):  # nobody holds it: its holder died
                path.unlink()
        finally:
            os.close(fd)
    return live


class CpuBudget:
    """The answer queue and the background register of one run folder."""

    def __init__(self, run_dir: Path) -> None:
        self.answers = run_dir / "answers"
        self.background = run_dir / "background"
        self.enabled = True
        try:
            # never the home itself: that is made 0700 by Settings.ensure_home
            for folder in (run_dir, self.answers, self.background):
                folder.mkdir(exist_ok=True, mode=0o700)
        except OSError:  # a read-only or missing home: nothing to coordinate with
            self.enabled = False

    def answers_pending(self) -> int:
        """Answers holding or waiting for a turn, in any process."""
        return len(_live_tickets(self.answers)) if self.enabled else 0

    def background_work(self) -> list[tuple[str, str]]:
        """(kind, state) of the background work registered now."""
        if not self.enabled:
            return []
        return [(name.rsplit("-", 1)[-1], state) for name, state in _live_tickets(self.background)]

    @contextlib.contextmanager
    def answer_turn(
        self,
        on_status: Callable[[str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> Iterator[TurnReport]:
        """Wait for this answer's turn, then for background work to pause; hold the
        turn for the block. ``on_status`` hears what is waited for, in words a person
        reads ("waiting for another answer (1 ahead)"); ``should_stop`` ends the wait
        early (the block then runs and should notice the stop itself)."""
        report = TurnReport()
        if not self.enabled:
            yield report
            return
        started = time.perf_counter()
        ticket = _take_ticket(self.answers, "answer", RUNNING)
        try:
            said = ""
            while not (should_stop and should_stop()):
                ahead = [n for n, _ in _live_tickets(self.answers, ticket.path) if n < ticket.path.name]
                if not ahead:
                    break
                report.answers_ahead = max(report.answers_ahead, len(ahead))
                message = f"waiting for another answer ({len(ahead)} ahead)"
                if message != said and on_status is not None:
                    on_status(message)
                said = message
                time.sleep(POLL_S)
            deadline = time.perf_counter() + PAUSE_WAIT_S
            told = False
            while not (should_stop and should_stop()):
                work = self.background_work()
                if not work:
                    break
                report.paused_background = sorted({kind for kind, _ in work})
                if not told and on_status is not None:
                    on_status(f"{', '.join(report.paused_background)} paused for your answer")
                    told = True
                if all(state == PAUSED for _, state in work) or time.perf_counter() > deadline:
                    break
                time.sleep(POLL_S / 2)
            report.waited_s = time.perf_counter() - started
            yield report
        finally:
            ticket.release()

    @contextlib.contextmanager
    def background_turn(self, kind: str) -> Iterator[BackgroundWork]:
        """Register background work of ``kind`` ("indexing", "watch", "reembed",
        "ocr") for the block; it yields to answers at the yield points it reaches."""
        if not self.enabled:
            yield BackgroundWork(self, None)
            return
        ticket = _take_ticket(self.background, kind.replace("-", "_"), RUNNING)
        try:
            yield BackgroundWork(self, ticket)
        finally:
            ticket.release()


@dataclass
class TurnReport:
    """What an answer waited for before it ran."""

    answers_ahead: int = 0
    waited_s: float = 0.0
    paused_background: list[str] | None = None


class BackgroundWork:
    """A background job's handle: call :meth:`yield_point` where pausing is cheap."""

    def __init__(self, budget: CpuBudget, ticket: Ticket | None) -> None:
        self.budget = budget
        self.ticket = ticket
        self.paused_s = 0.0
        self._checked = 0.0
        self._waiting = False

    def _answers_waiting(self) -> bool:
        """Whether an answer holds or waits for a turn, looked up at most every POLL_S
        (the parser thread asks per document)."""
        now = time.perf_counter()
        if now - self._checked >= POLL_S:
            self._checked = now
            self._waiting = self.budget.answers_pending() > 0
        return self._waiting

    def yield_point(self, *, marks_paused: bool = True) -> None:
        """Return at once while no answer wants the cores; otherwise wait until no
        answer holds or waits for a turn. The embedding loop marks the ticket paused
        while it waits, which is what an answer waits for; a helper thread (the
        parser) passes ``marks_paused=False`` and only stops its own work."""
        if self.ticket is None or not self._answers_waiting():
            return
        started = time.perf_counter()
        if marks_paused:
            self.ticket.write(PAUSED)
        try:
            while self.budget.answers_pending():
                time.sleep(POLL_S)
        finally:
            if marks_paused:
                self.ticket.write(RUNNING)
                self.paused_s += time.perf_counter() - started
            self._checked, self._waiting = time.perf_counter(), False
