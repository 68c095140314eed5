"""A rotating, private log file for commands left running unattended (nightly ``satchel index``),
and the one-line summary each run writes to it."""

from __future__ import annotations

import contextlib
import io
import logging
import logging.handlers
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import SatchelError
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.ingest.reports import SyncReport


log = logging.getLogger("satchel.ops")


# --- logging -----------------------------------------------------------------------------
LOG_FILE = "satchel.log"
LOG_MAX_BYTES = 5 * 1024 * 1024
LOG_BACKUPS = 5
LOG_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files are created 0600: logs name files and people."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with contextlib.suppress(OSError):
            os.fchmod(fd, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding or "utf-8", errors=self.errors)


def quiet_third_party(record: logging.LogRecord) -> bool:
    """A logging filter: Satchel's own records pass; another library's only from
    WARNING up (its INFO is loader chatter, which belongs at DEBUG)."""
    return record.name == "satchel" or record.name.startswith("satchel.") or record.levelno >= logging.WARNING


def setup_file_logging(settings: Settings, level: int = logging.INFO) -> logging.Handler:
    """Send the ``satchel`` loggers to ``$SATCHEL_HOME/logs/satchel.log``.

    Rotated at 5 MB, five old files kept; folder 0700, files 0600. Calling it twice
    in one process adds no second handler.
    """
    settings.ensure_home()
    folder = settings.logs_dir
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        os.chmod(folder, 0o700)
    path = folder / LOG_FILE
    logger = logging.getLogger("satchel")
    for handler in logger.handlers:
        if isinstance(handler, PrivateRotatingFileHandler) and Path(handler.baseFilename) == path.absolute():
            return handler
    handler = PrivateRotatingFileHandler(path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.setLevel(level)
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    return handler


def summary_line(report: SyncReport) -> str:
    """The one-line summary of an index run (the same words the CLI prints)."""
    return (
        f"indexed: {report.added} added, {report.updated} updated, {report.deleted} deleted, "
        f"{report.unchanged} unchanged, {report.embedded_chunks} chunks embedded, "
        f"{report.errors} errors in {report.seconds:.1f}s"
    )


def log_index_report(report: SyncReport, command: str = "index") -> None:
    """Log a run's summary and each per-item error (to the file set up above)."""
    logger = logging.getLogger(f"satchel.{command}")
    logger.log(logging.WARNING if report.errors else logging.INFO, "%s", summary_line(report))
    for error in report.error_list:
        item = f" #{error['item']}" if error.get("item") else ""
        logger.warning("error: %s%s: %s", error.get("path"), item, error.get("reason"))
    if report.reembed is not None:
        from assistant.ingest.reembed import summary_line as reembed_line

        logger.info("%s", reembed_line(report.reembed))
    if report.ocr is not None:
        from assistant.ingest.ocr_pass import summary_line as ocr_line

        if line := ocr_line(report.ocr):
            logger.log(logging.WARNING if report.ocr["errors"] else logging.INFO, "%s", line)
        for error in report.ocr["error_list"]:  # type: ignore[attr-defined]
            logger.warning("error: %s #%s: %s", error.get("path"), error.get("item"), error.get("reason"))


@contextmanager
def logged_run(settings: Settings, command: str) -> Iterator[logging.Logger]:
    """Log the start and the end of an unattended command, failures included.

    A log that cannot be opened (read-only home, disk full) is said on stderr and the
    run goes on: logging must never be the reason a nightly index fails.
    """
    try:
        setup_file_logging(settings)
    except OSError as exc:
        sys.stderr.write(f"satchel: cannot write the log in {settings.logs_dir}: {exc}\n")
    logger = logging.getLogger(f"satchel.{command}")
    logger.info("%s started", command)
    try:
        yield logger
    except SatchelError as exc:
        logger.error("%s failed (exit %d): %s", command, exc.exit_code, exc)
        raise
    except KeyboardInterrupt:
        logger.warning("%s interrupted", command)
        raise
    except Exception:
        logger.exception("%s crashed", command)
        raise
