"""Packaged answer models: chunk packages joined in order and refused on a wrong
sha256 (assistant/backends/llm.py), and the choice between them (`satchel models`)."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.answer import models
from assistant.backends import llm
from assistant.errors import ModelError
from assistant.settings import load_settings


def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunks: list[bytes]) -> tuple[tuple[str, str], ...]:
    """Chunk packages on disk, found the way installed ones are (find_spec)."""
    parts = []
    for n, data in enumerate(chunks, 1):
        package = tmp_path / "site" / f"fake_model_part{n}"
        (package / "data").mkdir(parents=True)
        (package / "data" / f"part{n:02d}.bin").write_bytes(data)
        parts.append((f"fake_model_part{n}", f"data/part{n:02d}.bin"))
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        if name.startswith("fake_model_part"):
            return SimpleNamespace(submodule_search_locations=[str(tmp_path / "site" / name)])
        return real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    return tuple(parts)


def test_parts_are_joined_in_numeric_order_and_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chunks = [b"GGUF" + bytes(range(40)), b"second" * 7, b"third"]
    parts = fake_parts(tmp_path, monkeypatch, chunks)
    whole = b"".join(chunks)
    model = llm.PackagedModel("fake-1b", "fake.gguf", hashlib.sha256(whole).hexdigest(), len(whole), parts, "pip")
    settings = load_settings()
    path = llm.ensure_packaged_model(settings, model)
    assert path.read_bytes() == whole
    assert llm._verified(path, model)  # the next load skips the full hash

    wrong = llm.PackagedModel("fake-1b", "other.gguf", "0" * 64, len(whole), parts, "pip install fake")
    with pytest.raises(ModelError, match="wrong sha256"):
        llm.ensure_packaged_model(settings, wrong)
    assert not (settings.models_dir / "other.gguf").exists()  # nothing half-made is left


def test_the_two_packaged_models_are_pinned() -> None:
    small, large = llm.PACKAGED_MODELS["qwen2.5-coder-0.5b"], llm.PACKAGED_MODELS["qwen2.5-coder-1.5b"]
    assert large.size == 1_117_320_768 and len(large.parts) == 22
    assert large.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert [p[1] for p in large.parts][:2] == ["data/part01.bin", "data/part02.bin"]
    assert len(small.parts) == 6 and llm.DEFAULT_MODEL.name in llm.PACKAGED_MODELS


def test_a_model_not_installed_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm, "packaged_model_installed", lambda model: False)
    with pytest.raises(ModelError, match="install.sh --model 0.5b"):
        models.use_model(load_settings(), "qwen2.5-coder-0.5b")
    statuses = {s.name: s for s in models.packaged_models(load_settings())}
    assert not statuses["qwen2.5-coder-0.5b"].installed
    assert statuses[llm.DEFAULT_MODEL.name].default


def test_choosing_a_packaged_model_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm, "packaged_model_installed", lambda model: True)
    settings = load_settings()
    assert models.use_model(settings, "qwen2.5-coder-0.5b") == "qwen2.5-coder-0.5b"
    assert 'llm_model = "qwen2.5-coder-0.5b"' in settings.config_path.read_text()
    assert load_settings().llm_model == "qwen2.5-coder-0.5b"
