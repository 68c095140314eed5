"""Model backends behind Protocols (assistant/backends/protocols.py): the embedders and the chat
models (local llama.cpp, an OpenAI-compatible server). Beside the store, below ingest, retrieval and answer."""
