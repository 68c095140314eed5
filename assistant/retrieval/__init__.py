"""Retrieval: from a question to ranked sources (filters, search; see the layout in docs/architecture.md)."""
