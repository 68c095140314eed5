"""Settings are converted and checked once, in load_settings: choices, strict booleans,
ranges, unknown keys, the secret API key; and docs/configuration.md is generated from
the comments in assistant/settings.py."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

import pytest

from assistant.errors import ConfigError
from assistant.settings import Secret, Settings, load_settings

REPO = Path(__file__).resolve().parents[1]


def config(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def gen_config_docs() -> Any:
    spec = importlib.util.spec_from_file_location("gen_config_docs", REPO / "scripts" / "gen_config_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


# --- the generated docs ----------------------------------------------------------------
def test_configuration_doc_is_generated_from_the_settings() -> None:
    gen = gen_config_docs()
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert gen.updated(doc) == doc, "docs/configuration.md is out of date: run scripts/gen_config_docs.py"


def test_every_setting_has_a_row_in_the_doc() -> None:
    table = gen_config_docs().render()
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    listed = {name.strip(" `") for row in rows for name in row.split(" | ")[0].strip("| ").split(",")}
    assert listed == {f.name for f in dataclasses.fields(Settings)}


def test_every_setting_is_documented_by_a_comment() -> None:
    rows = gen_config_docs().documented_fields((REPO / "assistant" / "settings.py").read_text(encoding="utf-8"))
    assert all(row.comment for row in rows)
    # only fields declared as a pair share a row
    assert [row.names for row in rows if len(row.names) > 1] == [
        ["type_k", "type_v"],
        ["cloud_input_price", "cloud_output_price"],
    ]


# --- valid values behave as before ------------------------------------------------------
def test_defaults_and_valid_values_load_unchanged(satchel_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings() == Settings(home=satchel_home)
    config(
        satchel_home,
        'type_k = "q8_0"\nfusion = "z-score"\nocr = false\nexclude = ["*.log"]\ntop_k = 7\n'
        "ocr_page_seconds = 30\nmin_relevance = -1.0\nn_gpu_layers = -1\ntemperature = 0\n",
    )
    monkeypatch.setenv("SATCHEL_EMBEDDING_PRECISION", "fp32")
    monkeypatch.setenv("SATCHEL_OCR_LANGUAGES", "eng, deu")
    monkeypatch.setenv("SATCHEL_BM25_WEIGHT", "0.7")
    s = load_settings({"top_k": 3})
    assert (s.type_k, s.fusion, s.ocr, s.exclude) == ("q8_0", "z-score", False, ("*.log",))
    assert (s.embedding_precision, s.ocr_languages, s.bm25_weight, s.top_k) == ("fp32", ("eng", "deu"), 0.7, 3)
    assert (s.ocr_page_seconds, s.min_relevance, s.n_gpu_layers, s.temperature) == (30.0, -1.0, -1, 0.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("TRUE", True), ("1", True), ("yes", True), ("On", True), (" on ", True)]
    + [("false", False), ("False", False), ("0", False), ("no", False), ("OFF", False)],
)
def test_boolean_words(text: str, expected: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATCHEL_ENCRYPT", text)
    assert load_settings().encrypt is expected


def test_toml_booleans(satchel_home: Path) -> None:
    config(satchel_home, "ocr = false\nencrypt = true\n")
    s = load_settings()
    assert s.ocr is False and s.encrypt is True


# --- what is refused ---------------------------------------------------------------------
def choice_fields() -> list[tuple[str, tuple[str, ...]]]:
    hints = get_type_hints(Settings)
    return [(name, get_args(kind)) for name, kind in hints.items() if get_origin(kind) is Literal]


def test_choice_settings_are_typed() -> None:
    choices = dict(choice_fields())
    assert choices["embedding_precision"] == ("auto", "fp32", "bf16")
    assert choices["fusion"] == ("rrf", "z-score")
    assert choices["type_k"] == choices["type_v"] == ("f16", "q8_0", "q4_0", "f32")
    assert choices["llm_backend"] == ("local", "openai")
    assert choices["ocr_engine"] == ("tesseract", "rapidocr")
    assert choices["energy_meter"] == ("auto", "estimate")


@pytest.mark.parametrize(("name", "choices"), choice_fields())
def test_a_bad_choice_from_the_environment(
    name: str, choices: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = f"SATCHEL_{name.upper()}"
    monkeypatch.setenv(env, "f61")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert f"'{name}'" in message and env in message and "'f61'" in message
    assert all(choice in message for choice in choices)
    assert caught.value.exit_code == 2


def test_a_bad_choice_in_the_config_file(satchel_home: Path) -> None:
    path = config(satchel_home, 'fusion = "zscore"\n')
    with pytest.raises(ConfigError, match="'fusion'") as caught:
        load_settings()
    assert str(path) in str(caught.value) and "'zscore'" in str(caught.value) and "z-score" in str(caught.value)


def test_a_choice_is_case_sensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATCHEL_EMBEDDING_PRECISION", "FP32")
    with pytest.raises(ConfigError, match="embedding_precision"):
        load_settings()


@pytest.mark.parametrize("text", ["maybe", "", "2", "tru", "enabled"])
def test_a_bad_boolean_from_the_environment(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATCHEL_OCR", text)
    with pytest.raises(ConfigError, match="SATCHEL_OCR") as caught:
        load_settings()
    assert "'ocr'" in str(caught.value) and "true or false" in str(caught.value)


@pytest.mark.parametrize("value", ['"maybe"', "2", '"enabled"'])
def test_a_bad_boolean_in_the_config_file(value: str, satchel_home: Path) -> None:
    config(satchel_home, f"encrypt = {value}\n")
    with pytest.raises(ConfigError, match="'encrypt'.*config.toml"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("n_ctx", "0", "at least 1"),
        ("embedding_batch_size", "-8", "at least 1"),
        ("top_k", "0", "at least 1"),
        ("embedding_threads", "-1", "at least 0"),
        ("chunk_overlap", "-1", "at least 0"),
        ("n_gpu_layers", "-2", "at least -1"),
        ("min_answerable", "1.5", "from 0 to 1"),
        ("min_cited_coverage", "-0.1", "from 0 to 1"),
        ("bm25_weight", "nan", "from 0 to 1"),
        ("ocr_page_seconds", "0", "more than 0"),
        ("cpu_watts", "-10", "at least 0"),
        ("temperature", "-0.5", "at least 0"),
    ],
)
def test_a_number_out_of_range(name: str, value: str, accepted: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"SATCHEL_{name.upper()}", value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert f"'{name}'" in message and f"SATCHEL_{name.upper()}" in message and repr(value) in message
    assert accepted in message


@pytest.mark.parametrize(
    ("line", "name"), [("top_k = 7.5", "top_k"), ("n_ctx = true", "n_ctx"), ('fusion = ["rrf"]', "fusion")]
)
def test_a_value_of_the_wrong_type_in_the_config_file(line: str, name: str, satchel_home: Path) -> None:
    config(satchel_home, line + "\n")
    with pytest.raises(ConfigError, match=f"'{name}'"):
        load_settings()


def test_a_bad_command_line_value_is_named() -> None:
    with pytest.raises(ConfigError, match="'top_k' from the command line: 'many' is not an integer"):
        load_settings({"top_k": "many"})


def test_unknown_settings(satchel_home: Path) -> None:
    config(satchel_home, "typek = 'q8_0'\n")
    with pytest.raises(ConfigError, match="unknown setting 'typek' \\(did you mean 'type_k'\\?\\)"):
        load_settings()
    config(satchel_home, "home = '/elsewhere'\n")
    with pytest.raises(ConfigError, match="'home' cannot be set in the config file"):
        load_settings()
    config(satchel_home, "")
    with pytest.raises(ConfigError, match="unknown setting 'no_such'"):
        load_settings({"no_such": 1})


def test_a_broken_config_file(satchel_home: Path) -> None:
    path = config(satchel_home, "top_k = \n")
    with pytest.raises(ConfigError, match=re.escape(str(path))):
        load_settings()


# --- the API key ------------------------------------------------------------------------
def test_the_api_key_never_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SATCHEL_LLM_SERVER_API_KEY", "sk-very-secret")
    s = load_settings()
    assert isinstance(s.llm_server_api_key, Secret)
    assert s.llm_server_api_key.reveal() == "sk-very-secret"
    for shown in (repr(s), str(s), f"{s.llm_server_api_key}", repr(s.llm_server_api_key)):
        assert "sk-very-secret" not in shown
    assert bool(s.llm_server_api_key) and not load_settings({"llm_server_api_key": ""}).llm_server_api_key


def test_a_plain_string_key_is_wrapped() -> None:
    s = Settings(llm_server_api_key="abc")  # type: ignore[arg-type]
    assert isinstance(s.llm_server_api_key, Secret) and s.llm_server_api_key.reveal() == "abc"
    assert "abc" not in repr(dataclasses.replace(s, top_k=3))


def test_the_key_is_sent_to_the_server() -> None:
    from assistant.backends.remote import RemoteModel

    sent: dict[str, Any] = {}

    def urlopen(request: Any, timeout: float) -> None:
        sent.update(request.headers)

    model = RemoteModel(Settings(llm_server_url="http://127.0.0.1:9", llm_server_api_key=Secret("sk-1")))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("urllib.request.urlopen", urlopen)
        model._request("/chat/completions", {})
    assert sent["Authorization"] == "Bearer sk-1"


# --- the command line stops before any work -------------------------------------------------
def test_the_cli_exits_with_the_config_code_before_any_work(satchel_home: Path) -> None:
    env = dict(os.environ, SATCHEL_HOME=str(satchel_home), SATCHEL_TYPE_K="f61", HF_HUB_OFFLINE="1")
    satchel = Path(sys.executable).with_name("satchel")
    command = [str(satchel)] if satchel.exists() else [sys.executable, "-m", "assistant.cli"]
    proc = subprocess.run([*command, "status"], capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert proc.returncode == ConfigError.exit_code
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "type_k" in lines[0] and "SATCHEL_TYPE_K" in lines[0] and "f61" in lines[0] and "q8_0" in lines[0]
    assert proc.stdout == ""
    assert not satchel_home.exists()  # nothing was created: no store, no lock, no log


def test_main_returns_the_config_code(satchel_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    from assistant.cli.app import main

    monkeypatch.setattr("assistant.backends.embedder.force_offline", lambda: None)  # leaves os.environ alone
    monkeypatch.setenv("SATCHEL_OCR", "sometimes")
    assert main(["status"]) == ConfigError.exit_code
    assert "'ocr'" in capsys.readouterr().err
    assert not satchel_home.exists()
