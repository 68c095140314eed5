"""Shared fixtures. Every test runs against its own SATCHEL_HOME (hermetic)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPORA = SHARED / "corpora"
SAMPLE = REPO / "data" / "sample"
SATCHEL = [sys.executable, "-m", "assistant.cli"]


@pytest.fixture(autouse=True)
def satchel_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "satchel-home"
    monkeypatch.setenv("SATCHEL_HOME", str(home))
    for key in list(os.environ):
        if key.startswith("SATCHEL_") and key != "SATCHEL_HOME":
            monkeypatch.delenv(key)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One assembled copy of the default GGUF for the whole run: assembling it
    (1.1 GB, sha256-checked) once is enough; tests link it into their homes."""
    from assistant.backends.llm import ensure_default_model
    from assistant.settings import load_settings

    home = tmp_path_factory.mktemp("model-home")
    return ensure_default_model(load_settings({"home": str(home)}))


def link_model(home: Path, model: Path) -> None:
    """Give a test home the assembled default model without copying 1.1 GB."""
    target = home / "models"
    target.mkdir(parents=True, exist_ok=True)
    for file in (model, model.with_name(model.name + ".sha256")):
        dest = target / file.name
        if not dest.exists():
            os.link(file, dest) if file.stat().st_dev == target.stat().st_dev else shutil.copy2(file, dest)


def run_cli(*args: str, home: Path, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SATCHEL_HOME=str(home), HF_HUB_OFFLINE="1")
    proc = subprocess.run([*SATCHEL, *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"satchel {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


class FakeEmbedder:
    """A deterministic bag-of-words embedder for fast unit tests: the real word-piece
    tokenizer, hashed into 64 dimensions. Similar texts get similar vectors."""

    identity = "fake-hashing-embedder"
    dimension = 64
    precision = "fp32"
    between_batches = None  # the pause point of background work; the fake never pauses

    def __init__(self) -> None:
        from assistant.backends.embedder import bundled_model_dir, load_tokenizer

        self.tokenizer = load_tokenizer(bundled_model_dir())
        self.calls = 0
        self.encoded = 0

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        self.calls += 1
        self.encoded += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[row, h % self.dimension] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
        return out

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


@pytest.fixture
def fake_app(satchel_home: Path):
    """A Satchel core wired to the fake embedder (real store, real FAISS)."""
    from assistant.core import Satchel
    from assistant.settings import load_settings

    app = Satchel(load_settings(), embedder=FakeEmbedder())
    yield app
    app.close()
