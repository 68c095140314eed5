"""What a sync reports as it goes and when it ends: progress, counts, errors and the seconds
each stage took."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


class StageClock:
    """Seconds per stage of a sync. The main thread's stages (walk, model_load,
    wait_for_parser, embed, store_write, vector_index, finish) follow one another and
    add up to the sync's wall time, less "other"; the parser thread's (parse, chunk)
    run beside them, so they overlap the main thread's."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds


@dataclass
class SyncReport:
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    duplicates: int = 0
    embedded_chunks: int = 0
    embedded_tokens: int = 0
    errors: int = 0
    skipped_files: int = 0
    units_parsed: int = 0
    # documents kept out because `satchel forget` erased them (tombstones)
    forgotten: int = 0
    # images and scanned pages queued for the OCR pass (assistant/ingest/ocr_pass.py)
    ocr_queued: int = 0
    seconds: float = 0.0
    error_list: list[dict[str, str | None]] = field(default_factory=list)
    # the re-embedding pass run after the sync, if any (ReembedReport.as_json())
    reembed: dict[str, object] | None = None
    # the embedding model a new store got for its languages, at its first sync
    # (assistant/ingest/embedder_choice.py): {"model", "reason"}
    embedder_choice: dict[str, str] | None = None
    # the OCR pass run after the sync, if any (OcrReport.as_json())
    ocr: dict[str, object] | None = None
    # seconds the sync stood still while answers ran (assistant/cpu_budget.py)
    paused_for_answers_s: float = 0.0
    # where the time went (StageClock); `satchel index --json` adds "startup"
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "added": self.added,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "embedded_chunks": self.embedded_chunks,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "duplicates": self.duplicates,
            "skipped_files": self.skipped_files,
            "forgotten": self.forgotten,
            "error_list": self.error_list,
            "reembed": self.reembed,
            "embedder_choice": self.embedder_choice,
            "ocr_queued": self.ocr_queued,
            "ocr": self.ocr,
            "paused_for_answers_s": self.paused_for_answers_s,
            "stage_seconds": {k: round(v, 2) for k, v in self.stage_seconds.items()},
        }


@dataclass
class Progress:
    bytes_done: int
    bytes_total: int
    units_done: int
    units_total: int
    chunks: int
    current: str
    started: float

    @property
    def fraction(self) -> float:
        if self.bytes_total <= 0:
            return 1.0 if self.units_total == 0 else self.units_done / self.units_total
        return min(1.0, self.bytes_done / self.bytes_total)

    @property
    def eta_seconds(self) -> float | None:
        elapsed = time.monotonic() - self.started
        if self.fraction <= 0.02 or elapsed < 1:
            return None
        return elapsed * (1 - self.fraction) / self.fraction


ProgressCallback = Callable[[Progress], None]
