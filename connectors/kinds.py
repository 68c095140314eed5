"""The document kinds the core knows how to filter and present: the one list.

Connectors set them, the chunker titles email and chat chunks, and the front ends
offer them (the CLI's ``--kind``, the TUI's filter, the MCP server's scope). They
live in ``connectors/`` because connectors import nothing from ``assistant/``.
Connectors may use other kinds; those are stored and filtered as plain strings.
"""

from __future__ import annotations

KIND_EMAIL = "email"
KIND_CHAT = "chat"
KIND_FILE = "file"
KIND_NOTE = "note"

KINDS = (KIND_EMAIL, KIND_CHAT, KIND_FILE, KIND_NOTE)
