"""The terminal's passphrase prompt, handed to the store's encryption (the core never
reads a terminal itself: assistant/store/crypto.py asks whatever prompt a front end
registered)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from assistant.errors import EncryptionError
from assistant.store import crypto


def terminal_prompt(folder: Path, *, confirm: bool, again: bool) -> str:
    """Ask on the terminal; with ``confirm`` (a new passphrase) ask twice."""
    if again:
        sys.stderr.write("wrong passphrase, try again\n")
    first = getpass.getpass(f"Passphrase for the Satchel store in {folder}: ")
    if not first:
        raise EncryptionError("an empty passphrase encrypts nothing; none was set")
    if confirm and getpass.getpass("The same passphrase again: ") != first:
        raise EncryptionError("the two passphrases differ; nothing was changed")
    return first


def use_terminal_prompt() -> None:
    """Ask for passphrases on the terminal when standard input is one (not in cron,
    a pipe or an MCP client's stdio)."""
    interactive = sys.stdin is not None and sys.stdin.isatty()
    crypto.set_passphrase_prompt(terminal_prompt if interactive else None)
