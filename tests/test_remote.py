"""The private inference server backend, against a real llama.cpp server started
on loopback by the test (llama-cpp-python's own `llama_cpp.server`, serving the
default model)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.backends.remote import check_private
from assistant.errors import NetworkPolicyError
from tests.conftest import REPO, SAMPLE

pytestmark = pytest.mark.integration


def test_public_addresses_are_refused_and_private_ones_allowed() -> None:
    for url in ("http://8.8.8.8:8080", "https://93.184.216.34/v1"):
        with pytest.raises(NetworkPolicyError, match="not a loopback or private address"):
            check_private(url, allow_public=False)
    for url in (
        "http://127.0.0.1:8080",
        "http://localhost:11434",
        "http://192.168.1.20:8000",
        "http://10.0.0.5",
        "http://[::1]:8080",
    ):
        check_private(url, allow_public=False)
    check_private("http://8.8.8.8:8080", allow_public=True)  # the user said so
    with pytest.raises(NetworkPolicyError):
        check_private("ftp://127.0.0.1/", allow_public=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_answers_through_a_real_loopback_server(satchel_home: Path, model_cache: Path, tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    # a file, not a pipe: llama.cpp logs a lot while loading and would block on a full pipe
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed in finally
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model_cache),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
            "--model_alias",
            "qwen-default",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"server did not start: {(tmp_path / 'server.log').read_text()[-3000:]}"
                    ) from None
                time.sleep(0.5)
        from assistant.core import Satchel
        from assistant.settings import load_settings
        from tests.conftest import FakeEmbedder  # retrieval is not what this test is about

        settings = load_settings(
            {
                "llm_backend": "openai",
                "llm_server_url": f"http://127.0.0.1:{port}",
                "llm_server_model": "qwen-default",
                "min_relevance": -1.0,
            }
        )
        app = Satchel(settings, embedder=FakeEmbedder())
        app.add_source(SAMPLE / "chats")
        app.sync()
        streamed: list[str] = []
        answer = app.ask("What will Marco bring to the cabin?", on_token=streamed.append)
        app.close()
        assert answer.stats is not None and answer.stats.generated_tokens > 0
        assert "".join(streamed).strip() and "kayak" in answer.answer.lower()
        assert answer.stats.model.startswith("qwen-default @ http://127.0.0.1")
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
