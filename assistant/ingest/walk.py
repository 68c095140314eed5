"""Walking a source: the units a connector parses, their (size, mtime) signatures, and the
folders and files that are never read."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import SourceError
from connectors.base import Connector
from connectors.registry import connector_by_name, connector_for

# Folders never descended into: they hold tools, not a person's documents.
SKIPPED_FOLDERS = {"node_modules", "__pycache__", "site-packages", ".git", ".venv", "venv"}


@dataclass
class Unit:
    source_id: int
    path: Path
    connector: Connector
    signature: str
    size: int


# --- walking ------------------------------------------------------------------------
def file_signature(path: Path) -> tuple[str, int]:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}", st.st_size


def folder_signature(path: Path) -> tuple[str, int]:
    """Digest of the (name, size, mtime) of every file below a folder unit."""
    digest = hashlib.sha1()
    total = 0
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d != "tmp")
        for name in sorted(files):
            full = os.path.join(root, name)
            try:
                st = os.stat(full)
            except OSError:
                continue
            total += st.st_size
            digest.update(f"{os.path.relpath(full, path)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest(), total


def _exclude_matcher(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    if not patterns:
        return lambda _rel: False
    import pathspec

    spec = pathspec.PathSpec.from_lines("gitwildmatch", patterns)
    return spec.match_file


def _is_tool_folder(name: str, full: str) -> bool:
    return name.startswith(".") or name in SKIPPED_FOLDERS or os.path.exists(os.path.join(full, "pyvenv.cfg"))


# The walk's own words for what it could not read; its errors of an earlier sync that
# no longer hold (the folder is readable again, the loop is gone) are cleared by them.
UNREADABLE = "the folder cannot be read"
UNOPENABLE = "cannot be read"


@dataclass
class Walk:
    """What walking a source found: its units, the files no connector claimed, and
    the paths that could not be read (each with its reason)."""

    units: list[Unit] = field(default_factory=list)
    skipped: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)
    # folders that could not be listed: the units stored under them are kept, not
    # deleted as vanished (a folder made unreadable for a moment loses nothing)
    unreadable: list[Path] = field(default_factory=list)

    def shadows(self, path: Path) -> bool:
        return any(path == folder or folder in path.parents for folder in self.unreadable)


def not_regular(mode: int) -> str | None:
    """Why a path is no file Satchel reads (FIFO, socket, device), or None."""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a file: reading it would wait forever"
    if stat.S_ISSOCK(mode):
        return "a socket, not a file"
    return "a device or special file, not a regular file"


def source_mode(root: Path, missing: str = "the source path no longer exists") -> int:
    """The file mode of a source's root, or a SourceError saying why Satchel cannot
    read it: missing, a symlink loop, a FIFO, socket or device, no permission. The one
    check behind `satchel add` and every sync."""
    try:
        mode = root.stat().st_mode  # follows symlinks; a loop raises ELOOP
    except FileNotFoundError:
        raise SourceError(f"{root}: {missing}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SourceError(f"{root}: a symbolic link loop, it leads nowhere") from None
        raise SourceError(f"{root}: cannot be read ({exc.strerror or exc})") from None
    special = not_regular(mode)
    if special:
        raise SourceError(f"{root}: {special}; add files or folders")
    if not os.access(root, os.R_OK | (os.X_OK if stat.S_ISDIR(mode) else 0)):
        raise SourceError(f"{root}: cannot be read (permission denied)")
    return mode


def walk_source(source_id: int, root: Path, forced: str | None, exclude: tuple[str, ...]) -> Walk:
    """The units of a source, the files no connector claimed, and what could not be read.

    Never opens anything but regular files (a FIFO would block the sync), follows no
    symlink loop, and reports unreadable folders instead of skipping them silently."""
    mode = source_mode(root)
    walk = Walk()
    if stat.S_ISREG(mode):
        connector = connector_by_name(forced) if forced else connector_for(root)
        if connector is None:
            raise SourceError(f"{root}: no connector reads this kind of file (use --kind)")
        signature, size = file_signature(root)
        walk.units.append(Unit(source_id, root, connector, signature, size))
        return walk
    directory_claim = connector_for(root, only=forced)
    if directory_claim is not None and directory_claim.claims_directories:
        signature, size = folder_signature(root)
        walk.units.append(Unit(source_id, root, directory_claim, signature, size))
        return walk

    def unreadable(error: OSError) -> None:
        where = Path(error.filename) if error.filename else root
        walk.unreadable.append(where)
        walk.problems.append((str(where), f"{UNREADABLE} ({error.strerror or error})"))

    excluded = _exclude_matcher(exclude)
    for current, dirs, files in os.walk(root, onerror=unreadable):
        kept = []
        for name in sorted(dirs):
            full = os.path.join(current, name)
            rel = os.path.relpath(full, root)
            if _is_tool_folder(name, full) or excluded(rel + "/"):
                continue
            if not os.access(full, os.R_OK | os.X_OK):
                walk.unreadable.append(Path(full))
                walk.problems.append((full, f"{UNREADABLE} (permission denied)"))
                continue
            claim = connector_for(Path(full), only=forced)
            if claim is not None and claim.claims_directories:
                signature, size = folder_signature(Path(full))
                walk.units.append(Unit(source_id, Path(full), claim, signature, size))
                continue
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            if name.startswith("."):
                continue
            full_path = Path(current) / name
            if excluded(os.path.relpath(full_path, root)):
                continue
            try:
                mode = full_path.stat().st_mode  # follows symlinks; a loop raises ELOOP
            except FileNotFoundError:
                continue  # vanished while walking, or a dangling symlink
            except OSError as exc:
                walk.problems.append((str(full_path), f"{UNOPENABLE} ({exc.strerror or exc})"))
                continue
            special = not_regular(mode)
            if special or stat.S_ISDIR(mode):  # a symlink to a folder is not followed
                walk.skipped += 1
                continue
            connector = connector_for(full_path, only=forced)
            if connector is None:
                walk.skipped += 1
                continue
            try:
                signature, size = file_signature(full_path)
            except OSError:
                continue  # vanished while walking
            walk.units.append(Unit(source_id, full_path, connector, signature, size))
    return walk


# How often one sync reads again the units left with a blank signature (changed while
# parsed, or promoted duplicates); one still changing after that is read next time.
REREAD_ROUNDS = 3


def current_signature(unit: Unit) -> tuple[str, int] | None:
    """The unit's (signature, size) now, or None when it is gone."""
    try:
        return folder_signature(unit.path) if unit.path.is_dir() else file_signature(unit.path)
    except OSError:
        return None


def unit_settled(unit: Unit) -> bool:
    """Whether a file unit is as it was when the walk signed it. Folder units (a
    Maildir) are not walked a second time: their changes come as events of their own."""
    if unit.path.is_dir():
        return True
    now = current_signature(unit)
    return now is not None and now[0] == unit.signature
