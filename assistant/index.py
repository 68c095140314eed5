"""The FAISS vector index: a cache derived from the vectors stored in SQLite.

Ids are chunk rowids (``IndexIDMap2``), search is exact inner product on normalised
vectors (cosine). The file records the store generation it was built at; a file that
is missing, damaged or stale is rebuilt from the stored vectors, without embedding
anything again. Saving is atomic (temp file, fsync, rename), so a crash leaves
either the old file or the new one.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from assistant.store import Store

_MAGIC = b"SATCHEL-FAISS-1\n"
# Below this many allowed ids a filtered search scores the stored vectors directly
# (exact, and cheaper than a selector over the whole index).
_DIRECT_FILTER_LIMIT = 20_000


def _faiss() -> Any:
    import faiss

    # one query at a time: OpenMP's thread hand-off costs more than it saves on a
    # single vector (15 ms vs 17 ms at 100k chunks on 2 cores)
    faiss.omp_set_num_threads(1)
    return faiss


class VectorIndex:
    def __init__(self, path: Path, dimension: int) -> None:
        self.path = path
        self.dimension = dimension
        self.generation = -1
        self._lock = threading.RLock()
        self._index: Any = None

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

    def rebuild(self, store: Store) -> None:
        """Rebuild from the stored vectors (no re-embedding)."""
        with self._lock:
            index = self._empty()
            for ids, matrix in store.iter_vectors():
                index.add_with_ids(np.ascontiguousarray(matrix), ids)
            self._index = index
            self.generation = store.generation()

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
                    return "loaded"
            if expected_count == 0:
                self._index = self._empty()
                self.generation = generation
                return "empty"
            self.rebuild(store)
            return "rebuilt"

    def _load_file(self) -> tuple[Any, int] | None:
        from assistant.crypto import unseal

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
        return index, int(header.get("generation", -2))

    def save(self, generation: int) -> None:
        """Write atomically; a reader sees the old file or the new one, never half."""
        from assistant.crypto import seal_if_encrypted

        with self._lock:
            payload = _faiss().serialize_index(self.index)
            header = json.dumps({"generation": generation, "count": self.size}).encode()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # beside an encrypted store the file is sealed (AES-256-GCM), else written plain
            sealed = seal_if_encrypted(
                self.path, [_MAGIC + header + b"\n", payload], {"generation": generation, "count": self.size}
            )
            tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")
            with open(tmp, "wb") as handle:
                if sealed is None:
                    handle.write(_MAGIC + header + b"\n")
                    handle.write(payload.tobytes())
                else:
                    handle.write(sealed)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
            self.generation = generation

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
    @staticmethod
    def prefers_stored_vectors(allowed: np.ndarray) -> bool:
        """Whether a search restricted to ``allowed`` is cheaper on the stored vectors."""
        return len(allowed) <= _DIRECT_FILTER_LIMIT

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
            if self.prefers_stored_vectors(allowed) and store is not None:
                ids, matrix = store.vectors_for(allowed.tolist())
                if len(ids) == 0:
                    return []
                scores = matrix @ query[0]
                top = np.argsort(-scores)[:k]
                return [(int(ids[i]), float(scores[i])) for i in top]
            faiss = _faiss()
            selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            params = faiss.SearchParameters(sel=selector)
            with self._lock:
                scores, ids = self.index.search(query, k, params=params)
        else:
            with self._lock:
                if self.size == 0:
                    return []
                scores, ids = self.index.search(query, min(k, self.size))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
