"""Discovery of connectors through the ``satchel.connectors`` entry-point group."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

from connectors.base import Connector

ENTRY_POINT_GROUP = "satchel.connectors"


class UnknownConnectorError(LookupError):
    pass


@cache
def available_connectors() -> tuple[Connector, ...]:
    """Every installed connector, instantiated once, highest priority first.

    Loaded lazily on first use (never at import time) so that a broken third-party
    plugin only affects the run that needs connectors, and says which one failed.
    """
    found: dict[str, Connector] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            raise TypeError(f"entry point {ep.name!r} is not a Connector subclass")
        instance = cls()
        found[instance.name or ep.name] = instance
    return tuple(sorted(found.values(), key=lambda c: (-c.priority, c.name)))


def connector_by_name(name: str) -> Connector:
    for connector in available_connectors():
        if connector.name == name:
            return connector
    names = ", ".join(sorted(c.name for c in available_connectors()))
    raise UnknownConnectorError(f"no connector named {name!r} (installed: {names})")


def connector_for(path: Path, only: str | None = None) -> Connector | None:
    """The connector that claims ``path``, or None when none does."""
    for connector in available_connectors():
        if only and connector.name != only:
            continue
        if path.is_dir() and not connector.claims_directories:
            continue
        try:
            if connector.claims(path):
                return connector
        except OSError:
            return None
    return None
