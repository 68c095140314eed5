"""Ingest: from sources to chunks (the first stage of the data flow; see the layout in docs/architecture.md)."""
