"""Encryption at rest: where the passphrase comes from, and the sealed FAISS file.

The SQLite store is encrypted by SQLCipher (``assistant/store/db.py`` opens it); the FAISS
file, which holds the same vectors, is sealed here with AES-256-GCM under a key
derived from the same passphrase by scrypt with a random salt kept in the file's
header. docs/operations.md says what this protects and what it does not.

The passphrase comes, in this order, from: this process's memory (it already
opened the store), ``SATCHEL_PASSPHRASE`` (scripts, cron), the OS keyring (when a
backend is available: desktop sessions have one, a headless server usually not),
and the front end's prompt: the CLI registers one when standard input is a terminal
(:func:`set_passphrase_prompt`; the core never reads a terminal itself). Without any
of these the store cannot be opened and :class:`EncryptionError` says how to give one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from assistant.errors import EncryptionError
from assistant.store.header import is_encrypted

ENV_PASSPHRASE = "SATCHEL_PASSPHRASE"
KEYRING_SERVICE = "satchel"
# The store's file name inside its home (Settings.db_path): the FAISS file beside
# it is sealed when, and only when, this store is encrypted.
STORE_FILE = "satchel.db"

# A sealed FAISS file: this line, a JSON header line (public: generation, count, KDF
# parameters, salt, nonce prefix), then AES-256-GCM segments of the plain file.
INDEX_MAGIC = b"SATCHEL-FAISS-SEALED-1\n"
SCRYPT_N = 2**15  # about 32 MiB and 0.1 s per derivation; derived once per process
SCRYPT_R = 8
SCRYPT_P = 1
SEGMENT = 1 << 24  # AES-GCM takes at most 2 GiB at once; big indexes go in segments
_TAG = 16

# folder -> passphrase that opened the store there (this process only)
_unlocked: dict[str, str] = {}
# (passphrase, salt) -> derived FAISS key; folder -> salt used for the next save
_keys: dict[tuple[str, bytes], bytes] = {}
_salts: dict[str, bytes] = {}


def _folder(folder: Path) -> str:
    return str(Path(folder).expanduser().absolute())


# --- the passphrase ---------------------------------------------------------------------
def remember(folder: Path, passphrase: str) -> None:
    """Keep the passphrase that opened the store in ``folder`` for this process, so
    the indexer's second connection, doctor and the FAISS file need no second prompt."""
    _unlocked[_folder(folder)] = passphrase


def forget_unlocked() -> None:
    """Drop every passphrase and derived key this process holds (tests; decrypt)."""
    _unlocked.clear()
    _keys.clear()
    _salts.clear()


def _keyring() -> Any | None:
    """The keyring module when a usable backend exists, else None (never raises)."""
    try:
        import keyring

        backend = keyring.get_keyring()
        if getattr(backend, "priority", 0) <= 0 or type(backend).__module__.startswith(
            ("keyring.backends.fail", "keyring.backends.null")
        ):
            return None
        return keyring
    except Exception:  # no keyring package, a broken backend, no D-Bus
        return None


def keyring_backend() -> str | None:
    """The OS keyring backend's name, or None where there is none (headless Linux)."""
    module = _keyring()
    if module is None:
        return None
    backend = module.get_keyring()
    return f"{type(backend).__module__}.{type(backend).__name__}"


def keyring_get(folder: Path) -> str | None:
    module = _keyring()
    if module is None:
        return None
    try:
        value = module.get_password(KEYRING_SERVICE, _folder(folder))
    except Exception:  # a locked or unreachable keyring is the same as none
        return None
    return value or None


def keyring_set(folder: Path, passphrase: str) -> str:
    """Save the passphrase in the OS keyring under the store's folder; returns the
    backend's name."""
    module = _keyring()
    if module is None:
        raise EncryptionError(
            "no OS keyring is available here (a headless machine has none); give the passphrase "
            f"with {ENV_PASSPHRASE} or type it when asked"
        )
    try:
        module.set_password(KEYRING_SERVICE, _folder(folder), passphrase)
    except Exception as exc:
        raise EncryptionError(f"the OS keyring refused the passphrase: {exc}") from exc
    return keyring_backend() or "keyring"


def keyring_delete(folder: Path) -> bool:
    module = _keyring()
    if module is None:
        return False
    try:
        module.delete_password(KEYRING_SERVICE, _folder(folder))
    except Exception:
        return False
    return True


class PassphrasePrompt(Protocol):
    """A front end's way to ask the person: ``confirm`` for a new passphrase (ask
    twice), ``again`` after one that did not open the store."""

    def __call__(self, folder: Path, *, confirm: bool, again: bool) -> str: ...


_prompt: PassphrasePrompt | None = None


def set_passphrase_prompt(prompt: PassphrasePrompt | None) -> None:
    """Register how this process asks for a passphrase (None: it cannot ask)."""
    global _prompt
    _prompt = prompt


def can_prompt() -> bool:
    return _prompt is not None


def passphrase_for(folder: Path, *, new: bool = False, again: bool = False) -> tuple[str, str]:
    """The passphrase for the store in ``folder`` and where it came from (for
    messages): "memory", the variable's name, "the OS keyring" or "prompt".

    ``new``: it will encrypt a store, so a prompt asks twice and the keyring (which
    holds the passphrase of a store already encrypted) is not asked.
    """
    key = _folder(folder)
    if key in _unlocked:
        return _unlocked[key], "memory"
    env = os.environ.get(ENV_PASSPHRASE)
    if env:
        return env, ENV_PASSPHRASE
    if not new:
        stored = keyring_get(folder)
        if stored:
            return stored, "the OS keyring"
    if _prompt is not None:
        return _prompt(folder, confirm=new, again=again), "prompt"
    if new:
        raise EncryptionError(
            f"encrypting needs a passphrase: set {ENV_PASSPHRASE}, or run `satchel encrypt` in a terminal"
        )
    raise EncryptionError(
        f"the store in {folder} is encrypted (or damaged: it is not a plain SQLite file) and no "
        f"passphrase was given: set {ENV_PASSPHRASE} "
        "(scripts, cron), save it in the OS keyring (`satchel encrypt --keyring`), or run "
        "Satchel in a terminal to be asked"
    )


# --- the sealed FAISS file ----------------------------------------------------------------
def _derive(passphrase: str, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> bytes:
    cached = _keys.get((passphrase, salt))
    if cached is not None:
        return cached
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    key = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))
    _keys[(passphrase, salt)] = key
    return key


def store_encrypted(folder: Path) -> bool:
    return is_encrypted(Path(folder) / STORE_FILE)


def is_sealed(raw: bytes) -> bool:
    return raw.startswith(INDEX_MAGIC)


def seal(folder: Path, parts: Sequence[Any], public: dict[str, Any]) -> bytes:
    """Encrypt the concatenation of ``parts`` (bytes-like) for the store in
    ``folder``; ``public`` goes into the clear header (and is authenticated)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    passphrase, _ = passphrase_for(folder)
    key_folder = _folder(folder)
    salt = _salts.get(key_folder) or os.urandom(16)
    _salts[key_folder] = salt
    aead = AESGCM(_derive(passphrase, salt))
    plain = b"".join(parts)
    prefix = os.urandom(8)  # a fresh nonce prefix per file; the segment number completes it
    header = dict(public)
    header.update(
        cipher="AES-256-GCM",
        kdf="scrypt",
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        salt=salt.hex(),
        nonce=prefix.hex(),
        segment=SEGMENT,
        length=len(plain),
    )
    head = INDEX_MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n"
    view = memoryview(plain)
    out = [head]
    count = max(1, -(-len(plain) // SEGMENT))
    for i in range(count):
        aad = head + i.to_bytes(4, "big") + (b"\x01" if i == count - 1 else b"\x00")
        out.append(aead.encrypt(prefix + i.to_bytes(4, "big"), view[i * SEGMENT : (i + 1) * SEGMENT], aad))
    return b"".join(out)


def seal_if_encrypted(path: Path, parts: Sequence[Any], public: dict[str, Any]) -> bytes | None:
    """The sealed bytes of a FAISS file at ``path`` when the store beside it is
    encrypted; None when it is not (the file is written plain, as before)."""
    folder = Path(path).parent
    if not store_encrypted(folder):
        return None
    return seal(folder, parts, public)


def public_header(raw: bytes) -> dict[str, Any]:
    """The clear header of a sealed file (ValueError when it has none)."""
    if not raw.startswith(INDEX_MAGIC):
        raise ValueError("not a sealed Satchel file")
    end = raw.index(b"\n", len(INDEX_MAGIC))
    header = json.loads(raw[len(INDEX_MAGIC) : end])
    if not isinstance(header, dict):
        raise ValueError("bad header")
    return header


def unseal(path: Path, raw: bytes) -> bytes:
    """The plain bytes of a FAISS file: ``raw`` itself when it is not sealed.

    A damaged or tampered file raises ValueError (the index is then rebuilt from the
    store); a missing passphrase raises :class:`EncryptionError`.
    """
    if not raw.startswith(INDEX_MAGIC):
        return raw
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    folder = Path(path).parent
    if not store_encrypted(folder):
        raise ValueError("a sealed index beside a plain store is stale (the store was decrypted)")
    header = public_header(raw)
    end = raw.index(b"\n", len(INDEX_MAGIC)) + 1
    head = raw[:end]
    try:
        salt = bytes.fromhex(header["salt"])
        prefix = bytes.fromhex(header["nonce"])
        segment = int(header["segment"])
        length = int(header["length"])
        n, r, p = int(header["n"]), int(header["r"]), int(header["p"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"bad sealed header: {exc}") from exc
    if len(prefix) != 8 or segment <= 0 or length < 0 or n > 2**20 or r > 64 or p > 16:
        raise ValueError("bad sealed header")
    passphrase, _ = passphrase_for(folder)
    aead = AESGCM(_derive(passphrase, salt, n, r, p))
    count = max(1, -(-length // segment))
    body = memoryview(raw)[end:]
    if len(body) != length + count * _TAG:
        raise ValueError("sealed file has the wrong length (truncated?)")
    out: list[bytes] = []
    step = segment + _TAG
    try:
        for i in range(count):
            aad = head + i.to_bytes(4, "big") + (b"\x01" if i == count - 1 else b"\x00")
            out.append(aead.decrypt(prefix + i.to_bytes(4, "big"), body[i * step : (i + 1) * step], aad))
    except InvalidTag as exc:
        raise ValueError("sealed file does not decrypt (damaged, or sealed with another passphrase)") from exc
    _salts.setdefault(_folder(folder), salt)  # the next save reuses the derived key
    return b"".join(out)
