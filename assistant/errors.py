"""Satchel's error hierarchy.

Core code raises these; front ends convert them at their boundary (a one-line message
and a non-zero exit in the CLI, a notification in the TUI). Per-item problems are not
exceptions: connectors yield ``ItemError`` records and the run goes on.
"""

from __future__ import annotations


class SatchelError(Exception):
    """Base class. The message says what went wrong and what to do about it."""

    exit_code = 1


class ConfigError(SatchelError):
    """A setting or the config file is invalid."""

    exit_code = 2


class SourceError(SatchelError):
    """A source path is missing, unreadable, or claimed by no connector."""

    exit_code = 2


class StoreError(SatchelError):
    """The store cannot be opened or written (locked, corrupt, disk full)."""

    exit_code = 3


class StoreLockedError(StoreError):
    """Another process holds the writer lock."""

    exit_code = 4


class ModelError(SatchelError):
    """A model file is missing, damaged or cannot be loaded."""

    exit_code = 5


class EmbeddingMismatchError(StoreError):
    """The store holds vectors from another embedding model."""


class NetworkPolicyError(SatchelError):
    """A configured server address is not private and was not explicitly allowed."""

    exit_code = 6


class EncryptionError(StoreError):
    """The store is encrypted and no passphrase could be had (not set, no keyring,
    no terminal to ask in), or encryption cannot be set up."""

    exit_code = 7


class WrongPassphraseError(EncryptionError):
    """The passphrase given does not open the encrypted store."""
