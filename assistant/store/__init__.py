"""The store: SQLite schema and migrations, its repositories (all SQL), the FAISS vector index and
encryption at rest. The lowest layer: it imports no other part of Satchel but errors and language."""
