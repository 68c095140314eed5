"""One writer at a time per home: an exclusive ``flock`` on ``<home>/writer.lock``.

The kernel releases a flock when its holder dies, so a crashed run never leaves a
stale lock behind; the file holds the holder's pid for the message another writer
gets (docs/architecture.md, "Concurrency").
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from assistant.errors import StoreLockedError
from assistant.settings import Settings


@contextmanager
def writer_lock(settings: Settings, wait: bool = False) -> Iterator[None]:
    """Hold the home's writer lock for the block; ``wait`` for another writer to
    finish instead of raising :class:`StoreLockedError`."""
    settings.ensure_home()
    path = settings.home / "writer.lock"
    handle = open(path, "a+")  # noqa: SIM115 - held for the whole block below
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise StoreLockedError(
                f"another Satchel process (pid {holder}) is writing to {settings.home}; "
                "wait for it to finish or use --wait"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()
