"""Bad input at the edges gets a clear message and exit code, never a traceback, and
nothing already indexed is lost (issue 15): odd homes, odd sources, a file that
changes while it is parsed, a 2 GB single-line file, a full disk, a read-only home.

Read-only and full file systems are real: small tmpfs mounts, which need root (the
test command and CI run as root). As another user the read-only folder is a folder
without write permission, and the full disk a store capped by SQLite's page limit.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli

ROOT = os.geteuid() == 0


@contextlib.contextmanager
def tmpfs(where: Path, size: str, *, read_only: bool = False) -> Iterator[Path]:
    """A small tmpfs at ``where`` (root only)."""
    where.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], check=True, capture_output=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


def remount(where: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(where)], check=True, capture_output=True)


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr


# --- homes -------------------------------------------------------------------------------
def test_home_that_is_a_file(tmp_path: Path) -> None:
    home = tmp_path / "not-a-folder"
    home.write_text("x")
    proc = run_cli("status", home=home, check=False)
    no_traceback(proc)
    assert proc.returncode == 2
    assert "is a file, not a folder" in proc.stderr


def test_home_with_a_missing_parent(tmp_path: Path) -> None:
    home = tmp_path / "missing" / "parent" / "home"
    proc = run_cli("status", home=home, check=False)
    no_traceback(proc)
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr and str(home.parent) in proc.stderr
    assert not home.parent.exists()


def test_unwritable_home(tmp_path: Path) -> None:
    if ROOT:
        ctx: contextlib.AbstractContextManager[Path] = tmpfs(tmp_path / "ro", "1m", read_only=True)
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o500)
        ctx = contextlib.nullcontext(folder)
    with ctx as folder:
        for home in (folder, folder / "home"):
            proc = run_cli("status", home=home, check=False)
            no_traceback(proc)
            assert proc.returncode == 3, proc.stderr
            assert str(folder) in proc.stderr and ("not writable" in proc.stderr or "Read-only" in proc.stderr)


@pytest.mark.integration
def test_read_only_home_after_indexing(tmp_path: Path) -> None:
    """A store that became read-only: index and search say so clearly; the store is intact."""
    if not ROOT:
        pytest.fail("this test remounts a tmpfs read-only and needs root, as the test command runs")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("# Quokka\nThe quokka named Beppe lives in the greenhouse.\n")
    with tmpfs(tmp_path / "mnt", "64m") as mnt:
        home = mnt / "home"
        run_cli("add", str(notes), home=home)
        run_cli("index", home=home)
        remount(mnt, "ro")
        (notes / "b.md").write_text("# Second\nAnother note about the orchard.\n")
        for args in (("index",), ("search", "quokka")):
            proc = run_cli(*args, home=home, check=False)
            no_traceback(proc)
            assert proc.returncode == 3, proc.stderr
            assert "not writable" in proc.stderr
        remount(mnt, "rw")
        found = run_cli("search", "quokka greenhouse", "--json", home=home)
        assert "Beppe" in found.stdout


@pytest.mark.integration
def test_disk_full_during_a_sync(tmp_path: Path) -> None:
    """The disk fills up mid-sync: a clear error, and the store stays consistent and
    usable; with space again the same sync completes."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "first.md").write_text("# Quokka\nThe quokka named Beppe lives in the greenhouse.\n")
    words = "orchard ferry budget invoice harbour lantern meadow cabin glacier quarry violin pepper".split()
    if not ROOT:
        pytest.fail("this test fills a small tmpfs and needs root, as the test command runs")
    with tmpfs(tmp_path / "mnt", "3m") as mnt:
        home = mnt / "home"
        run_cli("add", str(notes), home=home)
        run_cli("index", home=home)
        for n in range(400):
            text = " ".join(words[(n * 7 + i) % len(words)] + str(n * 13 + i) for i in range(120))
            (notes / f"bulk{n:03d}.md").write_text(f"# Bulk {n}\n{text}\n")
        proc = run_cli("index", home=home, check=False)
        no_traceback(proc)
        assert proc.returncode == 3, proc.stderr
        assert "full" in proc.stderr.lower(), proc.stderr
        db = home / "satchel.db"
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            chunks = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
            vectors = conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
            assert chunks == vectors
            conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")
        found = run_cli("search", "quokka greenhouse", "--json", home=home)
        assert "Beppe" in found.stdout
        remount(mnt, "size=256m")
        done = run_cli("index", home=home)
        assert "0 errors" in done.stderr
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 401


# --- sources -----------------------------------------------------------------------------
def test_special_files_are_refused_as_sources(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    sock_path = tmp_path / "sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    loop_a, loop_b = tmp_path / "loop-a", tmp_path / "loop-b"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    home = tmp_path / "home"
    try:
        for path, words in ((fifo, "named pipe"), (sock_path, "socket"), (loop_a, "symbolic link loop")):
            proc = run_cli("add", str(path), home=home, check=False)
            no_traceback(proc)
            assert proc.returncode == 2, proc.stderr
            assert str(path) in proc.stderr and words in proc.stderr
    finally:
        sock.close()


def test_special_files_inside_a_folder_are_skipped(fake_app, tmp_path: Path) -> None:
    """A FIFO would block the sync forever, a symlink loop cannot be read, an empty file
    has nothing to say: the rest of the folder is indexed, with clear errors."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.md").write_text("# Good\nThe lighthouse keeper logs the weather.\n")
    (folder / "empty.md").write_bytes(b"")
    os.mkfifo(folder / "pipe.txt")
    (folder / "loop.md").symlink_to(folder / "loop2.md")
    (folder / "loop2.md").symlink_to(folder / "loop.md")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "sock.txt"))
    try:
        fake_app.add_source(folder)
        report = fake_app.sync()
    finally:
        sock.close()
    titles = {r["title"] for r in fake_app.store.query("SELECT title FROM documents")}
    assert "Good" in titles
    reasons = {Path(e["path"]).name: e["reason"] for e in report.error_list}
    assert "symbolic links" in reasons["loop.md"]
    assert "pipe.txt" not in reasons and "sock.txt" not in reasons  # skipped, never opened


def test_unreadable_folder_is_reported_and_its_documents_kept(fake_app, tmp_path: Path, monkeypatch) -> None:
    """A folder that cannot be listed (permissions changed) is reported, and what was
    indexed under it stays: it is not a deletion. As root no folder is unreadable,
    so there the permission check is made to answer as it would for another user."""
    folder = tmp_path / "docs"
    (folder / "private").mkdir(parents=True)
    (folder / "private" / "a.md").write_text("# Secret\nThe vault code is kept in the red notebook.\n")
    (folder / "open.md").write_text("# Open\nThe garden gate sticks in the rain.\n")
    fake_app.add_source(folder)
    fake_app.sync()
    assert fake_app.store.counts()["documents"] == 2
    private = folder / "private"
    if ROOT:
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == private else real_access(p, mode))
    else:
        private.chmod(0)
    try:
        report = fake_app.sync()
    finally:
        private.chmod(0o755)
    assert fake_app.store.counts()["documents"] == 2, "documents under an unreadable folder were deleted"
    assert any(e["path"] == str(private) and "cannot be read" in e["reason"] for e in report.error_list)
    assert any(r["path"] == str(private) for r in fake_app.store.errors())
    # readable again: the error goes with the next sync
    monkeypatch.undo()
    fake_app.sync()
    assert not any(r["path"] == str(private) for r in fake_app.store.errors())


def test_unreadable_source_folder_is_refused(tmp_path: Path, monkeypatch) -> None:
    from assistant.core import Satchel
    from assistant.errors import SourceError
    from assistant.settings import load_settings

    folder = tmp_path / "locked"
    folder.mkdir()
    if ROOT:
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == folder else real_access(p, mode))
    else:
        folder.chmod(0)
    app = Satchel(load_settings())
    try:
        with pytest.raises(SourceError, match="permission denied"):
            app.add_source(folder)
    finally:
        folder.chmod(0o755)
        app.close()


def test_empty_file_source(fake_app, tmp_path: Path) -> None:
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    fake_app.add_source(empty)
    report = fake_app.sync()
    assert report.errors == 0 and fake_app.store.counts()["documents"] == 0


def test_file_changed_while_it_is_parsed(fake_app, tmp_path: Path, monkeypatch) -> None:
    """What was read may mix two versions: the file is read again in the same sync,
    and the store ends with its final text."""
    from connectors.text import TextConnector

    folder = tmp_path / "notes"
    folder.mkdir()
    note = folder / "note.md"
    note.write_text("# Plan\nThe ferry leaves at 13:30.\n")
    original = TextConnector.iter_documents
    calls = []

    def changing(self, path):
        calls.append(path)
        for item in original(self, path):
            if len(calls) == 1:  # the editor saves while the first read is under way
                os.utime(path, ns=(0, 0))
                path.write_text("# Plan\nThe ferry now leaves at 15:00.\n")
            yield item

    monkeypatch.setattr(TextConnector, "iter_documents", changing)
    fake_app.add_source(folder)
    fake_app.sync()
    texts = [r["text"] for r in fake_app.store.query("SELECT text FROM documents")]
    assert len(calls) == 2
    assert len(texts) == 1 and "15:00" in texts[0]
    signature = fake_app.store.scalar("SELECT signature FROM units")
    st = note.stat()
    assert signature == f"{st.st_size}:{st.st_mtime_ns}"


@pytest.mark.parametrize("suffix", [".txt", ".md", ".mbox", ".eml", ".json", ".html", ".csv"])
def test_two_gigabyte_single_line_file(fake_app, tmp_path: Path, suffix: str) -> None:
    """A 2 GB file of one line (sparse: no disk used) is refused with its reason,
    quickly and in bounded memory; the folder's other files are indexed."""
    import resource

    folder = tmp_path / "big"
    folder.mkdir()
    big = folder / f"huge{suffix}"
    with open(big, "wb") as handle:
        handle.write(b"hello world ")
        handle.truncate(2 * 1024**3)
    (folder / "small.md").write_text("# Small\nThe orchard has twelve apple trees.\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fake_app.add_source(folder)
    report = fake_app.sync()
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 600, f"{suffix}: peak memory grew by {grown_mb:.0f} MB"
    titles = {r["title"] for r in fake_app.store.query("SELECT title FROM documents")}
    assert "Small" in titles
    assert not any(r["title"] and "hello" in r["title"] for r in fake_app.store.query("SELECT title FROM documents"))
    if report.errors:
        assert all("huge" in e["path"] for e in report.error_list)
        assert any(("large" in e["reason"] or "limit" in e["reason"]) for e in report.error_list), report.error_list
