"""A write that is reported as done is never lost to a concurrent reader.

SQLite's POSIX locks are dropped by the kernel when a process closes *any*
descriptor of the store file. Satchel used to read the store's header with a plain
open()/close() each time it opened a connection (and each time it saved the FAISS
file), which unlocked the writer's own connection; a reader process that then closed
its connection checkpointed and deleted the -wal file under the writer, whose next
commits went into the unlinked file (issue 15). These tests fail on that code.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from assistant.store import crypto, db
from assistant.store import header as store_header
from assistant.store.repository import Store

READER = (
    "import sqlite3, sys\n"
    "conn = sqlite3.connect(sys.argv[1], timeout=10)\n"
    "print(conn.execute('SELECT value FROM meta WHERE key = ?', (sys.argv[2],)).fetchone())\n"
    "conn.close()\n"
)


def read_meta_in_other_process(path: Path, key: str) -> str:
    """Open, read and close a connection in another process, as `satchel search` does."""
    out = subprocess.run([sys.executable, "-c", READER, str(path), key], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_writer_keeps_its_commits_when_a_reader_closes(tmp_path: Path) -> None:
    path = tmp_path / "satchel.db"
    writer = Store(path)
    with writer.transaction():
        writer.set_meta("before", "1")
    # what the indexer does in the same process: a second connection (its parser
    # thread) and a look at whether the store is encrypted (the FAISS file's save)
    Store(path).close()
    assert crypto.store_encrypted(tmp_path) is False
    assert db.is_encrypted(path) is False
    assert read_meta_in_other_process(path, "before") == "('1',)"
    with writer.transaction():
        writer.set_meta("after", "1")
    # the writer's commit must be visible to a new process, and survive the writer
    assert read_meta_in_other_process(path, "after") == "('1',)"
    writer.close()
    assert read_meta_in_other_process(path, "after") == "('1',)"


def test_header_reads_reuse_one_descriptor(tmp_path: Path) -> None:
    path = tmp_path / "satchel.db"
    Store(path).close()
    first = store_header.read_header(path)
    assert first == store_header.SQLITE_HEADER
    fds = dict(store_header._header_fds)
    for _ in range(5):
        db.is_encrypted(path)
    assert store_header._header_fds == fds, "a header read opened (and so would close) another descriptor"
    assert store_header.read_header(tmp_path / "missing.db") == b""
