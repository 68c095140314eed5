"""Generation on a private OpenAI-compatible server (llama.cpp's server, vLLM, Ollama).

For when a laptop is not enough: the prompts, which hold personal data, go to a
machine the user owns. A server address that is neither loopback nor private is
refused unless the user allowed it explicitly (``llm_server_allow_public``).
Standard library only (urllib), streaming over server-sent events.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse

from assistant.backends.generation import GenerationStats
from assistant.errors import ModelError, NetworkPolicyError
from assistant.settings import Settings


def check_private(url: str, allow_public: bool) -> None:
    """Refuse a server outside loopback and private networks unless allowed."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise NetworkPolicyError(f"llm_server_url {url!r} is not an http(s) URL")
    if allow_public:
        return
    host = parsed.hostname
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, parsed.port or 80, proto=socket.IPPROTO_TCP)}
    except socket.gaierror as exc:
        raise NetworkPolicyError(f"cannot resolve the server {host!r}: {exc}") from exc
    for address in addresses:
        ip = ipaddress.ip_address(str(address).split("%")[0])
        if not (ip.is_loopback or ip.is_private or ip.is_link_local):
            raise NetworkPolicyError(
                f"refusing to send your data to {host} ({ip}): it is not a loopback or private address. "
                "Set llm_server_allow_public = true only if you trust that server with your data."
            )


class RemoteModel:
    """A ChatModel (assistant/backends/protocols.py) answered by an OpenAI-compatible server."""

    def __init__(self, settings: Settings) -> None:
        if not settings.llm_server_url:
            raise ModelError("llm_backend is 'openai' but llm_server_url is not set")
        check_private(settings.llm_server_url, settings.llm_server_allow_public)
        self.settings = settings
        self.base = settings.llm_server_url.rstrip("/")
        if not self.base.endswith("/v1"):
            self.base += "/v1"

    @property
    def name(self) -> str:
        return f"{self.settings.llm_server_model or 'server'} @ {self.base}"

    def count_tokens(self, text: str) -> int:
        # no tokenizer here; a conservative estimate keeps the budget safe
        return len(text) // 3 + 1

    def _request(self, path: str, payload: dict[str, Any]) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.settings.llm_server_api_key:
            headers["Authorization"] = f"Bearer {self.settings.llm_server_api_key.reveal()}"
        request = urllib.request.Request(self.base + path, data=json.dumps(payload).encode(), headers=headers)
        try:
            return urllib.request.urlopen(request, timeout=600)  # noqa: S310 - address checked above
        except urllib.error.URLError as exc:
            raise ModelError(f"the model server at {self.base} did not answer: {exc}") from exc

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        stats: GenerationStats,
        should_stop: Callable[[], bool] | None = None,
        words_first: bool = False,  # the server samples as it likes
    ) -> Iterator[str]:
        payload = {
            "model": self.settings.llm_server_model or "default",
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        started = time.perf_counter()
        first: float | None = None
        count = 0
        with self._request("/chat/completions", payload) as response:
            for raw in response:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                event = json.loads(data)
                usage = event.get("usage")
                if usage:
                    stats.prompt_tokens = int(usage.get("prompt_tokens") or 0)
                    count = int(usage.get("completion_tokens") or count)
                for choice in event.get("choices") or []:
                    text = (choice.get("delta") or {}).get("content") or ""
                    if text:
                        now = time.perf_counter()
                        if first is None:
                            first = now
                            stats.time_to_first_token_s = now - started
                        count += 0 if usage else 1
                        yield text
                if should_stop is not None and should_stop():
                    break
        end = time.perf_counter()
        stats.generated_tokens = count
        stats.prompt_tokens_evaluated = stats.prompt_tokens
        stats.total_s = end - started
        if stats.time_to_first_token_s > 0 and stats.prompt_tokens:
            stats.prompt_tokens_per_s = stats.prompt_tokens / stats.time_to_first_token_s
        if first is not None and count > 1 and end > first:
            stats.generation_tokens_per_s = (count - 1) / (end - first)
