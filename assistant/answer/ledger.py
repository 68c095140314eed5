"""The usage ledger seen from answering: the meter around an answer, the row it leaves
(tokens, phase seconds, energy; never the question or the answer) and the reports of
`satchel usage`. The table and its SQL are in assistant/store/usage.py; docs/usage.md
says what is measured and what is estimated."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from assistant.answer.energy import EnergyMeter, gpu_in_use
from assistant.answer.rag import Answer
from assistant.errors import StoreError
from assistant.records import now_iso
from assistant.settings import Settings
from assistant.store import usage as store_usage
from assistant.store.repository import Store
from assistant.store.usage import UsageRow

log = logging.getLogger("assistant.core")  # the name the core logged it under


class UsageLedger:
    """One store's ledger. The settings, the store and the model are asked for when
    needed: a ledger costs nothing until an answer is metered, and follows the core's
    settings when they change."""

    def __init__(
        self, settings: Callable[[], Settings], store: Callable[[], Store], model: Callable[[str | None], Any]
    ) -> None:
        self._settings = settings
        self._store = store
        self._model = model

    @property
    def settings(self) -> Settings:
        return self._settings()

    def backend(self, model_override: str | None) -> str:
        """Who generates: "server" (the private server, as get_model decides) or "local"."""
        return "server" if self.settings.llm_backend == "openai" and not model_override else "local"

    def meter(self, model_override: str | None, origin: str) -> EnergyMeter:
        if origin not in store_usage.ORIGINS:  # before the answer, not after it
            raise ValueError(f"origin must be one of {store_usage.ORIGINS}, not {origin!r}")
        backend = self.backend(model_override)
        return EnergyMeter(self.settings, gpu=gpu_in_use(self.settings, backend), server=backend == "server")

    def row(self, answer: Answer, meter: EnergyMeter, origin: str, model_override: str | None) -> UsageRow | None:
        """The ledger row of an answer the model generated (None when it declined
        without asking the model, or the ledger is off)."""
        stats, reading = answer.stats, meter.reading
        if stats is None or reading is None or not self.settings.usage_ledger:
            return None
        backend = self.backend(model_override)
        model_bytes = None
        if backend == "local":
            with contextlib.suppress(Exception):  # a fake or unloaded model has no file
                path = getattr(self._model(model_override), "path", None)
                model_bytes = Path(path).stat().st_size if path else None
        return UsageRow(
            at=now_iso(),
            origin=origin,
            model=stats.model,
            backend=backend,
            model_bytes=model_bytes,
            prompt_tokens=stats.prompt_tokens,
            evaluated_tokens=stats.prompt_tokens_evaluated,
            generated_tokens=stats.generated_tokens,
            retrieval_s=stats.retrieval_s,
            prompt_s=stats.time_to_first_token_s,
            generation_s=generation_seconds(answer),
            energy_j=reading.joules,
            energy_method=reading.method,
            energy_measured=reading.measured,
            cpu_s=reading.cpu_seconds,
        )

    def record(self, row: UsageRow) -> None:
        """Write a ledger row in its own short transaction. A row that cannot be
        written (a read-only or busy store) is logged and the answer goes on: the
        ledger is never a reason to lose an answer."""
        store = self._store()
        try:
            with store.transaction():
                store_usage.insert(store.conn, row)
        except StoreError as exc:
            log.warning("usage ledger: the answer's row was not written (%s)", exc)

    def report(self, since: date | None = None) -> dict[str, Any]:
        """`satchel usage`: the ledger per model and month (assistant/answer/usage.py)."""
        from assistant.answer import usage

        rows = store_usage.rows(self._store().conn, usage.local_midnight_utc(since) if since else None)
        gbs, source = usage.bandwidth(self.settings) if rows else (None, "not measured: no answers")
        return usage.build_report(rows, self.settings, since=since, bandwidth_gbs=gbs, bandwidth_source=source)

    def today(self) -> dict[str, float]:
        """Answers, tokens and Wh since local midnight (the TUI's status line)."""
        from assistant.answer.usage import JOULES_PER_WH, local_midnight_utc

        totals = store_usage.totals_since(self._store().conn, local_midnight_utc(date.today()))
        return {**totals, "wh": totals["joules"] / JOULES_PER_WH}


def generation_seconds(answer: Answer) -> float:
    """First token to last: the decode phase of the answer's token meter."""
    stats = answer.stats
    return max(stats.total_s - stats.time_to_first_token_s, 0.0) if stats else 0.0
