"""Reading the store file's first bytes without releasing SQLite's locks.

Whether a store is encrypted is read from its header (a plain SQLite file starts
with ``SQLite format 3\\0``, an SQLCipher file with random salt bytes). Both
:mod:`assistant.store.db`, which opens the store, and :mod:`assistant.store.crypto`, which seals
the FAISS file only beside an encrypted store, ask; this module sits below both.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"


# Header reads go through one descriptor per store file (inode) that stays open for
# the life of the process. SQLite guards its pages with POSIX advisory locks, and the
# kernel drops *every* such lock a process holds on a file as soon as the process
# closes *any* descriptor of that file. A plain ``open(); read(); close()`` of the
# store beside a live connection therefore silently unlocked that connection; another
# process closing its own connection then believed it was the last one, checkpointed
# and deleted the -wal file, and the writer went on committing into the unlinked
# file: `satchel watch` reported a document added that no reader ever saw (issue 15).
# Never closing these descriptors is what keeps the locks (docs/architecture.md).
_header_fds: dict[tuple[int, int], int] = {}
_header_lock = threading.Lock()


def _header_fd(path: Path) -> int | None:
    """A descriptor on the file at ``path`` that is never closed (see above)."""
    try:
        st = os.stat(path)  # no descriptor: cannot release anything
    except OSError:
        return None
    key = (st.st_dev, st.st_ino)
    with _header_lock:
        fd = _header_fds.get(key)
        if fd is not None:
            return fd
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        opened = os.fstat(fd)
        # replaced between stat and open: keep it under the inode it really is (still
        # never closed: a connection of this process may hold locks on that one)
        _header_fds[(opened.st_dev, opened.st_ino)] = fd
        return fd


def read_header(path: Path, size: int = len(SQLITE_HEADER)) -> bytes:
    """The first ``size`` bytes of the store file, read without ever closing a
    descriptor of it (b"" when it is missing or unreadable)."""
    fd = _header_fd(Path(path))
    if fd is None:
        return b""
    try:
        return os.pread(fd, size, 0)
    except OSError:
        return b""


def is_encrypted(path: Path) -> bool:
    """Whether the file at ``path`` is an encrypted store. A missing or empty file
    is not (it is a new store)."""
    head = read_header(path)
    return len(head) > 0 and head != SQLITE_HEADER
