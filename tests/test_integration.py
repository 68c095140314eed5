"""End to end with the real parts: the bundled all-MiniLM-L6-v2, FAISS, SQLite and
the default GGUF model through llama-cpp-python. These drive the `satchel` CLI the
way scripts do, and check its JSON contract (docs/cli.md)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLE, SATCHEL, link_model, run_cli

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> dict:
    """A store built from a copy of data/sample (so files can be deleted)."""
    root = tmp_path_factory.mktemp("sample-store")
    home = root / "home"
    data = root / "sample"
    shutil.copytree(SAMPLE, data)
    link_model(home, model_cache)
    added = json.loads(run_cli("add", str(data), "--json", home=home).stdout)
    first = run_cli("index", "--json", home=home)
    return {"home": home, "data": data, "source": added, "first": json.loads(first.stdout)}


def test_index_json_contract_and_no_work_on_second_run(sample_store: dict) -> None:
    first = sample_store["first"]
    assert set(first) >= {"added", "updated", "deleted", "unchanged", "embedded_chunks", "errors", "seconds"}
    assert first["added"] >= 40 and first["embedded_chunks"] >= first["added"]
    assert first["errors"] == 0, first.get("error_list")
    second = json.loads(run_cli("index", "--json", home=sample_store["home"]).stdout)
    assert second["embedded_chunks"] == 0 and second["added"] == 0 and second["updated"] == 0
    assert second["unchanged"] == first["added"]


def test_search_json_contract(sample_store: dict) -> None:
    proc = run_cli("search", "cabin door code", "--json", home=sample_store["home"])
    data = json.loads(proc.stdout)
    assert data["query"] == "cabin door code"
    assert set(data["filters"]) == {"kind", "source", "person", "after", "before", "hint_after", "hint_before"}
    fields = {
        "chunk_id",
        "document_id",
        "kind",
        "title",
        "author",
        "timestamp",
        "source",
        "locator",
        "score",
        "snippet",
    }
    assert data["results"] and all(fields <= set(r) for r in data["results"])
    assert any("4827" in r["snippet"] for r in data["results"][:3])
    # stdout is JSON only; nothing else mixed in
    assert proc.stdout.strip().startswith("{") and proc.stdout.strip().endswith("}")


def test_search_filters_by_kind_person_and_date(sample_store: dict) -> None:
    home = sample_store["home"]
    chats = json.loads(run_cli("search", "kayak", "--kind", "chat", "--json", home=home).stdout)["results"]
    assert chats and all(r["kind"] == "chat" for r in chats)
    anna = json.loads(run_cli("search", "budget", "--from", "Anna", "--json", home=home).stdout)["results"]
    # --from/--person: Anna wrote it or took part (a recipient, a chat member)
    db = sqlite3.connect(home / "satchel.db")
    for r in anna:
        author, participants = db.execute(
            "SELECT author, participants FROM documents WHERE id = ?", (r["document_id"],)
        ).fetchone()
        assert "anna" in f"{author} {participants}".lower()
    assert anna and any("anna" in (r["author"] or "").lower() for r in anna)
    dated = json.loads(
        run_cli("search", "cabin", "--after", "2026-04-01", "--before", "2026-05-01", "--json", home=home).stdout
    )["results"]
    assert dated and all(r["timestamp"] is None or r["timestamp"] >= "2026-03" for r in dated)


def test_ask_json_contract_with_correct_cited_answer(sample_store: dict) -> None:
    proc = run_cli("ask", "When is the cabin check-in and what is the door code?", "--json", home=sample_store["home"])
    data = json.loads(proc.stdout)
    assert set(data) >= {"question", "answer", "answered", "sources", "stats"}
    assert data["answered"] is True
    assert "4827" in data["answer"]
    fields = {"n", "cited", "document_id", "kind", "title", "author", "timestamp", "source", "locator", "snippet"}
    assert all(fields <= set(s) for s in data["sources"])
    cited = [s for s in data["sources"] if s["cited"]]
    assert cited, data["answer"]
    assert [s["n"] for s in data["sources"]] == list(range(1, len(data["sources"]) + 1))
    stats = data["stats"]
    assert stats["prompt_tokens"] > 0 and stats["generated_tokens"] > 0 and stats["time_to_first_token_s"] > 0
    # the usage ledger holds this answer's row, tokens as the meter said (docs/usage.md)
    usage = json.loads(run_cli("usage", "--json", home=sample_store["home"]).stdout)
    [row] = [r for r in usage["rows"] if r["by_origin"].get("cli")]
    assert row["model"] == stats["model"] and row["backend"] == "local"
    assert row["prompt_tokens"] >= stats["prompt_tokens"] and row["generated_tokens"] >= stats["generated_tokens"]
    assert row["model_bytes"] == (sample_store["home"] / "models" / stats["model"]).stat().st_size
    assert usage["bandwidth_source"] == "measured" and usage["bandwidth_gbs"] > 0
    assert row["ceiling_tokens_per_s"] > 0 and row["fraction_of_ceiling"] > 0
    assert row["energy_wh"] > 0 and row["energy_estimated_answers"] + row["energy_measured_answers"] == row["answers"]
    assert usage["total"]["cloud_equivalent_cost"] > 0


def test_ask_declines_without_evidence(sample_store: dict) -> None:
    data = json.loads(
        run_cli(
            "ask", "What is the boiling point of liquid nitrogen on Neptune?", "--json", home=sample_store["home"]
        ).stdout
    )
    assert data["answered"] is False
    # declined by the relevance floor (no model call) or by the answerability check,
    # which reads the prompt and generates nothing
    assert data["stats"] is None or (data["stats"]["generated_tokens"] == 0 and data["answerable"] < 0.55)


def test_status_json_contract(sample_store: dict) -> None:
    data = json.loads(run_cli("status", "--json", home=sample_store["home"]).stdout)
    assert {"documents", "chunks", "sources", "errors", "embedding_model", "llm_model"} <= set(data)
    assert data["documents"] >= 40 and data["chunks"] >= data["documents"] // 2
    assert data["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert len(data["sources"]) == 1


def test_deleted_file_disappears_from_results(sample_store: dict) -> None:
    home, data = sample_store["home"], sample_store["data"]
    before = json.loads(run_cli("search", "kayak", "--kind", "chat", "--json", home=home).stdout)["results"]
    assert before
    for chat in (data / "chats").glob("WhatsApp*.txt"):
        chat.unlink()
    report = json.loads(run_cli("index", "--json", home=home).stdout)
    assert report["deleted"] >= 1 and report["embedded_chunks"] == 0
    after = json.loads(run_cli("search", "kayak", "--kind", "chat", "--json", home=home).stdout)["results"]
    assert not any("WhatsApp" in r["source"] for r in after)


def test_cli_errors_are_one_line_and_nonzero(tmp_path: Path, satchel_home: Path) -> None:
    proc = run_cli("add", str(tmp_path / "missing"), home=satchel_home, check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().startswith("satchel:") and "missing" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = run_cli("remove", "no-such-source", home=satchel_home, check=False)
    assert proc.returncode != 0 and "not a registered source" in proc.stderr


def test_help_everywhere(satchel_home: Path) -> None:
    for command in ("add", "remove", "sources", "index", "search", "ask", "status", "tui", "demo"):
        proc = run_cli(command, "--help", home=satchel_home)
        assert "usage: satchel" in proc.stdout


def test_demo_store_holds_this_checkouts_sample_alone(tmp_path: Path, model_cache: Path) -> None:
    """`satchel demo` keeps its own store (beside the user's, never in it). A sample
    registered there by another checkout is dropped, so that citations point into this
    checkout's data/sample and not into a folder that may be gone."""
    data_home = tmp_path / "xdg"
    demo_home = data_home / "satchel-demo"
    other = tmp_path / "other-checkout" / "data" / "sample"
    shutil.copytree(SAMPLE / "notes", other / "notes")
    link_model(demo_home, model_cache)
    run_cli("add", str(other), home=demo_home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
    env.update(XDG_DATA_HOME=str(data_home), HF_HUB_OFFLINE="1")
    # a question the store cannot answer: declined before the model is loaded
    demo = subprocess.run(
        [*SATCHEL, "demo", "--no-tui", "--question", "What is my passport number?"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )
    assert demo.returncode == 0, demo.stderr
    sources = json.loads(run_cli("sources", "--json", home=demo_home).stdout)
    assert [Path(s["path"]) for s in sources] == [SAMPLE.resolve()]
    user_home = data_home / "satchel"
    assert not (user_home / "satchel.db").exists()  # the user's own store was not touched
