"""The FAISS vector index: a cache derived from the vectors stored in SQLite.

Ids are chunk rowids. Search is exact inner product on normalised vectors (cosine)
while that stays fast; past ``EXACT_LIMIT`` vectors the index becomes an inverted
file over 8-bit scalar-quantized vectors (IVF-SQ8: a quarter of the memory, a fifth
of the lists scanned per query), chosen over HNSW because it supports removal and is
quick to build (docs/benchmarks.md has the measurements). The switch, and retraining
when the store has grown fourfold, happen during a sync as soon as the size calls for
it (``reshape``): built beside the serving index and swapped in, so queries are never
blocked. The file records the store generation it was built at; a file that
is missing, damaged or stale is rebuilt from the stored vectors, without embedding
anything again. Saving is atomic (temp file, fsync, rename), so a crash leaves
either the old file or the new one.
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np

from assistant.cpu_budget import available_cores
from assistant.errors import EmbeddingMismatchError
from assistant.store.fileio import atomic_file
from assistant.store.repository import Store
from assistant.store.schema import VECTORS

_MAGIC = b"SATCHEL-FAISS-1\n"
# Below this many allowed ids a filtered search scores the stored vectors directly
# (exact, and cheaper than a selector over the whole index).
_DIRECT_FILTER_LIMIT = 20_000
# Exact search up to this many vectors (15 ms at 100k on 2 cores, growing linearly);
# an IVF-SQ8 index above it. Below half of it an IVF index turns exact again.
EXACT_LIMIT = 100_000
# A filter that keeps at least this share of the vectors is searched without a
# selector, over proportionally more hits (VectorIndex._search_broad).
BROAD_FILTER_SHARE = 0.05
# Share of the inverted lists probed per query: 0.2 keeps recall@10 >= 0.95 of exact
# search on real all-MiniLM-L6-v2 vectors (0.964 on 30k SciFact windows; 0.1 gave
# 0.927), at a fifth of the exact scan's cost (docs/benchmarks.md).
IVF_PROBE_FRACTION = 0.2
# Training points per list (FAISS warns below 39).
_TRAINING_PER_LIST = 40


def ivf_probes(lists: int) -> int:
    return max(1, math.ceil(lists * IVF_PROBE_FRACTION))


def ivf_lists(count: int) -> int:
    """Inverted lists for ``count`` vectors: about 2·sqrt(n), so each probe scans a
    list of about sqrt(n)/2 vectors."""
    return int(min(16_384, max(256, 2 * int(count**0.5))))


def _faiss() -> Any:
    # No omp_set_num_threads here: FAISS and torch share one OpenMP runtime, and the
    # setting holds for the calling thread, so one call on the sync's thread left every
    # later embedding batch there on one core (9,000 tokens/s instead of 15,000). The
    # query worker thread sets its own (assistant/retrieval/search.py, dense_worker).
    import faiss

    return faiss


class VectorIndex:
    def __init__(self, path: Path, dimension: int) -> None:
        self.path = path
        self.dimension = dimension
        self.generation = -1
        self._lock = threading.RLock()
        self._index: Any = None
        self._saved_generation = -1

    # --- building -----------------------------------------------------------------
    def _empty(self) -> Any:
        faiss = _faiss()
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dimension))

    @property
    def index(self) -> Any:
        if self._index is None:
            self._index = self._empty()
        return self._index

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def kind(self) -> str:
        """The index kind, "exact" or "ivf-sq8", for status and benchmarks."""
        return "ivf-sq8" if hasattr(self.index, "nlist") else "exact"

    def _build(self, store: Store, count: int, table: str = VECTORS) -> Any:
        """A new index of the kind that suits ``count`` vectors, filled from the store
        (``table``: the served vectors, or the pending ones of a model switch)."""
        faiss = _faiss()
        if count < EXACT_LIMIT:
            index = self._empty()
        else:
            lists = ivf_lists(count)
            quantizer = faiss.IndexFlatIP(self.dimension)
            index = faiss.IndexIVFScalarQuantizer(
                quantizer, self.dimension, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
            )
            previous = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(available_cores())  # k-means uses every core it may
            try:
                index.train(_sample(store, count, lists * _TRAINING_PER_LIST, table))
            finally:
                faiss.omp_set_num_threads(previous)
            index.nprobe = ivf_probes(lists)
        for ids, matrix in store.iter_vectors(table=table):
            if matrix.shape[1] != self.dimension:
                # the store switched embedding models under a reader (assistant/ingest/reembed.py)
                raise EmbeddingMismatchError(
                    f"the stored vectors have {matrix.shape[1]} dimensions, this index {self.dimension}"
                )
            index.add_with_ids(np.ascontiguousarray(matrix), ids)
        return index

    def rebuild(self, store: Store, table: str = VECTORS) -> None:
        """Rebuild from the stored vectors (no re-embedding)."""
        with self._lock:
            self._index = self._build(store, store.vector_count(table), table)
            self.generation = store.generation()
            self._saved_generation = -1  # the file holds another index now

    def needs_reshaping(self) -> bool:
        """Whether the index kind no longer suits its size: exact past EXACT_LIMIT, IVF
        below half of it, or IVF trained for a store a quarter of today's size."""
        count = self.size
        if self.kind == "exact":
            return count >= EXACT_LIMIT
        if count < EXACT_LIMIT // 2:
            return True
        return ivf_lists(count) >= 2 * int(self.index.nlist)

    def reshape(self, store: Store) -> bool:
        """Rebuild as the kind that suits the store's size, if it changed. The new index
        is built beside the serving one (searches go on meanwhile) and swapped in.
        The caller is the only writer, so nothing changes the store during the build."""
        if not self.needs_reshaping():
            return False
        generation = store.generation()
        fresh = self._build(store, store.vector_count())
        with self._lock:
            self._index = fresh
            self.generation = generation
            self._saved_generation = -1
        return True

    def open(self, store: Store) -> str:
        """Load the saved index if it agrees with the store, else rebuild it.

        Returns "loaded", "rebuilt" or "empty", for status reports.
        """
        with self._lock:
            generation = store.generation()
            if self._index is not None and self.generation == generation:
                # Every write that changes vectors bumps the generation, so this one
                # meta read is the whole check on the per-query path (counting 100k
                # vector rows took 60 ms).
                return "loaded"
            expected_count = store.vector_count()
            loaded = self._load_file()
            if loaded is not None:
                index, saved_generation = loaded
                if saved_generation == generation and int(index.ntotal) == expected_count:
                    self._index = index
                    self.generation = generation
                    self._saved_generation = generation
                    return "loaded"
            if expected_count == 0:
                self._index = self._empty()
                self.generation = generation
                return "empty"
            self.rebuild(store)
            return "rebuilt"

    def _load_file(self) -> tuple[Any, int] | None:
        from assistant.store.crypto import unseal

        try:
            raw = self.path.read_bytes()
            raw = unseal(self.path, raw)  # a sealed file (encrypted store) back to the plain layout
        except (OSError, ValueError):
            return None
        if not raw.startswith(_MAGIC):
            return None
        try:
            header_end = raw.index(b"\n", len(_MAGIC))
            header = json.loads(raw[len(_MAGIC) : header_end])
            payload = np.frombuffer(raw, dtype=np.uint8, offset=header_end + 1)
            index = _faiss().deserialize_index(payload)
        except Exception:  # a damaged cache is rebuilt, never trusted
            return None
        if int(index.d) != self.dimension:
            return None
        if hasattr(index, "nprobe"):
            index.nprobe = ivf_probes(int(index.nlist))
        return index, int(header.get("generation", -2))

    def save(self, generation: int) -> None:
        """Write atomically; a reader sees the old file or the new one, never half."""
        from assistant.store.crypto import seal_if_encrypted

        with self._lock:
            if generation == self._saved_generation and self.path.exists():
                return  # the file already holds this generation (a no-op sync)
            payload = _faiss().serialize_index(self.index)
            header = json.dumps({"generation": generation, "count": self.size}).encode()
            # beside an encrypted store the file is sealed (AES-256-GCM), else written plain
            sealed = seal_if_encrypted(
                self.path, [_MAGIC + header + b"\n", payload], {"generation": generation, "count": self.size}
            )
            with atomic_file(self.path) as handle:
                if sealed is None:
                    handle.write(_MAGIC + header + b"\n")
                    handle.write(payload.tobytes())
                else:
                    handle.write(sealed)
            self.generation = generation
            self._saved_generation = generation

    # --- changing -----------------------------------------------------------------
    def add(self, ids: list[int] | np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        with self._lock:
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def remove(self, ids: list[int]) -> None:
        if not ids:
            return
        with self._lock:
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))

    # --- searching ----------------------------------------------------------------
    def prefers_stored_vectors(self, allowed: np.ndarray) -> bool:
        """Whether a search restricted to ``allowed`` is cheaper on the stored vectors:
        a small set that is not a broad share of the index (that one is searched
        unrestricted, see _search_broad)."""
        return len(allowed) <= _DIRECT_FILTER_LIMIT and not self._is_broad(allowed)

    def _is_broad(self, allowed: np.ndarray) -> bool:
        size = self.size
        return size > 0 and len(allowed) / size >= BROAD_FILTER_SHARE

    def _search_broad(self, query: np.ndarray, k: int, allowed: np.ndarray) -> list[tuple[int, float]] | None:
        """A filter that keeps a large share of the vectors (one kind of four): an
        unrestricted search for proportionally more hits, then only the allowed ones.
        FAISS with a selector over 250,000 ids took 85 ms at 1M chunks, this 30 ms.
        None when the share is small or too few allowed hits came back: then the
        restricted search runs, so a filtered query still gets k when k exist."""
        with self._lock:
            if not self._is_broad(allowed):
                return None
            size = self.size
            # twice the hits the share predicts, so that an unlucky spread still fills k
            wanted = min(size, max(k, int(np.ceil(2 * k * size / len(allowed)))))
            scores, ids = self.index.search(query, wanted)
        keep = (ids[0] >= 0) & np.isin(ids[0], allowed)
        if int(keep.sum()) < min(k, len(allowed)):
            return None
        return [(int(i), float(s)) for i, s in zip(ids[0][keep][:k], scores[0][keep][:k], strict=True)]

    def search(
        self,
        query: np.ndarray,
        k: int,
        allowed: np.ndarray | None = None,
        store: Store | None = None,
    ) -> list[tuple[int, float]]:
        """Top-k (chunk id, cosine) pairs, optionally restricted to ``allowed`` ids.

        The restriction is applied inside the search, not after it, so a filtered
        query still returns k results when k exist.
        """
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if allowed is not None:
            if len(allowed) == 0:
                return []
            broad = self._search_broad(query, k, allowed)
            if broad is not None:
                return broad
            if self.prefers_stored_vectors(allowed) and store is not None:
                ids, matrix = store.vectors_for(allowed.tolist())
                if len(ids) == 0:
                    return []
                scores = matrix @ query[0]
                top = np.argsort(-scores)[:k]
                return [(int(ids[i]), float(scores[i])) for i in top]
            faiss = _faiss()
            selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            if self.kind == "exact":
                params = faiss.SearchParameters(sel=selector)
            else:
                # a selective filter leaves fewer allowed vectors per list: probe more
                probes = min(int(self.index.nlist), 2 * int(self.index.nprobe))
                params = faiss.SearchParametersIVF(sel=selector, nprobe=probes)
            with self._lock:
                scores, ids = self.index.search(query, k, params=params)
        else:
            with self._lock:
                if self.size == 0:
                    return []
                scores, ids = self.index.search(query, min(k, self.size))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


def _sample(store: Store, count: int, wanted: int, table: str = VECTORS) -> np.ndarray:
    """About ``wanted`` stored vectors spread evenly over the store, for training."""
    step = max(1, count // max(1, wanted))
    parts = [matrix[::step] for _, matrix in store.iter_vectors(table=table)]
    return np.ascontiguousarray(np.concatenate(parts)[:wanted] if parts else np.zeros((0, 0), np.float32))
