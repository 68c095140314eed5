"""The offline guarantee: ingest, search and ask open no non-loopback connection.

Runs in process with the real embedder and the real GGUF model, and a guard on
every socket that fails the test on any connection attempt outside loopback."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest

from tests.conftest import SAMPLE, link_model

pytestmark = pytest.mark.integration


def _is_loopback(address: object) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0] if isinstance(address, tuple) else address
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return str(host) == "localhost"


def test_add_index_search_ask_stay_on_this_machine(
    monkeypatch: pytest.MonkeyPatch, satchel_home: Path, model_cache: Path
) -> None:
    attempts: list[object] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded_connect(self: socket.socket, address: object) -> None:
        if not _is_loopback(address):
            attempts.append(address)
            raise OSError(f"blocked non-loopback connection to {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    def guarded_connect_ex(self: socket.socket, address: object) -> int:
        if not _is_loopback(address):
            attempts.append(address)
            return 111
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    def guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        if host not in (None, "localhost") and not _is_loopback((host,)):
            attempts.append(host)
            raise socket.gaierror(f"blocked name lookup of {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    # prove the guard works before trusting it
    with pytest.raises(OSError, match="blocked"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)
    attempts.clear()

    link_model(satchel_home, model_cache)
    from assistant.core import Satchel
    from assistant.settings import load_settings

    app = Satchel(load_settings())
    app.add_source(SAMPLE)
    report = app.sync()
    assert report.added >= 40 and report.errors == 0
    results = app.search("ferry time to the cabin").results
    assert results
    answer = app.ask("What will Marco bring to the cabin?")
    assert answer.answered and "kayak" in answer.answer.lower()
    # the answer is in one chat message: the citation names the chat and its time range
    cited = [s for s in answer.sources if s.cited]
    assert cited and cited[0].result.kind == "chat" and "Cabin Crew" in cited[0].result.title
    assert cited[0].result.locator.startswith("2026-") and ":" in cited[0].result.locator
    app.close()
    assert attempts == []
