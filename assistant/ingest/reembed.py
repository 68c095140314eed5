"""Switching the embedding model without wiping the store.

The store records the model its vectors come from (meta ``embedding_model`` and
``embedding_dim``). When the configured model is another one, that *serving* model
keeps embedding queries and new chunks, and the FAISS index built from its vectors
keeps serving, while this pass embeds every chunk's stored text with the configured
model into ``pending_vectors``:

- in batches, each written in one transaction, so a pass killed at any moment is
  resumed by the next one from the first chunk without a pending vector;
- chunks added or changed meanwhile (a sync between two passes) are caught up, since
  the pass always looks for chunks without a pending vector, and chunks deleted
  meanwhile take their pending vector with them (a trigger);
- once every chunk has one, a new FAISS index is built from the pending vectors
  beside the serving one, then one transaction swaps the vector sets and the model
  and moves the generation on, and the new index file is published atomically.
  Readers see the old model, its vectors and its index, or the new ones: never both
  in one index.

The caller holds the writer lock (``Satchel.reembed``), so nothing else writes while
a pass runs.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.errors import ModelError
from assistant.ingest.chunking import TITLED_KINDS, title_prefix
from assistant.store.repository import Store
from assistant.store.schema import PENDING_VECTORS
from assistant.store.vector_index import VectorIndex

# Chunks embedded per write transaction, as in a sync (assistant/ingest/sync.py): a killed
# pass loses at most one batch of work.
BATCH_CHUNKS = 256


class TargetEmbedder(Protocol):
    identity: str

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray: ...


@dataclass
class ReembedProgress:
    done: int  # chunks with a vector of the new model
    total: int  # chunks in the store
    embedded: int  # chunks embedded by this pass
    model: str
    started: float

    @property
    def fraction(self) -> float:
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)

    @property
    def eta_seconds(self) -> float | None:
        elapsed = time.monotonic() - self.started
        if self.embedded <= 0 or elapsed < 1:
            return None
        return elapsed * (self.total - self.done) / self.embedded


ReembedCallback = Callable[[ReembedProgress], None]


@dataclass
class ReembedReport:
    model: str | None = None  # the model re-embedded for; None: nothing to do
    previous_model: str | None = None
    dimension: int = 0
    done: int = 0
    total: int = 0
    embedded_chunks: int = 0
    switched: bool = False  # the store and the index now serve ``model``
    seconds: float = 0.0
    index: VectorIndex | None = None  # the new index, when switched

    def as_json(self) -> dict[str, object]:
        return {
            "model": self.model,
            "previous_model": self.previous_model,
            "dimension": self.dimension,
            "done": self.done,
            "total": self.total,
            "embedded_chunks": self.embedded_chunks,
            "switched": self.switched,
            "seconds": round(self.seconds, 3),
        }


def embedding_input(row: Any, tokenizers: Sequence[Any]) -> str:
    """The string a stored chunk was embedded from: its text, after the document's
    title for emails and chats (assistant/ingest/chunking.py). The title is cut by a
    tokenizer, so each candidate tokenizer is tried until the text's sha1 is the
    chunk's recorded ``embed_hash``: the new vector is of exactly the string that
    hash stands for, and reusing vectors by hash stays exact after the switch."""
    text = str(row["text"])
    if row["kind"] not in TITLED_KINDS or not tokenizers:
        return text
    first = ""
    for tokenizer in tokenizers:
        candidate = title_prefix(row["title"] or "", tokenizer) + text
        if hashlib.sha1(candidate.encode("utf-8")).hexdigest() == row["embed_hash"]:
            return candidate
        first = first or candidate
    return first


def needs_reembedding(store: Store, identity: str, dimension: int) -> bool:
    """Whether the store serves vectors of a model other than (identity, dimension)."""
    stored = store.get_meta("embedding_model")
    if stored is None:
        return False  # an empty store takes the configured model on its first sync
    return stored != identity or int(store.get_meta("embedding_dim") or 0) != dimension


def state(store: Store, identity: str, dimension: int) -> dict[str, Any] | None:
    """Where a switch to (identity, dimension) stands, for status; None when the store
    already serves that model."""
    if not needs_reembedding(store, identity, dimension):
        return None
    done = store.vector_count(PENDING_VECTORS) if store.pending_model() == (identity, dimension) else 0
    return {
        "model": identity,
        "dimension": dimension,
        "serving_model": store.get_meta("embedding_model"),
        "done": done,
        "total": store.chunk_count(),
    }


class Reembedder:
    """One pass: embed what is missing with ``target``, then switch if complete."""

    def __init__(
        self,
        store: Store,
        target: TargetEmbedder,
        index_path: Path,
        tokenizers: Sequence[Any] = (),
        batch: int | None = None,
    ) -> None:
        self.store = store
        self.target = target
        self.index_path = index_path
        self.tokenizers = list(tokenizers)
        self.batch = batch or BATCH_CHUNKS

    def run(self, progress: ReembedCallback | None = None) -> ReembedReport:
        started = time.monotonic()
        store, target = self.store, self.target
        identity, dimension = target.identity, target.dimension
        report = ReembedReport()
        if not needs_reembedding(store, identity, dimension):
            if store.pending_model() is not None:
                store.clear_pending()  # the configured model went back to the served one
            report.seconds = time.monotonic() - started
            return report
        report.model, report.dimension = identity, dimension
        report.previous_model = store.get_meta("embedding_model")
        store.start_pending(identity, dimension)
        total = store.chunk_count()
        done = store.vector_count(PENDING_VECTORS)
        state = ReembedProgress(done, total, 0, identity, started)
        if progress is not None:
            progress(state)
        last = -1
        while True:
            rows = store.chunks_without_pending(last, self.batch)
            if not rows:
                if last < 0:
                    break
                last = -1  # one more look from the start: nothing may be left behind
                continue
            texts = [embedding_input(row, self.tokenizers) for row in rows]
            unique = list(dict.fromkeys(texts))
            encoded = np.asarray(target.encode(unique), dtype=np.float32)
            if encoded.shape != (len(unique), dimension):
                raise ModelError(
                    f"the embedding model {identity} returned vectors of shape {encoded.shape}, "
                    f"expected ({len(unique)}, {dimension})"
                )
            position = {text: i for i, text in enumerate(unique)}
            vectors = encoded[[position[t] for t in texts]]
            with store.transaction():
                store.add_pending([int(r["id"]) for r in rows], vectors)
            last = int(rows[-1]["id"])
            report.embedded_chunks += len(rows)
            state.done += len(rows)
            state.embedded = report.embedded_chunks
            if progress is not None:
                progress(state)

        # every chunk has a new vector: build the new index beside the serving one
        fresh = VectorIndex(self.index_path, dimension)
        fresh.rebuild(store, PENDING_VECTORS)
        generation = store.promote_pending()
        if generation is None:  # a chunk appeared between the last look and the swap
            report.done = store.vector_count(PENDING_VECTORS)
            report.total = store.chunk_count()
            report.seconds = time.monotonic() - started
            return report
        fresh.save(generation)
        report.switched, report.index = True, fresh
        report.done = report.total = fresh.size
        report.seconds = time.monotonic() - started
        return report


def summary_line(report: dict[str, Any]) -> str:
    """One line about a pass (from ``ReembedReport.as_json()``), for the CLI and the log."""
    if report.get("model") is None:
        return "re-embedding: nothing to do, the store serves the configured embedding model"
    embedded, seconds = report["embedded_chunks"], report["seconds"]
    head = f"re-embedding for {report['model']}: {embedded} chunks embedded in {seconds:.1f}s"
    if report.get("switched"):
        return f"{head}; switched from {report['previous_model']} ({report['total']} vectors)"
    return f"{head}; {report['done']}/{report['total']} chunks done, {report['previous_model']} still serves"
