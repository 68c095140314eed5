"""The usage ledger (docs/usage.md): a row for every answer, from the CLI, the TUI,
MCP and evaluation runs, each marked; energy from RAPL on a fake sysfs tree, from
NVML through a fake ``pynvml``, and the estimate where there is neither; the JSON
contract of `satchel usage`; `forget` and `encrypt` covering the ledger.

A fake embedder and a fake model that fills the token meter like the real one keep
these fast; tests/test_integration.py checks a real answer's row through the GGUF."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import sys
import time
import types
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from assistant.answer import usage
from assistant.answer.energy import EnergyMeter, rapl_zones
from assistant.cli.app import build_parser, dispatch
from assistant.core import Satchel
from assistant.errors import SatchelError, StoreError
from assistant.ops.encryption import encrypt_store
from assistant.ops.forget import forget
from assistant.settings import load_settings
from assistant.store import crypto
from assistant.store import usage as store_usage
from assistant.store.usage import UsageRow
from tests.conftest import SAMPLE, FakeEmbedder

QUESTION = "When is the cabin check-in and what is the door code?"
MODEL_BYTES = 4096


class MeteredModel:
    """Streams a canned answer and fills the token meter as LocalModel does; each
    stream can run a side effect (advance a fake RAPL counter, burn CPU)."""

    def __init__(self, path: Path, side_effect: Any = None) -> None:
        self.path = path
        self.side_effect = side_effect

    @property
    def name(self) -> str:
        return self.path.name

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(
        self, messages: Any, *, max_tokens: int, temperature: float, stats: Any, **options: Any
    ) -> Iterator[str]:
        if self.side_effect is not None:
            self.side_effect()
        stats.prompt_tokens = 600
        stats.prompt_tokens_evaluated = 450
        stats.time_to_first_token_s = 1.5
        stats.generated_tokens = 41
        stats.total_s = 1.5 + 4.0
        stats.generation_tokens_per_s = 40 / 4.0
        yield from ["Check-in is from 16:00 on Friday [2]", " and the door code is 4827 [1]."]


def make_app(home: Path, model: MeteredModel | None = None, **overrides: Any) -> Satchel:
    settings = load_settings({"home": str(home), "rapl_path": str(home / "no-rapl"), **overrides})
    app = Satchel(settings, embedder=FakeEmbedder(), chat_model=model)
    return app


@pytest.fixture
def gguf(tmp_path: Path) -> Path:
    path = tmp_path / "models" / "ledger-canary-model.gguf"
    path.parent.mkdir()
    path.write_bytes(b"GGUF" + bytes(MODEL_BYTES - 4))
    return path


@pytest.fixture
def app(satchel_home: Path, gguf: Path) -> Iterator[Satchel]:
    """The sample store with a metered fake model and no relevance floor."""
    app = make_app(satchel_home, MeteredModel(gguf))
    app.add_source(SAMPLE)
    app.sync()
    app.settings = dataclasses.replace(app.settings, min_relevance=-1.0)
    yield app
    app.close()


def ledger(app: Satchel) -> list[UsageRow]:
    return store_usage.rows(app.store.conn)


def cli(app: Satchel, *argv: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert dispatch(app, build_parser().parse_args(list(argv))) == 0
    return capsys.readouterr().out


# --- rows for every answer ------------------------------------------------------------------
def test_a_cli_answer_writes_a_row_tied_to_its_stored_turn(app: Satchel, capsys: pytest.CaptureFixture[str]) -> None:
    cli(app, "ask", QUESTION, "--json", capsys=capsys)
    [row] = ledger(app)
    assert (row.origin, row.model, row.backend) == ("cli", "ledger-canary-model.gguf", "local")
    assert (row.prompt_tokens, row.evaluated_tokens, row.generated_tokens) == (600, 450, 41)
    assert row.prompt_s == 1.5 and row.generation_s == pytest.approx(4.0) and row.retrieval_s > 0
    assert row.model_bytes == MODEL_BYTES
    # no RAPL at the configured path: the documented estimate, and it says so
    assert row.energy_method == "estimate" and row.energy_measured is False
    assert row.energy_j == pytest.approx(app.settings.cpu_watts * row.cpu_s)
    turn = app.store.scalar("SELECT max(id) FROM turns")
    assert row.turn_id == turn
    # the answer's own meter keeps its figures
    stats = json.loads(app.store.scalar("SELECT stats FROM turns WHERE id = ?", (turn,)))
    assert stats["generated_tokens"] == 41 and "energy" not in json.dumps(stats)


def test_compare_writes_a_row_per_model(
    app: Satchel, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("assistant.core.get_model", lambda settings, override=None: app.model())  # other.gguf too
    cli(app, "ask", QUESTION, "--compare", "other.gguf", "--json", capsys=capsys)
    assert [r.origin for r in ledger(app)] == ["cli", "cli"]


def test_a_declined_question_costs_no_tokens_and_writes_no_row(app: Satchel) -> None:
    app.settings = dataclasses.replace(app.settings, min_relevance=99.0)
    answer = app.ask("What is the boiling point of nitrogen on Neptune?")
    assert answer.stats is None and ledger(app) == []


def test_the_ledger_setting_turns_it_off(app: Satchel) -> None:
    app.settings = dataclasses.replace(app.settings, usage_ledger=False)
    app.ask(QUESTION)
    assert ledger(app) == []


def test_a_ledger_row_that_cannot_be_written_does_not_lose_the_answer(
    app: Satchel, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(conn: Any, row: UsageRow) -> int:
        raise StoreError("cannot write to the store: the store is read-only")

    monkeypatch.setattr(store_usage, "insert", refuse)
    answer = app.ask(QUESTION, save=False, origin="mcp")
    assert "4827" in answer.answer
    assert "the answer's row was not written" in caplog.text


def test_mcp_and_eval_answers_are_marked(app: Satchel, gguf: Path) -> None:
    from assistant.evaluation.qa import QAItem, run_qa
    from assistant.mcp.scope import Scope, ScopedSatchel
    from assistant.mcp.tools import SatchelTools

    scoped = ScopedSatchel(app.settings, Scope(), embedder=app.embedder, chat_model=MeteredModel(gguf))
    try:
        SatchelTools(scoped).ask(QUESTION)
    finally:
        scoped.close()
    run_qa(app, [QAItem(QUESTION, ["4827"])])
    assert [(r.origin, r.turn_id) for r in ledger(app)] == [("mcp", None), ("eval", None)]
    with pytest.raises(ValueError, match="origin"):
        app.ask(QUESTION, origin="bench")


@pytest.mark.anyio
async def test_a_tui_answer_writes_a_row_and_the_status_line_shows_today(app: Satchel) -> None:
    from textual.widgets import Input

    from assistant.tui.app import create_app

    # an answer of today already in the ledger, from the command line
    app.ask(QUESTION, origin="cli")
    tui = create_app(app)
    async with tui.run_test(size=(120, 30)) as pilot:
        for _ in range(3):
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
        assert "today 641 tokens" in tui.status_text
        tui.screen.query_one("#question", Input).value = "door code?"
        await pilot.press("enter")
        for _ in range(50):
            await pilot.app.workers.wait_for_complete()
            await pilot.pause(0.05)
            if "today 1,282 tokens" in tui.status_text:
                break
        assert "today 1,282 tokens, <0.01 Wh" in tui.status_text, tui.status_text
    rows = ledger(app)
    assert [r.origin for r in rows] == ["cli", "tui"] and rows[1].turn_id is not None


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- energy: the estimate, RAPL, NVML -------------------------------------------------------
def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_the_estimate_where_there_is_no_rapl(satchel_home: Path) -> None:
    settings = load_settings({"home": str(satchel_home), "rapl_path": str(satchel_home / "none"), "cpu_watts": 12})
    assert rapl_zones(settings.rapl_path) == ([], f"no RAPL at {settings.rapl_path}")
    with EnergyMeter(settings) as meter:
        _burn(0.05)
    reading = meter.reading
    assert reading is not None and reading.method == "estimate" and not reading.measured
    assert reading.cpu_seconds >= 0.05 and reading.joules == pytest.approx(12 * reading.cpu_seconds)
    assert any("no RAPL" in note for note in reading.notes)


def rapl_tree(root: Path) -> dict[str, Path]:
    """A powercap tree as Linux lays it out: two packages with sub-zones, and psys."""
    zones = {
        "intel-rapl:0": ("package-0", 1_000_000, 262_143_328_850),
        "intel-rapl:0:0": ("core", 500_000, 262_143_328_850),  # part of package 0
        "intel-rapl:0:1": ("dram", 300_000, 65_712_999_613),
        "intel-rapl:1": ("package-1", 262_143_000_000, 262_143_328_850),  # about to wrap
        "intel-rapl:2": ("psys", 9_000_000, 262_143_328_850),  # the platform: overlaps all
        "intel-rapl-mmio:0": ("package-0", 7_000_000, 262_143_328_850),  # package 0 again, via MMIO
    }
    files = {}
    for zone, (name, energy, wrap) in zones.items():
        folder = root / zone
        folder.mkdir(parents=True)
        (folder / "name").write_text(name + "\n")
        (folder / "energy_uj").write_text(f"{energy}\n")
        (folder / "max_energy_range_uj").write_text(f"{wrap}\n")
        files[zone] = folder / "energy_uj"
    (root / "intel-rapl").symlink_to(root / "intel-rapl:0")  # the control-type entry
    return files


def advance(files: dict[str, Path]) -> None:
    """2.5 J on package 0, 1.5 J on package 1 across its wrap; parts and psys move too."""
    files["intel-rapl:0"].write_text("3500000\n")
    files["intel-rapl:1"].write_text(f"{1_500_000 - (262_143_328_851 - 262_143_000_000)}\n")
    for part in ("intel-rapl:0:0", "intel-rapl:0:1", "intel-rapl:2", "intel-rapl-mmio:0"):
        files[part].write_text("99000000\n")


def test_rapl_on_a_fake_sysfs_tree(satchel_home: Path, tmp_path: Path, gguf: Path) -> None:
    files = rapl_tree(tmp_path / "powercap")
    zones, why = rapl_zones(tmp_path / "powercap")
    assert why == "" and [z.name for z in zones] == ["intel-rapl:0 (package-0)", "intel-rapl:1 (package-1)"]
    app = make_app(satchel_home, MeteredModel(gguf, side_effect=lambda: advance(files)))
    app.settings = dataclasses.replace(app.settings, rapl_path=tmp_path / "powercap", min_relevance=-1.0)
    try:
        app.add_source(SAMPLE)
        app.sync()
        app.ask(QUESTION, origin="cli")
        [row] = ledger(app)
        assert row.energy_method == "rapl" and row.energy_measured is True
        assert row.energy_j == pytest.approx(4.0)
        report = app.usage()
        assert report["energy_meter"]["method"] == "rapl"
        assert report["energy_meter"]["rapl_zones"] == ["intel-rapl:0 (package-0)", "intel-rapl:1 (package-1)"]
        assert report["rows"][0]["energy_measured_answers"] == 1
        assert report["rows"][0]["energy_wh"] == pytest.approx(4.0 / 3600, abs=1e-4)

        # energy_meter = "estimate" leaves RAPL alone
        app.settings = dataclasses.replace(app.settings, energy_meter="estimate")
        app.ask(QUESTION, origin="cli")
        assert ledger(app)[-1].energy_method == "estimate"
    finally:
        app.close()


def test_unreadable_rapl_falls_back_to_the_estimate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rapl_tree(tmp_path / "powercap")
    real = Path.read_text

    def refuse(self: Path, *args: Any, **kwargs: Any) -> str:
        if self.name == "energy_uj":  # mode 0400 root:root since Linux 5.10
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", refuse)
    assert rapl_zones(tmp_path / "powercap") == ([], f"RAPL at {tmp_path / 'powercap'} is readable by root only")
    settings = load_settings({"rapl_path": str(tmp_path / "powercap")})
    with EnergyMeter(settings) as meter:
        pass
    assert meter.reading is not None and meter.reading.method == "estimate"
    assert "readable by root only" in meter.reading.notes[0]


def test_nvml_counts_the_gpu_when_one_is_used(satchel_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counters = [10_000, 50_000]
    fake = types.ModuleType("pynvml")
    fake.nvmlInit = lambda: None  # type: ignore[attr-defined]
    fake.nvmlShutdown = lambda: None  # type: ignore[attr-defined]
    fake.nvmlDeviceGetCount = lambda: 2  # type: ignore[attr-defined]
    fake.nvmlDeviceGetHandleByIndex = lambda i: i  # type: ignore[attr-defined]
    fake.nvmlDeviceGetTotalEnergyConsumption = lambda h: counters[h]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    settings = load_settings({"rapl_path": str(satchel_home / "none"), "cpu_watts": 0})
    with EnergyMeter(settings, gpu=True) as meter:
        counters[0] += 30_000  # mJ: 30 J and 12 J
        counters[1] += 12_000
    reading = meter.reading
    assert reading is not None and reading.method == "estimate+nvml"
    assert reading.gpu_joules == pytest.approx(42.0) and reading.joules == pytest.approx(42.0)

    monkeypatch.setitem(sys.modules, "pynvml", None)  # not installed
    with EnergyMeter(settings, gpu=True) as meter:
        pass
    assert meter.reading is not None and meter.reading.method == "estimate"
    assert any("NVML not available" in n for n in meter.reading.notes)


def test_a_server_answer_counts_the_server_only_with_a_figure(satchel_home: Path) -> None:
    settings = load_settings({"rapl_path": str(satchel_home / "none"), "cpu_watts": 0})
    with EnergyMeter(settings, server=True) as meter:
        meter.server_seconds = 3.0
    assert meter.reading is not None and meter.reading.joules == 0
    assert any("server_watts" in note for note in meter.reading.notes)
    settings = dataclasses.replace(settings, server_watts=200.0)
    with EnergyMeter(settings, server=True) as meter:
        meter.server_seconds = 3.0
    assert meter.reading is not None and meter.reading.method == "estimate+server"
    assert meter.reading.joules == pytest.approx(600.0)


# --- `satchel usage` -------------------------------------------------------------------------
def _row(at: str, model: str = "a.gguf", **values: Any) -> UsageRow:
    base: dict[str, Any] = dict(
        at=at,
        origin="cli",
        model=model,
        backend="local",
        model_bytes=1_000_000_000,
        prompt_tokens=1000,
        evaluated_tokens=800,
        generated_tokens=101,
        retrieval_s=0.1,
        prompt_s=2.0,
        generation_s=10.0,
        energy_j=720.0,
        energy_method="estimate",
        energy_measured=False,
        cpu_s=72.0,
    )
    return UsageRow(**{**base, **values})


def _local_noon(day: str) -> str:
    """A UTC ISO time that falls on ``day`` in this machine's time zone."""
    moment = datetime.fromisoformat(f"{day}T12:00:00").astimezone()
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def test_usage_json_contract(
    satchel_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SATCHEL_MEMORY_BANDWIDTH_GBS", "20")
    monkeypatch.setenv("SATCHEL_ELECTRICITY_PRICE", "0.30")
    monkeypatch.setenv("SATCHEL_CURRENCY", "EUR")
    app = make_app(satchel_home)
    try:
        store = app.store
        with store.transaction():
            store_usage.insert(store.conn, _row(_local_noon("2026-10-03"), origin="eval"))
            store_usage.insert(store.conn, _row(_local_noon("2026-11-02")))
            store_usage.insert(store.conn, _row(_local_noon("2026-11-20"), energy_method="rapl", energy_measured=True))
            store_usage.insert(
                store.conn,
                _row(
                    _local_noon("2026-11-21"), model="big @ http://10.0.0.2:8080/v1", backend="server", model_bytes=None
                ),
            )
        report = json.loads(cli(app, "usage", "--json", capsys=capsys))
        assert set(report) == {
            "since",
            "currency",
            "prices",
            "energy_meter",
            "bandwidth_gbs",
            "bandwidth_source",
            "rows",
            "total",
        }
        assert report["energy_meter"] == {
            "method": "estimate",
            "rapl_zones": [],
            "cpu_watts": 10.0,
            "note": f"no RAPL at {satchel_home / 'no-rapl'}",
        }
        assert report["since"] is None and report["currency"] == "EUR"
        assert report["bandwidth_gbs"] == 20 and report["bandwidth_source"] == "setting"
        assert report["prices"] == {
            "electricity_per_kwh": 0.30,
            "cloud_input_per_million": 0.15,
            "cloud_output_per_million": 0.60,
            "cloud_price": "gpt-4o-mini list price of 2024-07-18",
            "note": "estimates from configurable prices (docs/usage.md), not advice",
        }
        assert [(r["month"], r["model"]) for r in report["rows"]] == [
            ("2026-10", "a.gguf"),
            ("2026-11", "a.gguf"),
            ("2026-11", "big @ http://10.0.0.2:8080/v1"),
        ]
        november = report["rows"][1]
        assert november == {
            "month": "2026-11",
            "model": "a.gguf",
            "backend": "local",
            "answers": 2,
            "by_origin": {"cli": 2},
            "prompt_tokens": 2000,
            "evaluated_tokens": 1600,
            "generated_tokens": 202,
            "mean_time_to_first_token_s": 2.0,
            "decode_tokens_per_s": 10.0,  # 100 tokens after the first in 10 s, twice
            "model_bytes": 1_000_000_000,
            "ceiling_tokens_per_s": 20.0,  # 20 GB/s ÷ 1 GB
            "fraction_of_ceiling": 0.5,
            "energy_measured_answers": 1,
            "energy_estimated_answers": 1,
            "energy_methods": {"estimate": 1, "rapl": 1},
            "energy_wh": 0.4,  # 2 × 720 J
            "electricity_cost": 0.00012,  # 0.0004 kWh × 0.30
            "cloud_equivalent_cost": 0.0004212,  # 2000 × 0.15e-6 + 202 × 0.60e-6
        }
        server = report["rows"][2]
        assert server["backend"] == "server" and server["ceiling_tokens_per_s"] is None
        assert server["fraction_of_ceiling"] is None
        assert report["rows"][0]["by_origin"] == {"eval": 1}
        total = report["total"]
        assert total["answers"] == 4 and total["by_origin"] == {"cli": 3, "eval": 1}
        assert total["prompt_tokens"] == 4000 and total["generated_tokens"] == 404
        assert total["energy_wh"] == 0.8 and total["energy_measured_answers"] == 1

        since = json.loads(cli(app, "usage", "--since", "2026-11", "--json", capsys=capsys))
        assert since["since"] == "2026-11-01" and since["total"]["answers"] == 3
        text = cli(app, "usage", capsys=capsys)
        assert "2026-10" in text and "a.gguf [local]: 2 answers (2 cli)" in text
        assert "10.0 tok/s of a 20 ceiling (50%)" in text and "not advice" in text
        assert "energy now estimated: cpu_watts 10.0 W × CPU seconds (no RAPL at" in text
    finally:
        app.close()


def test_usage_on_an_empty_ledger(app: Satchel, capsys: pytest.CaptureFixture[str]) -> None:
    report = json.loads(cli(app, "usage", "--json", capsys=capsys))
    assert report["rows"] == [] and report["total"]["answers"] == 0 and report["bandwidth_gbs"] is None
    assert "no answers in the usage ledger" in cli(app, "usage", capsys=capsys)
    with pytest.raises(SatchelError, match="not a date"):
        dispatch(app, build_parser().parse_args(["usage", "--since", "last week"]))
    assert usage.parse_since("2026") == date(2026, 1, 1)


def test_today_counts_from_local_midnight(app: Satchel) -> None:
    store = app.store
    yesterday = date.fromordinal(date.today().toordinal() - 1).isoformat()
    with store.transaction():
        store_usage.insert(store.conn, _row(_local_noon(yesterday)))
        store_usage.insert(
            store.conn, _row(_local_noon(date.today().isoformat()), prompt_tokens=10, generated_tokens=5)
        )
    today = app.usage_today()
    assert today["answers"] == 1 and today["tokens"] == 15 and today["wh"] == pytest.approx(0.2)


# --- forget and encrypt cover the ledger -----------------------------------------------------
def test_forget_erases_the_rows_of_the_answers_it_erases(app: Satchel, capsys: pytest.CaptureFixture[str]) -> None:
    app.ask(QUESTION, origin="cli")  # cites the cabin mail: erased with it
    app.ask(QUESTION, save=False, origin="mcp")  # never stored: points at nothing
    assert len(ledger(app)) == 2
    cited = [r for r in app.conversation_turns(app.conversations()[0]["id"])[0]["sources"] if r["cited"]]
    document = cited[0]["document_id"]
    dry = forget(app, document=document, dry_run=True)
    assert dry.turns == 1 and dry.usage_rows == 1 and len(ledger(app)) == 2
    report = forget(app, document=document)
    assert report.turns == 1 and report.usage_rows == 1
    assert [(r.origin, r.turn_id) for r in ledger(app)] == [("mcp", None)]
    assert report.as_json()["usage_rows"] == 1


@pytest.fixture
def hermetic_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    crypto.forget_unlocked()
    monkeypatch.setattr(crypto, "_keyring", lambda: None)
    yield
    crypto.forget_unlocked()


def test_encrypt_covers_the_ledger(
    app: Satchel, satchel_home: Path, monkeypatch: pytest.MonkeyPatch, hermetic_keys: None
) -> None:
    app.ask(QUESTION, origin="cli")
    canary = b"ledger-canary-model.gguf"
    app.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert canary in (satchel_home / "satchel.db").read_bytes()  # plain before
    monkeypatch.setenv(crypto.ENV_PASSPHRASE, "a ledger passphrase")
    assert encrypt_store(app)["store"] == "encrypted"
    for name in ("satchel.db", "satchel.db-wal"):
        path = satchel_home / name
        assert not path.exists() or canary not in path.read_bytes(), name
    with pytest.raises(sqlite3.DatabaseError), sqlite3.connect(satchel_home / "satchel.db") as conn:
        conn.execute(f"SELECT count(*) FROM {store_usage.TABLE}").fetchone()
    crypto.forget_unlocked()  # a new process: the passphrase comes from the environment
    reopened = make_app(satchel_home, memory_bandwidth_gbs=10)
    try:
        assert reopened.store.encrypted
        report = reopened.usage()
        assert report["total"]["answers"] == 1 and report["rows"][0]["model"] == "ledger-canary-model.gguf"
    finally:
        reopened.close()
