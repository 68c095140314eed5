"""`satchel mcp` end to end: the server runs as a subprocess and is driven by the MCP
SDK's own client (stdio_client, streamable_http_client) against a store built from the
bundled sample data with the real embedder, FAISS and the default GGUF model.

One store and one server per module (started once, shared through an anyio blocking
portal), so the whole file costs the index of the sample, two server starts and two
answers of the local model."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import jsonschema
import psutil
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.conftest import CORPORA, REPO, SAMPLE, SATCHEL, link_model, run_cli

pytestmark = pytest.mark.integration

LONG_PDF = CORPORA / "pdf" / "py-pdf-sample-files" / "004-pdflatex-4-pages" / "pdflatex-4-pages.pdf"
CABIN_MAIL = "20260410110000.59ab3e3069@pinhalstays.example.com"  # "Arrival details - Casa do Pinhal"
READ_TOOLS = {"search", "fetch_document", "ask", "list_sources", "status"}
WRITE_TOOLS = {"add_source", "sync", "forget"}
CALL_TIMEOUT_S = 300  # an answer of the local model on two busy cores


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> dict[str, Any]:
    """The sample data and a four-page PDF, indexed once for the module."""
    root = tmp_path_factory.mktemp("mcp-store")
    home, data = root / "home", root / "sample"
    shutil.copytree(SAMPLE, data)
    link_model(home, model_cache)
    run_cli("add", str(data), "--json", home=home)
    run_cli("add", str(LONG_PDF), "--json", home=home)
    report = json.loads(run_cli("index", "--json", home=home).stdout)
    assert report["errors"] == 0, report["error_list"]
    return {"home": home, "data": data, "root": root}


class Session:
    """A connected SDK client, called from synchronous tests through the portal."""

    def __init__(self, portal: BlockingPortal, client: Client, log: Path) -> None:
        self.portal, self.client, self.log = portal, client, log

    def tools(self) -> dict[str, Any]:
        return {t.name: t for t in self.portal.call(self.client.list_tools).tools}

    def call(self, name: str, arguments: dict[str, Any]) -> Any:
        return self.portal.call(lambda: self.client.call_tool(name, arguments, read_timeout_seconds=CALL_TIMEOUT_S))

    def ok(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = self.call(name, arguments)
        assert not result.is_error, f"{name}({arguments}): {result.content[0].text}\n{self.log.read_text()[-3000:]}"
        return result.structured_content


@contextmanager
def mcp_session(home: Path, *flags: str) -> Iterator[Session]:
    log = home.parent / f"server-{time.monotonic_ns()}.log"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "assistant.cli", "mcp", *flags],
        env={"SATCHEL_HOME": str(home), "HF_HUB_OFFLINE": "1"},
        cwd=str(REPO),
    )
    with (
        open(log, "w") as errlog,
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Client(stdio_client(params, errlog=errlog))) as client,
    ):
        yield Session(portal, client, log)


@pytest.fixture(scope="module")
def server(store: dict[str, Any]) -> Iterator[Session]:
    with mcp_session(store["home"]) as session:
        yield session


@pytest.fixture(scope="module")
def hidden(store: dict[str, Any]) -> dict[str, Any]:
    """What the restricted server below must never show: Helena's mail (from her or
    to her, attachments too), the Telegram chats, and every note and file."""
    db = sqlite3.connect(store["home"] / "satchel.db")
    rows = db.execute(
        "SELECT d.id, d.kind, d.author, d.participants, d.parent_id, u.path FROM documents d "
        "JOIN units u ON u.id = d.unit_id"
    ).fetchall()
    helena = {i for i, _, a, p, _, _ in rows if "helena" in f"{a} {p}".lower()}
    helena |= {i for i, _, _, _, parent, _ in rows if parent in helena}
    telegram = {i for i, _, _, _, _, path in rows if "/telegram/" in path}
    other_kinds = {i for i, kind, *_ in rows if kind not in ("email", "chat")}
    db.close()
    assert helena and telegram and other_kinds
    return {"helena": helena, "telegram": telegram, "all": helena | telegram | other_kinds}


@pytest.fixture(scope="module")
def restricted(store: dict[str, Any]) -> Iterator[Session]:
    flags = ["--kind", "email", "--kind", "chat", "--exclude-person", "Helena Duarte"]
    flags += ["--exclude-folder", str(store["data"] / "chats" / "telegram"), "--allow-writes"]
    with mcp_session(store["home"], *flags) as session:
        yield session


def doc_id(reference: str) -> int:
    assert re.fullmatch(r"doc:\d+", reference), reference
    return int(reference.split(":")[1])


# --- the tools and their schemas ------------------------------------------------------------
def test_tools_are_listed_with_valid_schemas_written_for_a_model(server: Session) -> None:
    tools = server.tools()
    assert set(tools) == READ_TOOLS
    for name, tool in tools.items():
        assert tool.description and len(tool.description) > 80, name
        schema = tool.input_schema
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object"
        for prop, spec in schema.get("properties", {}).items():
            assert spec.get("description"), f"{name}.{prop} has no description"
        assert tool.annotations.read_only_hint is True and tool.annotations.destructive_hint is False, name
        assert tool.annotations.open_world_hint is False, name
        assert tool.output_schema is not None, name
        jsonschema.Draft202012Validator.check_schema(tool.output_schema)
    search = tools["search"].input_schema
    assert search["required"] == ["query"]
    jsonschema.validate({"query": "cabin", "kind": ["email", "chat"], "k": 5}, search)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"query": "cabin", "k": 0}, search)
    assert tools["fetch_document"].input_schema["required"] == ["reference"]
    assert tools["ask"].input_schema["required"] == ["question"]


def test_write_tools_are_absent_without_the_flag(server: Session) -> None:
    assert not WRITE_TOOLS & set(server.tools())
    result = server.call("forget", {"person": "Anna Keller", "dry_run": False})
    assert result.is_error and "Unknown tool" in result.content[0].text


# --- search, fetch, ask ----------------------------------------------------------------------
def test_search_returns_the_cabin_mail_with_its_message_id(server: Session) -> None:
    result = server.call("search", {"query": "cabin door code"})
    assert not result.is_error
    # clients without structured output read the same JSON as text
    assert json.loads(result.content[0].text) == result.structured_content
    hits = result.structured_content["results"]
    mail = next(h for h in hits if h["message_id"] == CABIN_MAIL)
    assert mail["kind"] == "email" and "Casa do Pinhal" in mail["title"]
    assert mail["author"].startswith("Helena Duarte") and mail["time"].startswith("2026-04-10")
    assert CABIN_MAIL in mail["locator"] and "4827" in mail["snippet"]
    assert mail["source"].endswith("inbox.mbox")
    for hit in hits:
        assert {"reference", "title", "author", "time", "locator", "snippet"} <= set(hit)
        if hit["kind"] == "chat":
            assert hit["time_range"] == hit["locator"] and re.match(r"2026-\d\d-\d\d \d\d:\d\d", hit["locator"])

    # the reference and the Message-ID both open the mail
    page = server.ok("fetch_document", {"reference": mail["reference"]})
    assert page["message_id"] == CABIN_MAIL and page["reference"] == mail["reference"]
    assert "Door code: 4827" in page["text"] and page["next_offset"] is None
    assert "Jamie Rivera" in " ".join(page["participants"])
    by_id = server.ok("fetch_document", {"reference": f"<{CABIN_MAIL}>"})
    assert by_id["reference"] == mail["reference"]


def test_filters_said_in_words_and_given_as_arguments(server: Session) -> None:
    found = server.ok("search", {"query": "emails from Anna about the budget"})
    assert "kind: email" in found["applied_filters"]
    assert any(f.startswith("person:") and "Anna" in f for f in found["applied_filters"])
    assert found["results"] and all(h["kind"] == "email" for h in found["results"])
    assert "Anna Keller" in found["results"][0]["author"]
    chats = server.ok("search", {"query": "kayak", "kind": "chat"})["results"]
    assert chats and all(h["kind"] == "chat" for h in chats)
    literal = server.ok("search", {"query": "emails from Anna about the budget", "read_filters": False})
    assert literal["applied_filters"] == []


def test_fetch_document_pages_a_long_pdf(server: Session) -> None:
    hits = server.ok("search", {"query": "blind text letters of the alphabet", "source": str(LONG_PDF)})["results"]
    assert hits and all(h["kind"] == "file" and h["page"] in (1, 2, 3, 4) for h in hits)
    reference = hits[0]["reference"]
    parts, offset = [], 0
    while offset is not None:
        part = server.ok("fetch_document", {"reference": reference, "offset": offset, "max_chars": 4000})
        assert len(part["text"]) <= 4000 and part["offset"] == offset
        parts.append(part)
        offset = part["next_offset"]
        assert len(parts) < 20
    total = parts[0]["total_chars"]
    assert len(parts) >= 4 and total > 12_000
    assert sum(len(p["text"]) for p in parts) == total  # contiguous, nothing lost or repeated
    assert parts[0]["metadata"]["page_count"] == 4
    starts = {loc["locator"]: loc["offset"] for p in parts for loc in p["locators"]}
    assert list(starts) == ["page 1", "page 2", "page 3", "page 4"]
    assert starts["page 1"] < starts["page 2"] < starts["page 3"] < starts["page 4"]

    third = server.ok("fetch_document", {"reference": reference, "locator": "page 3", "max_chars": 1000})
    assert third["offset"] == starts["page 3"] and third["locators"][0]["locator"] == "page 3"
    beyond = server.call("fetch_document", {"reference": reference, "offset": total + 10})
    assert beyond.is_error and "outside the document" in beyond.content[0].text


def test_ask_returns_the_cited_answer(server: Session) -> None:
    answer = server.ok("ask", {"question": "When is the cabin check-in and what is the door code?"})
    assert answer["answered"] is True and "4827" in answer["answer"]
    assert re.search(r"\[\d+\]", answer["answer"])
    cited = [s for s in answer["sources"] if s["cited"]]
    assert cited and all(s["reference"].startswith("doc:") and s["locator"] for s in cited)
    assert [s["n"] for s in answer["sources"]] == list(range(1, len(answer["sources"]) + 1))
    assert answer["model"]


def test_answers_over_mcp_are_marked_in_the_usage_ledger(server: Session, store: dict[str, Any]) -> None:
    server.ok("ask", {"question": "What will Marco bring to the cabin?"})
    db = sqlite3.connect(store["home"] / "satchel.db")
    rows = db.execute("SELECT origin, turn_id, generated_tokens, model FROM usage_ledger").fetchall()
    db.close()
    # MCP answers are not stored as conversation turns: their rows point at none
    assert rows and all(origin == "mcp" and turn is None and tokens > 0 for origin, turn, tokens, _ in rows)


def test_list_sources_and_status(server: Session, store: dict[str, Any]) -> None:
    sources = server.ok("list_sources", {})["sources"]
    # sources are stored resolved: ../shared may be a link to the corpora
    assert [s["path"] for s in sources] == [str(store["data"].resolve()), str(LONG_PDF.resolve())]
    assert sources[0]["documents"] >= 40 and sources[1]["documents"] == 1
    status = server.ok("status", {})
    assert status["documents"] >= 41 and status["chunks"] >= status["documents"]
    assert status["writes_allowed"] is False and status["scope"]["restricted"] is False
    assert status["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2"


def test_malformed_calls_return_tool_errors_and_the_server_goes_on(server: Session) -> None:
    bad: list[tuple[str, dict[str, Any], str]] = [
        ("search", {}, "query"),
        ("search", {"query": 5}, "query"),
        ("search", {"query": "cabin", "k": 0}, "k"),
        ("search", {"query": "cabin", "after": "last tuesday"}, "YYYY"),
        ("search", {"query": "cabin", "source": "/nowhere"}, "not a registered source"),
        ("fetch_document", {"reference": "doc:999999"}, "no such document"),
        ("fetch_document", {"reference": "the cabin mail"}, "not a reference"),
        ("fetch_document", {"reference": "doc:1", "locator": "page 99"}, "no locator"),
        ("ask", {"question": ""}, "question"),
    ]
    for name, arguments, says in bad:
        result = server.call(name, arguments)
        assert result.is_error, (name, arguments)
        assert says in result.content[0].text, (name, arguments, result.content[0].text)
    assert server.ok("search", {"query": "cabin"})["results"]


# --- restrictions, enforced for every tool -----------------------------------------------------
def test_restrictions_hold_for_search_fetch_and_ask(restricted: Session, hidden: dict[str, Any]) -> None:
    for query, arguments in [
        ("cabin door code", {}),
        ("Helena arrival details check-in", {}),
        ("notes about the cabin packing list", {}),
        ("Sofia Telegram Porto Christmas", {}),
        ("door code", {"kind": "note"}),  # a kind outside the scope narrows to nothing
        ("cabin", {"person": "Helena Duarte"}),
        ("chats and notes about the kayak", {}),
    ]:
        hits = restricted.ok("search", {"query": query, "k": 20, **arguments})["results"]
        assert all(h["kind"] in ("email", "chat") for h in hits), query
        assert not {doc_id(h["reference"]) for h in hits} & hidden["all"], query
        # her name may be mentioned by others ("paid the balance to Helena"); what she
        # wrote or took part in is hidden
        assert all("helena" not in (h["author"] or "").lower() for h in hits), query
    assert restricted.ok("search", {"query": "cabin door code"})["results"], "the scope hides too much"
    # retrieval itself kept to the scope: the last check before returning withheld nothing
    assert "outside the server's scope" not in restricted.log.read_text()

    for reference in [f"doc:{min(hidden['helena'])}", CABIN_MAIL, f"doc:{min(hidden['telegram'])}"]:
        result = restricted.call("fetch_document", {"reference": reference})
        # hidden reads as missing: the client learns nothing about what is hidden
        assert result.is_error and "no such document" in result.content[0].text, reference

    answer = restricted.ok("ask", {"question": "What is the door code of the cabin?"})
    assert "4827" not in answer["answer"]  # it is only in Helena's mail
    assert not {doc_id(s["reference"]) for s in answer["sources"]} & hidden["all"]


def test_restricted_status_and_sources_name_nothing_hidden(
    restricted: Session, store: dict[str, Any], hidden: dict[str, Any]
) -> None:
    status = restricted.ok("status", {})
    assert status["scope"] == {
        "restricted": True,
        "kinds": ["email", "chat"],
        "sources": None,
        "excluded_persons": 1,
        "excluded_folders": 1,
    }
    text = json.dumps(status).lower() + json.dumps(restricted.ok("list_sources", {})).lower()
    assert "helena" not in text and "telegram" not in text
    db = sqlite3.connect(store["home"] / "satchel.db")
    total = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    db.close()
    assert status["documents"] == total - len(hidden["all"])


def test_write_tools_only_with_the_flag_and_marked_destructive(restricted: Session) -> None:
    tools = restricted.tools()
    assert set(tools) == READ_TOOLS | WRITE_TOOLS
    for name in WRITE_TOOLS:
        annotations = tools[name].annotations
        assert annotations.destructive_hint is True and annotations.read_only_hint is False, name
    target = restricted.ok("search", {"query": "budget", "kind": "email"})["results"][0]["reference"]
    counted = restricted.ok("forget", {"document": target})  # dry run unless told otherwise
    assert counted["dry_run"] is True and counted["documents"] == 1
    assert restricted.ok("fetch_document", {"reference": target})["reference"] == target
    refused = restricted.call("forget", {"person": "Anna Keller", "dry_run": False})
    assert refused.is_error and "restricted" in refused.content[0].text
    synced = restricted.ok("sync", {})
    assert synced["errors"] == 0 and synced["added"] == 0 and synced["deleted"] == 0


# --- streamable HTTP ---------------------------------------------------------------------------
def _post(url: str, token: str | None) -> int:
    client = {"name": "test", "version": "1"}
    params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client}
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Accept", "application/json, text/event-stream")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


async def _tools_over_http(url: str, token: str) -> tuple[list[str], dict[str, Any]]:
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        names = [t.name for t in (await client.list_tools()).tools]
        found = await client.call_tool("search", {"query": "cabin door code"})
        return names, found.structured_content


def _non_loopback_addresses() -> list[str]:
    addresses = []
    for entries in psutil.net_if_addrs().values():
        for entry in entries:
            if entry.family in (socket.AF_INET, socket.AF_INET6):
                address = ipaddress.ip_address(entry.address.split("%")[0])
                if not address.is_loopback and not address.is_link_local:
                    addresses.append(str(address))
    return addresses


def test_http_needs_the_token_and_listens_on_loopback_only(store: dict[str, Any]) -> None:
    home = store["home"]
    env = dict(os.environ, SATCHEL_HOME=str(home), HF_HUB_OFFLINE="1")
    command = [*SATCHEL, "mcp", "--http", "0"]
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        printed: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            assert line, f"the server exited: {''.join(printed)}"
            printed.append(line)
            if "serving http://" in line:
                break
        url = re.search(r"http://\S+", printed[-1]).group(0)  # type: ignore[union-attr]
        token_file = home / "mcp-token"
        token = token_file.read_text().strip()
        assert token in "".join(printed)  # printed once, when it was made
        assert token_file.stat().st_mode & 0o777 == 0o600
        assert url.startswith("http://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1].split("/")[0])

        assert _post(url, None) == 401
        assert _post(url, "not-the-token") == 401
        assert _post(url, token) == 200
        names, found = anyio.run(_tools_over_http, url, token)
        assert set(names) == READ_TOOLS
        assert any(h["message_id"] == CABIN_MAIL for h in found["results"])

        listening = [c for c in psutil.Process(proc.pid).net_connections("inet") if c.status == psutil.CONN_LISTEN]
        assert listening and all(ipaddress.ip_address(c.laddr.ip).is_loopback for c in listening)
        for address in _non_loopback_addresses():
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.settimeout(3)
                with pytest.raises(OSError):
                    probe.connect((address, port))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_http_refuses_other_interfaces_unless_allowed_explicitly(store: dict[str, Any]) -> None:
    for host in ["0.0.0.0", "::", *_non_loopback_addresses()[:1]]:
        proc = run_cli("mcp", "--http", "0", "--host", host, home=store["home"], check=False, timeout=60)
        assert proc.returncode == 6, (host, proc.stderr)
        assert "--allow-non-loopback" in proc.stderr


# --- beside a writer (last: it changes the shared store) ----------------------------------------
def test_the_server_holds_no_writer_lock_and_follows_a_new_index(server: Session, store: dict[str, Any]) -> None:
    note = store["data"] / "notes" / "harbour-kiosk.md"
    note.write_text("# Harbour kiosk\n\nThe zanzibarite lamp at the harbour kiosk costs 14 euros.\n")
    before = server.ok("search", {"query": "zanzibarite lamp"})["results"]
    assert not any(h["source"] == str(note) for h in before)
    # `satchel index` would stop with "another Satchel process is writing" if the
    # server held the writer lock while serving
    report = json.loads(run_cli("index", "--json", home=store["home"]).stdout)
    assert report["added"] == 1
    after = server.ok("search", {"query": "zanzibarite lamp"})["results"]
    assert after and after[0]["source"] == str(note)
