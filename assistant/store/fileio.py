"""Writing a file so that a crash leaves the old one or the new one, never half.

The store's neighbours (the FAISS file, exports, backups, a re-sealed index) all hold
personal data, so the temporary file is created 0600 from the start.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def leftover_temps(path: Path) -> list[Path]:
    """Temporary files of ``path`` left by a process that crashed mid-write."""
    return list(path.parent.glob(f".{path.name}.tmp*"))


@contextmanager
def atomic_file(path: Path, mode: str = "wb", **options: Any) -> Iterator[IO[Any]]:
    """A handle on a private temporary file beside ``path``; when the block ends it
    is flushed, fsynced and renamed over ``path``. On an exception (or a crash) the
    old file stays and the temporary one is removed (or left for leftover_temps)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, mode, **options) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
