"""The answer queue and the background register (assistant/cpu_budget.py): order,
pauses, and tickets of killed processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.backends.embedder import SentenceTransformerEmbedder
from assistant.backends.llm import GenerationStats
from assistant.cpu_budget import PAUSED, CpuBudget, _live_tickets
from assistant.settings import load_settings
from assistant.tui.chat import token_rate
from tests.conftest import REPO

HOLD_TURN = """
import sys, time
from pathlib import Path
from assistant.cpu_budget import CpuBudget
budget = CpuBudget(Path(sys.argv[1]))
with getattr(budget, sys.argv[2])(*sys.argv[3:]):
    print("held", flush=True)
    time.sleep(600)
"""


def hold_in_child(run_dir: Path, method: str, *args: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD_TURN, str(run_dir), method, *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    return child


def test_answers_take_turns_oldest_first(tmp_path: Path) -> None:
    budget = CpuBudget(tmp_path / "run")
    order: list[int] = []
    inside = threading.Lock()
    overlaps: list[int] = []

    def answer(n: int) -> None:
        with budget.answer_turn():
            if not inside.acquire(blocking=False):
                overlaps.append(n)
                return
            order.append(n)
            time.sleep(0.15)
            inside.release()

    threads = []
    for n in range(4):
        thread = threading.Thread(target=answer, args=(n,))
        thread.start()
        threads.append(thread)
        time.sleep(0.03)  # taken in this order
    for thread in threads:
        thread.join(10)
    assert overlaps == []
    assert order == [0, 1, 2, 3]
    assert not list((tmp_path / "run" / "answers").iterdir())


def test_a_waiting_answer_says_how_many_are_ahead(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    child = hold_in_child(run_dir, "answer_turn")
    heard: list[str] = []
    try:
        done = threading.Event()

        def ask() -> None:
            with CpuBudget(run_dir).answer_turn(on_status=heard.append) as report:
                assert report.answers_ahead == 1
            done.set()

        thread = threading.Thread(target=ask)
        thread.start()
        time.sleep(0.5)
        assert not done.is_set(), "the second answer ran beside the first"
        assert heard == ["waiting for another answer (1 ahead)"]
    finally:
        child.kill()
        child.wait()
    thread.join(5)
    assert done.is_set()


def test_a_killed_answer_never_blocks_the_queue(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    child = hold_in_child(run_dir, "answer_turn")
    assert len(_live_tickets(run_dir / "answers")) == 1
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    started = time.perf_counter()
    with CpuBudget(run_dir).answer_turn() as report:
        assert report.answers_ahead == 0
    assert time.perf_counter() - started < 1.0
    assert not list((run_dir / "answers").iterdir()), "the dead holder's ticket was left behind"


def test_a_killed_background_job_does_not_hold_answers(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    child = hold_in_child(run_dir, "background_turn", "indexing")
    assert CpuBudget(run_dir).background_work() == [("indexing", "running")]
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    started = time.perf_counter()
    with CpuBudget(run_dir).answer_turn() as report:
        assert not report.paused_background
    assert time.perf_counter() - started < 1.0


def test_background_work_pauses_while_an_answer_runs(tmp_path: Path) -> None:
    budget = CpuBudget(tmp_path / "run")
    steps: list[float] = []
    stop = threading.Event()

    def index() -> None:
        with budget.background_turn("indexing") as work:
            while not stop.is_set():
                work.yield_point()
                steps.append(time.perf_counter())
                time.sleep(0.01)

    worker = threading.Thread(target=index)
    worker.start()
    time.sleep(0.2)
    heard: list[str] = []
    with budget.answer_turn(on_status=heard.append) as report:
        assert report.paused_background == ["indexing"]
        assert budget.background_work() == [("indexing", PAUSED)]
        entered = time.perf_counter()
        time.sleep(0.4)
        left = time.perf_counter()
    time.sleep(0.2)
    stop.set()
    worker.join(5)
    assert heard == ["indexing paused for your answer"]
    assert not [t for t in steps if entered < t < left], "indexing went on during the answer"
    assert [t for t in steps if t > left], "indexing did not resume after the answer"


def test_an_answer_does_not_wait_forever_for_background_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Background work stuck between yield points (a long parse) delays an answer by
    at most PAUSE_WAIT_S."""
    monkeypatch.setattr("assistant.cpu_budget.PAUSE_WAIT_S", 0.3)
    budget = CpuBudget(tmp_path / "run")
    with budget.background_turn("indexing"):
        started = time.perf_counter()
        with budget.answer_turn() as report:
            waited = time.perf_counter() - started
    assert report.paused_background == ["indexing"]
    assert 0.3 <= waited < 1.5


def test_a_home_without_a_run_folder_turns_coordination_off(tmp_path: Path) -> None:
    """Where the run folder cannot be made (a read-only home, here a file in its
    place) answers and background work run without coordination instead of failing."""
    (tmp_path / "run").write_text("not a folder")
    budget = CpuBudget(tmp_path / "run")
    assert not budget.enabled
    with budget.answer_turn() as report, budget.background_turn("indexing") as work:
        work.yield_point()
        assert report.waited_s == 0
    assert budget.answers_pending() == 0


class CountingEmbedder(SentenceTransformerEmbedder):
    """The real batching of SentenceTransformerEmbedder.encode around a stand-in model: each text's
    vector is a function of the text alone."""

    def __init__(self, hook_calls: list[int]) -> None:
        super().__init__(load_settings({"embedding_batch_size": 4}))
        self.batches: list[list[str]] = []
        self.between_batches = lambda: hook_calls.append(len(self.batches))

    def _encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        self.batches.append(list(texts))
        return np.array([[len(t), sum(map(ord, t)) % 97] for t in texts], dtype=np.float32)


def test_a_paused_encode_gives_each_text_its_own_vector() -> None:
    hook_calls: list[int] = []
    embedder = CountingEmbedder(hook_calls)
    texts = [f"text {'x' * (n * 7 % 11)} {n}" for n in range(10)]
    vectors = embedder.encode(texts)
    expected = np.array([[len(t), sum(map(ord, t)) % 97] for t in texts], dtype=np.float32)
    assert np.array_equal(vectors, expected)
    assert hook_calls == [0, 1, 2], "the hook runs before each of the three batches"
    lengths = [len(t) for batch in embedder.batches for t in batch]
    assert lengths == sorted(lengths, reverse=True), "batches are cut longest first, as the model sorts"


def test_token_rate_never_reads_zero_for_a_slow_answer() -> None:
    slow = GenerationStats(model="m", generated_tokens=14, generation_tokens_per_s=0.42)
    assert token_rate(slow) == ", 0.4 tok/s"
    assert token_rate(GenerationStats(model="m", generated_tokens=40, generation_tokens_per_s=43.7)) == ", 44 tok/s"
    assert token_rate(GenerationStats(model="m", generated_tokens=1)) == ""
    whole = GenerationStats(model="m", generated_tokens=3, time_to_first_token_s=1.0, total_s=5.0)
    assert token_rate(whole) == ", 0.5 tok/s"
