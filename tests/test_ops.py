"""Operations for unattended use: forget (checked on the raw file bytes), export,
backup while writing, doctor, the log file, the cron/systemd examples and the exit
codes of `satchel index`.

Most tests use the fake embedder (real SQLite, real FAISS); the CLI exit-code tests
run `python -m assistant.cli` for real, and only one of them embeds anything."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import stat
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.cli import ops_commands
from assistant.errors import SatchelError
from assistant.ops.backup import EXPORT_FIELDS, backup
from assistant.ops.doctor import Check, check_gpu, run_doctor
from assistant.ops.forget import forget, person_matcher
from assistant.ops.logs import (
    PrivateRotatingFileHandler,
    log_index_report,
    logged_run,
    setup_file_logging,
    summary_line,
)
from assistant.retrieval.search_types import Filters
from assistant.store import erasure
from tests.conftest import REPO, SATCHEL, FakeEmbedder, run_cli

CANARY = "zebracanary4711"
CRON = REPO / "scripts" / "cron"


# --- helpers ------------------------------------------------------------------------------
def ops_cli(app: Any, *argv: str) -> int | None:
    """Run an operations command the way the CLI does (assistant/cli/app.py), in process."""
    parser = argparse.ArgumentParser(prog="satchel")
    ops_commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    return args.handler(app, args)


def raw_bytes(home: Path) -> dict[str, bytes]:
    """Every file in the home that could hold indexed data, as bytes."""
    files = {}
    for name in ("satchel.db", "satchel.db-wal", "satchel.db-shm", "index.faiss"):
        path = home / name
        if path.exists():
            files[name] = path.read_bytes()
    return files


def assert_nowhere(home: Path, needle: bytes) -> None:
    found = [name for name, data in raw_bytes(home).items() if needle in data]
    assert found == [], f"{needle!r} still in {found}"


def fts_terms(app: Any) -> set[str]:
    conn = app.store.conn
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, chunks_fts, 'row')")
    return {r[0] for r in conn.execute("SELECT term FROM temp.vocab")}


def found_text(app: Any, query: str, mode: str = "bm25") -> list[str]:
    return [r.text for r in app.search(query, Filters(), k=20, mode=mode).results]


def add_turn(app: Any, question: str, document_id: int, snippet: str) -> None:
    """A stored answer that quotes a source, as `satchel ask` saves it."""
    conn = app.store.conn
    cur = conn.execute("INSERT INTO conversations(title, created_at, updated_at) VALUES (?, 'x', 'x')", (question,))
    sources = [{"n": 1, "chunk_id": None, "document_id": document_id, "snippet": snippet}]
    conn.execute(
        "INSERT INTO turns(conversation_id, question, answer, sources, at) VALUES (?, ?, ?, ?, 'x')",
        (cur.lastrowid, question, f"It says {snippet} [1].", json.dumps(sources)),
    )


def doc_id_with(app: Any, text: str) -> int:
    return int(app.store.scalar("SELECT id FROM documents WHERE instr(text, ?) > 0", (text,)))


@pytest.fixture
def file_log(satchel_home: Path):
    """Take the log handlers added by a test off the global `satchel` logger."""
    logger = logging.getLogger("satchel")
    before = list(logger.handlers)
    yield
    for handler in list(logger.handlers):
        if handler not in before:
            logger.removeHandler(handler)
            handler.close()


# --- forget --------------------------------------------------------------------------------
def test_forget_source_leaves_no_byte_of_it(fake_app: Any, tmp_path: Path, satchel_home: Path, file_log: None) -> None:
    secret = tmp_path / f"private-{CANARY}"
    secret.mkdir()
    (secret / "diary.txt").write_text(
        f"The safe combination is {CANARY}. Nobody else may know about {CANARY} or the quokka plan.\n" * 3
    )
    keep = tmp_path / "public"
    keep.mkdir()
    (keep / "recipe.txt").write_text("Bake the focaccia with rosemary and coarse salt for twenty minutes.\n")
    fake_app.add_source(secret)
    fake_app.add_source(keep)
    fake_app.sync()
    add_turn(fake_app, "what is the safe combination?", doc_id_with(fake_app, CANARY), CANARY)
    setup_file_logging(fake_app.settings)
    logging.getLogger("satchel.index").warning("error: %s/broken.txt: unreadable", secret)

    # the scan can see it before: the canary is in the files and found by search
    assert any(CANARY.encode() in data for data in raw_bytes(satchel_home).values())
    assert CANARY in fts_terms(fake_app)
    assert any(CANARY in t for t in found_text(fake_app, CANARY))
    secret_chunks = [int(r[0]) for r in fake_app.store.query("SELECT id FROM chunks WHERE instr(text, ?)", (CANARY,))]
    secret_vectors = [v.tobytes() for v in fake_app.store.vectors_for(secret_chunks)[1]]

    report = forget(fake_app, source=str(secret))

    assert report.documents == 1 and report.chunks == len(secret_chunks) and report.sources == 1
    assert report.turns == 1 and report.wal_cleared and report.log_lines_removed == 1
    assert_nowhere(satchel_home, CANARY.encode())
    assert_nowhere(satchel_home, b"quokka")
    for blob in secret_vectors:  # the float32 vector itself: neither in SQLite nor in FAISS
        assert_nowhere(satchel_home, blob)
    assert not (satchel_home / "satchel.db-wal").exists() or (satchel_home / "satchel.db-wal").stat().st_size == 0
    assert CANARY not in (satchel_home / "logs" / "satchel.log").read_text()
    # nothing is found any more, by keyword or by meaning; the rest still is
    assert CANARY not in fts_terms(fake_app)
    assert not any(CANARY in t for t in found_text(fake_app, CANARY))
    assert not any(CANARY in t for t in found_text(fake_app, f"{CANARY} safe combination quokka", mode="dense"))
    assert any("focaccia" in t for t in found_text(fake_app, "focaccia rosemary"))
    assert fake_app.store.scalar("SELECT count(*) FROM turns") == 0
    assert [s["path"] for s in fake_app.sources()] == [str(keep.resolve())]
    # the saved index agrees with the store and holds none of the forgotten ids
    index = fake_app.index.__class__(fake_app.settings.index_path, FakeEmbedder.dimension)
    assert index.open(fake_app.store) == "loaded"
    assert index.size == fake_app.store.counts()["vectors"] == report.vectors_left
    assert not set(secret_chunks) & set(faiss_ids(index))
    db = sqlite3.connect(satchel_home / "satchel.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA freelist_count").fetchone()[0] == 0
    db.execute("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)")
    db.close()


def test_forget_with_a_reader_open_says_the_wal_is_kept_until_it_closes(
    fake_app: Any, tmp_path: Path, satchel_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "diary.txt").write_text(f"The safe combination is {CANARY}.\n")
    fake_app.add_source(secret)
    fake_app.sync()
    monkeypatch.setattr(erasure, "CHECKPOINT_WAIT_S", 0.3)
    reader = sqlite3.connect(satchel_home / "satchel.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM chunks").fetchone()  # an old snapshot, as a TUI mid-query
    started = time.monotonic()
    report = forget(fake_app, source=str(secret))
    assert time.monotonic() - started < 10
    assert report.wal_cleared is False and report.documents == 1
    assert not any(CANARY.encode() in raw_bytes(satchel_home).get(n, b"") for n in ("satchel.db", "index.faiss"))
    reader.execute("COMMIT")
    reader.close()
    fake_app.close()  # the last connection: SQLite checkpoints and deletes the WAL
    assert not (satchel_home / "satchel.db-wal").exists()
    assert_nowhere(satchel_home, CANARY.encode())


def faiss_ids(index: Any) -> list[int]:
    import faiss

    return faiss.vector_to_array(index.index.id_map).tolist()


EMAIL = """\
From: Helena Duarte <helena@example.org>
To: me@example.org
Subject: Arrival details
Message-ID: <arrival-42@example.org>
Date: Fri, 10 Apr 2026 11:00:00 +0000
Content-Type: text/plain; charset=utf-8

Check-in is from 16:00 and the door code is {canary}.
"""


def test_forget_document_and_its_twin_keeps_the_rest(fake_app: Any, tmp_path: Path, satchel_home: Path) -> None:
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    archive.mkdir()
    (inbox / "arrival.eml").write_text(EMAIL.format(canary=CANARY))
    (archive / "arrival-copy.eml").write_text(EMAIL.format(canary=CANARY))  # same Message-ID
    (inbox / "garden.md").write_text("# Garden\n\nPlant the tulip bulbs in October.\n")
    fake_app.add_source(inbox)
    fake_app.add_source(archive)
    assert fake_app.sync().duplicates == 1
    doomed = int(fake_app.store.scalar("SELECT id FROM documents WHERE kind = 'email' AND duplicate_of IS NULL"))

    dry = forget(fake_app, document=doomed, dry_run=True)
    assert dry.dry_run and dry.documents == 2 and dry.chunks >= 1
    assert any(CANARY in t for t in found_text(fake_app, CANARY))

    assert ops_cli(fake_app, "forget", "--document", str(doomed), "--json") == 0
    assert_nowhere(satchel_home, CANARY.encode())
    assert not any(CANARY in t for t in found_text(fake_app, CANARY))
    assert any("tulip" in t for t in found_text(fake_app, "tulip bulbs"))
    # the files' units keep their signatures: unchanged files are not read back in,
    # and the copy in the other folder was not promoted to be indexed instead
    assert fake_app.sync().added == 0
    assert not any(CANARY in t for t in found_text(fake_app, CANARY))
    assert_nowhere(satchel_home, CANARY.encode())

    with pytest.raises(SatchelError, match="no such document"):
        forget(fake_app, document=doomed)


WHATSAPP = """\
12/03/2026, 19:40 - Anna Verdi: Did you book the table?
12/03/2026, 19:42 - Marco Bianchi: Yes, the code word at the door is {canary}
12/03/2026, 19:43 - Anna Verdi: Perfect, see you at the osteria
14/04/2026, 08:00 - Anna Verdi: Reminder: the dentist moved to Thursday
"""


def test_forget_person_erases_their_chat_months_and_documents(
    fake_app: Any, tmp_path: Path, satchel_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "WhatsApp Chat with Friends.txt").write_text(WHATSAPP.format(canary=CANARY))
    (data / "minutes.md").write_text(
        "---\nauthor: Marco Bianchi <marco@example.org>\n---\n# Minutes\n\nBudget approved, heronflight9 wins.\n"
    )
    (data / "other.md").write_text("---\nauthor: Marco Rossi\n---\n# Rossi\n\nThe gondola repair is done.\n")
    fake_app.add_source(data)
    report = fake_app.sync()
    assert report.errors == 0
    assert fake_app.store.scalar("SELECT count(*) FROM documents WHERE kind = 'chat'") == 2  # March, April
    add_turn(fake_app, "What did Marco Bianchi say about the door?", 999_999, "the code word")

    assert ops_cli(fake_app, "forget", "--person", "marco bianchi", "--dry-run", "--json") == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] and dry["documents"] == 2 and dry["turns"] == 1
    assert any(CANARY in t for t in found_text(fake_app, CANARY))

    assert ops_cli(fake_app, "forget", "--person", "Marco Bianchi", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["documents"] == 2 and out["turns"] == 1 and out["wal_cleared"] is True
    assert {"Marco Bianchi", "Marco Bianchi <marco@example.org>"} == set(out["persons_matched"])
    # his month of the chat goes whole (Anna's lines of that month too); April stays
    for gone in (CANARY, "heronflight9", "osteria"):
        assert_nowhere(satchel_home, gone.encode())
        assert not any(gone in t for t in found_text(fake_app, gone))
    assert any("dentist" in t for t in found_text(fake_app, "dentist thursday"))
    assert any("gondola" in t for t in found_text(fake_app, "gondola repair"))  # another Marco
    assert fake_app.search("table", Filters(persons=["marco bianchi"]), k=10).results == []


def test_person_match_is_whole_words() -> None:
    match = person_matcher("Marco Bianchi")
    assert match("Marco Bianchi <marco@example.org>") and match("marco  BIANCHI")
    assert not match("Marco Bianchini") and not match("Marco Rossi") and not match(None)
    assert person_matcher("marco@example.org")("Marco B. <marco@example.org>")
    assert not person_matcher("marc")("Marco")


# --- export and backup -------------------------------------------------------------------
def small_store(app: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(5):
        (folder / f"note{n}.md").write_text(f"# Note {n}\n\nThe lighthouse keeper number {n} logs the storms.\n")
    (folder / "WhatsApp Chat with Friends.txt").write_text(WHATSAPP.format(canary="kiwi"))
    app.add_source(folder)
    app.sync()
    return folder


def test_export_writes_every_document_as_json_lines(
    fake_app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = small_store(fake_app, tmp_path)
    out = tmp_path / "out" / "export.jsonl"
    assert ops_cli(fake_app, "export", "--output", str(out)) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == fake_app.store.counts()["documents"] == 7
    for row in rows:
        assert set(EXPORT_FIELDS) <= set(row)
        assert row["source"] == str(folder.resolve()) and row["path"].startswith(str(folder.resolve()))
        assert isinstance(row["participants"], list) and isinstance(row["metadata"], dict)
    chat = [r for r in rows if r["kind"] == "chat"]
    assert {r["key"][-7:] for r in chat} == {"2026-03", "2026-04"}
    assert "Marco Bianchi" in chat[0]["participants"] and chat[0]["timestamp"].startswith("2026-03")
    assert any("lighthouse keeper number 3" in r["text"] for r in rows)

    capsys.readouterr()
    assert ops_cli(fake_app, "export") == 0
    assert capsys.readouterr().out.splitlines() == out.read_text().splitlines()


def test_backup_while_another_connection_writes(fake_app: Any, tmp_path: Path, satchel_home: Path) -> None:
    small_store(fake_app, tmp_path)
    stop = threading.Event()
    written = [0]
    failures: list[BaseException] = []

    def writer() -> None:
        conn = sqlite3.connect(satchel_home / "satchel.db", timeout=30, isolation_level=None)
        try:
            while not stop.is_set():
                conn.execute("BEGIN IMMEDIATE")
                for _ in range(2):  # pairs: a consistent snapshot holds an even number
                    conn.execute("INSERT INTO errors(path, reason, at) VALUES (?, ?, 'x')", ("/tmp/x", "y" * 2000))
                conn.execute("COMMIT")
                written[0] += 2
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while written[0] < 200:
            time.sleep(0.01)
        results = [backup(fake_app.settings, tmp_path / "backup") for _ in range(3)]
    finally:
        stop.set()
        thread.join()
    assert not failures
    dest = tmp_path / "backup"
    db = dest / "satchel.db"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE((dest / "index.faiss").stat().st_mode) == 0o600
    assert sorted(p.name for p in dest.iterdir()) == ["index.faiss", "satchel.db"]  # no -wal, no temp files
    assert all(r["documents"] == 7 and r["index_copied"] for r in results)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    errors = conn.execute("SELECT count(*) FROM errors").fetchone()[0]
    assert errors > 0 and errors % 2 == 0
    conn.close()

    # the backup is a usable SATCHEL_HOME
    from assistant.core import Satchel
    from assistant.settings import load_settings

    restored = Satchel(load_settings({"home": str(dest)}), embedder=FakeEmbedder())
    try:
        assert any("lighthouse" in t for t in found_text(restored, "lighthouse storms", mode="hybrid"))
    finally:
        restored.close()


def test_backup_cli_json_and_refusals(fake_app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.errors import StoreError

    with pytest.raises(StoreError, match="no store"):
        backup(fake_app.settings, tmp_path / "b")
    small_store(fake_app, tmp_path)
    assert ops_cli(fake_app, "backup", str(tmp_path / "b"), "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["documents"] == 7 and result["index_current"] is True
    with pytest.raises(SatchelError, match="own folder"):
        backup(fake_app.settings, fake_app.settings.home)


# --- doctor -------------------------------------------------------------------------------
def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_doctor_on_a_healthy_store(fake_app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small_store(fake_app, tmp_path)
    assert ops_cli(fake_app, "doctor", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is True
    assert {"permissions", "disk", "model", "store", "index", "embedder", "llama.cpp", "writer"} <= set(checks)
    for name in ("permissions", "store", "index", "embedder", "model", "writer"):
        assert checks[name]["status"] == "ok", checks[name]
    assert "not assembled yet" in checks["model"]["detail"]
    assert "agrees with the store" in checks["index"]["detail"]
    assert checks["llama.cpp"]["status"] in ("ok", "warn") and "AVX" in checks["llama.cpp"]["detail"]
    for c in report["checks"]:
        assert set(c) == {"name", "status", "detail", "fix"}
    assert checks["gpu"]["status"] in ("ok", "warn") and "n_gpu_layers = 0" in checks["gpu"]["detail"]


def test_doctor_says_when_gpu_layers_cannot_be_offloaded(satchel_home: Path) -> None:
    """On a build without a GPU backend (this CPU machine's), n_gpu_layers set is a
    warning that says how to get one; unset, the check is fine."""
    import llama_cpp

    from assistant.settings import load_settings

    if llama_cpp.llama_supports_gpu_offload():  # a CUDA build: the other warning
        check = check_gpu(load_settings({"n_gpu_layers": 0}))
        assert check.status == "warn" and "n_gpu_layers = -1" in (check.fix or "")
        return
    wanted = check_gpu(load_settings({"n_gpu_layers": -1}))
    assert wanted.status == "warn" and "no GPU backend" in wanted.detail and "nvcc" in (wanted.fix or "")
    assert check_gpu(load_settings({"n_gpu_layers": 0})).status == "ok"


def test_doctor_reports_damaged_index_and_loose_permissions(
    fake_app: Any, tmp_path: Path, satchel_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small_store(fake_app, tmp_path)
    fake_app.close()
    (satchel_home / "index.faiss").write_bytes(b'SATCHEL-FAISS-1\n{"generation": 1}\n' + os.urandom(512))
    os.chmod(satchel_home, 0o755)
    os.chmod(satchel_home / "satchel.db", 0o644)

    checks = by_name(run_doctor(fake_app, llama=False))
    assert checks["index"].status == "warn"
    assert "damaged" in checks["index"].detail and "rebuilt" in checks["index"].detail
    assert checks["permissions"].status == "fail"
    assert "satchel.db is 644" in checks["permissions"].detail
    assert checks["permissions"].fix and "chmod 700" in checks["permissions"].fix
    assert "chmod 600" in checks["permissions"].fix

    assert ops_cli(fake_app, "doctor") == 1
    text = capsys.readouterr().out
    assert "fail  permissions" in text and "warn  index" in text and "fix: chmod 700" in text
    # and it is true: the next search rebuilds the index from the stored vectors
    assert any("lighthouse" in t for t in found_text(fake_app, "lighthouse keeper", mode="dense"))


def test_doctor_reports_a_damaged_store(fake_app: Any, satchel_home: Path) -> None:
    fake_app.settings.ensure_home()
    (satchel_home / "satchel.db").write_bytes(b"this is not a database" * 200)
    os.chmod(satchel_home / "satchel.db", 0o600)
    checks = by_name(run_doctor(fake_app, llama=False))
    assert checks["store"].status == "fail" and checks["store"].fix


# --- logging --------------------------------------------------------------------------------
def test_index_run_logs_summary_and_errors_to_a_private_rotating_file(
    fake_app: Any, tmp_path: Path, satchel_home: Path, file_log: None
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.md").write_text("# Good\n\nThis note is fine.\n")
    (folder / "bad.txt").write_bytes(b"\x00\x01binary\x00" * 100)
    with logged_run(fake_app.settings, "index"):
        fake_app.add_source(folder)
        report = fake_app.sync()
        log_index_report(report)
    assert report.errors == 1
    logs = satchel_home / "logs"
    log_file = logs / "satchel.log"
    assert stat.S_IMODE(logs.stat().st_mode) == 0o700
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    text = log_file.read_text()
    assert "index started" in text and summary_line(report) in text
    assert "bad.txt" in text and "NUL bytes" in text

    from assistant.errors import StoreLockedError

    with pytest.raises(StoreLockedError), logged_run(fake_app.settings, "index"):
        raise StoreLockedError("another Satchel process is writing")
    assert "index failed (exit 4): another Satchel process" in log_file.read_text()

    handler = setup_file_logging(fake_app.settings)
    assert handler is setup_file_logging(fake_app.settings)  # not added twice
    assert isinstance(handler, PrivateRotatingFileHandler)
    assert handler.maxBytes == 5 * 1024 * 1024 and handler.backupCount == 5
    handler.doRollover()
    logging.getLogger("satchel.index").info("after rotation")
    for path in (log_file, logs / "satchel.log.1"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "after rotation" in log_file.read_text()


# --- cron and systemd examples ---------------------------------------------------------------
def test_cron_and_systemd_examples_run_the_real_command() -> None:
    cron_lines = [
        line
        for line in (CRON / "satchel-reindex.cron").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(cron_lines) == 1
    fields = cron_lines[0].split(None, 5)
    assert fields[:5] == ["15", "3", "*", "*", "*"]
    assert "cd /path/to/satchel && .venv/bin/satchel index --quiet" in fields[5]

    service = (CRON / "satchel-reindex.service").read_text()
    settings = dict(line.split("=", 1) for line in service.splitlines() if "=" in line and not line.startswith("#"))
    assert settings["Type"] == "oneshot"
    assert settings["ExecStart"].split() == ["%h/satchel/.venv/bin/satchel", "index", "--quiet"]
    assert settings["WorkingDirectory"] == "%h/satchel"
    assert settings["Nice"] == "10" and settings["IOSchedulingClass"] == "idle"
    # exit 10 (some items unreadable) is reported, not treated as a failed unit
    assert settings["SuccessExitStatus"].split() == ["10"]

    timer = (CRON / "satchel-reindex.timer").read_text()
    assert "OnCalendar=*-*-* 03:15" in timer and "Persistent=true" in timer
    assert "Unit=satchel-reindex.service" in timer and "WantedBy=timers.target" in timer

    docs = (REPO / "docs" / "operations.md").read_text()
    assert "%h/satchel" in docs and "/path/to/satchel" in docs and "systemctl --user enable --now" in docs

    # the path the examples use is where install.sh puts the entry point
    assert (REPO / ".venv" / "bin" / "satchel").exists()


def test_index_help_accepts_quiet() -> None:
    proc = subprocess.run([*SATCHEL, "index", "--help"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0 and "--quiet" in proc.stdout and "--wait" in proc.stdout


# --- exit codes of `satchel index` (real CLI, real embedder) -------------------------------------
@pytest.mark.integration
def test_index_exits_10_when_some_items_failed(tmp_path: Path, satchel_home: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.md").write_text("# Trip\n\nThe ferry to the island leaves at 07:10 from pier four.\n")
    (folder / "bad.txt").write_bytes(b"%PDF?\x00\x00\x00\xff\xfe junk \x00" * 64)
    run_cli("add", str(folder), home=satchel_home)
    proc = run_cli("index", "--json", home=satchel_home, check=False)
    assert proc.returncode == 10, proc.stderr
    report = json.loads(proc.stdout)
    assert report["added"] == 1 and report["errors"] == 1
    assert report["error_list"][0]["path"].endswith("bad.txt")
    log = (satchel_home / "logs" / "satchel.log").read_text()
    assert "indexed: 1 added" in log and "bad.txt" in log


@pytest.mark.integration
def test_index_exits_4_while_another_writer_holds_the_lock_and_waits_with_wait(
    fake_app: Any, satchel_home: Path
) -> None:
    env = dict(os.environ, SATCHEL_HOME=str(satchel_home), HF_HUB_OFFLINE="1")
    with fake_app.writer_lock():
        proc = run_cli("index", "--quiet", home=satchel_home, check=False)
        assert proc.returncode == 4
        assert "another Satchel process" in proc.stderr and str(os.getpid()) in proc.stderr
        waiting = subprocess.Popen(
            [*SATCHEL, "index", "--quiet", "--wait"], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True
        )
        time.sleep(2.0)
        assert waiting.poll() is None  # still waiting for the lock
    _, stderr = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, stderr


@pytest.mark.integration
def test_index_exits_10_when_a_source_path_vanished_and_2_on_bad_config(tmp_path: Path, satchel_home: Path) -> None:
    folder = tmp_path / "gone"
    folder.mkdir()
    (folder / "x.md").write_text("# X\n")
    run_cli("add", str(folder), home=satchel_home)
    (folder / "x.md").unlink()
    folder.rmdir()
    proc = run_cli("index", "--quiet", home=satchel_home, check=False)
    assert proc.returncode == 10, proc.stderr
    assert "no longer exists" in proc.stderr

    (satchel_home / "config.toml").write_text("no_such_setting = 1\n")
    proc = run_cli("index", "--quiet", home=satchel_home, check=False)
    assert proc.returncode == 2 and "unknown setting" in proc.stderr


def test_vectors_are_float32_blobs(fake_app: Any, tmp_path: Path) -> None:
    """The forget test looks for vector bytes: they are stored as raw float32."""
    small_store(fake_app, tmp_path)
    blob = fake_app.store.scalar("SELECT vector FROM vectors LIMIT 1")
    assert len(blob) == 4 * FakeEmbedder.dimension
    assert np.isclose(np.linalg.norm(np.frombuffer(blob, dtype=np.float32)), 1.0)


# --- tombstones: forgotten stays forgotten when its source changes -------------------------


def test_a_forgotten_person_does_not_come_back_when_the_source_changes(
    fake_app: Any, tmp_path: Path, satchel_home: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    chat = data / "WhatsApp Chat with Friends.txt"
    chat.write_text(WHATSAPP.format(canary=CANARY))
    (data / "minutes.md").write_text(
        "---\nauthor: Marco Bianchi <marco@example.org>\n---\n# Minutes\n\nBudget approved, heronflight9 wins.\n"
    )
    fake_app.add_source(data)
    fake_app.sync()
    assert ops_cli(fake_app, "forget", "--person", "Marco Bianchi") == 0
    # the export grows (a new month with a message from him, one from Anna alone) and
    # the minutes file is touched: a nightly reindex parses both again
    chat.write_text(
        WHATSAPP.format(canary=CANARY)
        + "02/05/2026, 10:00 - Marco Bianchi: the new code word is walrus5521\n"
        + "03/06/2026, 09:00 - Anna Verdi: June picnic at the lighthouse\n"
    )
    os.utime(data / "minutes.md", (time.time() + 5, time.time() + 5))
    report = fake_app.sync()
    assert report.forgotten >= 3  # March, May (his months) and the minutes
    for gone in (CANARY, "heronflight9", "walrus5521"):
        assert not any(gone in t for t in found_text(fake_app, gone))
        assert_nowhere(satchel_home, gone.encode())
    assert any("lighthouse" in t for t in found_text(fake_app, "june picnic lighthouse"))
    assert any("dentist" in t for t in found_text(fake_app, "dentist thursday"))
    # only digests are kept, never the name
    assert_nowhere(satchel_home, b"marco bianchi")
    assert fake_app.store.scalar("SELECT count(*) FROM forgotten WHERE kind = 'person'") == 1


def test_a_forgotten_message_stays_out_when_its_mailbox_is_read_again(fake_app: Any, tmp_path: Path) -> None:
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    archive.mkdir()
    (inbox / "arrival.eml").write_text(EMAIL.format(canary=CANARY))
    (inbox / "garden.md").write_text("# Garden\n\nPlant the tulip bulbs in October.\n")
    fake_app.add_source(inbox)
    fake_app.sync()
    doomed = int(fake_app.store.scalar("SELECT id FROM documents WHERE kind = 'email'"))
    assert ops_cli(fake_app, "forget", "--document", str(doomed)) == 0
    # the file is rewritten (same message) and a second export of it is added
    (inbox / "arrival.eml").write_text(EMAIL.format(canary=CANARY) + "\n")
    (archive / "arrival-copy.eml").write_text(EMAIL.format(canary=CANARY))
    fake_app.add_source(archive)
    report = fake_app.sync()
    assert report.forgotten == 2 and report.added == 0
    assert not any(CANARY in t for t in found_text(fake_app, CANARY))
    assert any("tulip" in t for t in found_text(fake_app, "tulip bulbs"))
