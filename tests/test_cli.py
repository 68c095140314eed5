"""The command line in process, through ``main(argv)``: the parser each command group
registers, the handler it names, the JSON contract on stdout, messages and exit codes
on stderr, and docs/cli.md generated from the same parsers. The real entry point (the
console script, ``python -m assistant.cli``) keeps its subprocess tests in test_ops,
test_settings and test_integration."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant.cli.app import build_parser, main
from assistant.cli.demo import repo_sample_dir
from assistant.errors import SourceError
from tests.conftest import REPO, FakeEmbedder


@pytest.fixture
def run(satchel_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """``run(*argv)`` -> (exit code, stdout, stderr), with the fake embedder in the core."""
    from assistant.core import Satchel

    monkeypatch.setattr("assistant.backends.embedder.force_offline", lambda: None)  # leaves os.environ alone
    embedder = FakeEmbedder()  # one for every command, as one process would load it once

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv), make_core=lambda settings: Satchel(settings, embedder=embedder))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def write_notes(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "boat.md").write_text("# Boat\n\nThe mooring fee for the sailing boat is 340 euros a season.\n")
    (folder / "garden.md").write_text("# Garden\n\nThe tomatoes go in after the last frost, mid May.\n")
    return folder


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_add_index_search_status_in_process(run: Any, tmp_path: Path) -> None:
    notes = write_notes(tmp_path / "notes")
    code, out, _ = run("add", str(notes), "--json")
    assert code == 0 and json.loads(out)["path"] == str(notes.resolve())

    code, out, _ = run("index", "--json")
    report = json.loads(out)
    assert code == 0 and report["added"] == 2 and report["errors"] == 0

    code, out, _ = run("search", "mooring fee", "--json")
    results = json.loads(out)["results"]
    assert code == 0 and results and results[0]["title"] == "Boat"

    code, out, _ = run("status", "--json")
    status = json.loads(out)
    assert code == 0 and status["documents"] == 2 and status["sources"][0]["documents"] == 2

    code, out, err = run("sources")
    assert code == 0 and str(notes.resolve()) in out and err == ""


def test_reindex_is_index_by_another_name(run: Any, tmp_path: Path) -> None:
    run("add", str(write_notes(tmp_path / "notes")))
    code, out, _ = run("reindex", "--json")
    assert code == 0 and json.loads(out)["added"] == 2
    code, out, _ = run("index", "--json")
    assert code == 0 and json.loads(out)["unchanged"] == 2


def test_a_core_error_is_one_line_on_stderr_and_its_exit_code(run: Any) -> None:
    code, out, err = run("remove", "no-such-source")
    assert code == SourceError.exit_code != 0
    assert out == "" and err.count("\n") == 1 and err.startswith("satchel: no-such-source")


def test_every_command_names_a_handler_and_has_help() -> None:
    parser = build_parser()
    leaves: list[tuple[str, argparse.ArgumentParser]] = []
    for name, sub in subcommands(parser).items():
        nested = subcommands(sub)
        leaves += [(f"{name} {n}", s) for n, s in nested.items()] if nested else [(name, sub)]
    assert len(leaves) >= 20
    for name, sub in leaves:
        assert callable(sub.get_default("handler")), f"`satchel {name}` has no handler"
        assert sub.format_help().strip(), name


def test_an_unknown_command_is_refused_by_the_parser(run: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run("frobnicate")
    assert exit_info.value.code == 2


def test_the_demo_finds_the_bundled_sample_data() -> None:
    assert repo_sample_dir() == REPO / "data" / "sample"
    assert any(repo_sample_dir().iterdir())


def test_docs_cli_md_is_generated_from_the_parsers() -> None:
    proc = subprocess.run(
        [sys.executable, "scripts/gen_cli_docs.py", "--check"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    doc = (REPO / "docs" / "cli.md").read_text()
    for name in subcommands(build_parser()):
        assert f"`satchel {name}" in doc or f"alias `{name}`" in doc, name


def test_the_demo_runs_on_a_new_account_without_a_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bash scripts/demo.sh` on a fresh account: ~/.local/share does not exist yet. The
    demo's own home beside the default one is made, the sample indexed and asked."""
    from assistant.core import Satchel
    from tests.test_core_unit import CannedModel

    data = tmp_path / "new-account" / ".local" / "share"  # not created
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.delenv("SATCHEL_HOME", raising=False)
    monkeypatch.setattr("assistant.backends.embedder.force_offline", lambda: None)
    model = CannedModel("The check-in is from 16:00 and the door code is 4827 [1].")
    code = main(["demo", "--no-tui"], make_core=lambda s: Satchel(s, embedder=FakeEmbedder(), chat_model=model))
    out, err = capsys.readouterr()
    assert code == 0, err
    assert (data / "satchel-demo" / "satchel.db").is_file() and not (data / "satchel").exists()
    assert out.startswith("Q: ") and "indexing the sample data" in err
