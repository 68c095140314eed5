"""The NumPy query encoder gives the sentence-transformers vectors (to 1e-3)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from assistant.backends.embedder import SentenceTransformerEmbedder, bundled_model_dir
from assistant.backends.query_encoder import NumpyBertEncoder, supported
from assistant.settings import load_settings
from tests.conftest import REPO


def test_numpy_encoder_matches_sentence_transformers() -> None:
    path = bundled_model_dir()
    assert supported(path)
    numpy_encoder = NumpyBertEncoder(path)
    embedder = SentenceTransformerEmbedder(load_settings({"embedding_precision": "fp32"}))
    queries = [
        "When is the cabin check-in and what is the door code?",
        "ferry",
        "Qué dijo Marco sobre el kayak? Ünïcödé and emoji 🌲",
        "word " * 300,  # longer than the window: truncated the same way
    ]
    reference = embedder.encode(queries)
    for query, expected in zip(queries, reference, strict=True):
        got = numpy_encoder.encode(query)
        assert np.max(np.abs(got - expected)) < 1e-3
        assert float(got @ expected) > 0.9999


def test_cold_query_path_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from assistant.backends.embedder import SentenceTransformerEmbedder\n"
        "from assistant.settings import load_settings\n"
        "v = SentenceTransformerEmbedder(load_settings()).encode_query('door code')\n"
        "assert v.shape == (384,)\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False False"



def test_embedding_keeps_every_core_after_faiss_runs_on_the_same_thread(tmp_path, monkeypatch) -> None:
    """FAISS and torch can share one OpenMP runtime (torch loads its libgomp globally),
    whose thread count holds per calling thread. A sync opens the index and then embeds
    on the same thread: a FAISS call that set one thread there once halved ingest speed."""
    import faiss
    import torch

    from assistant.store.vector_index import VectorIndex

    calls: list[int] = []
    real_setter = faiss.omp_set_num_threads
    monkeypatch.setattr(faiss, "omp_set_num_threads", lambda n: (calls.append(n), real_setter(n)))
    index = VectorIndex(tmp_path / "index.faiss", 4)
    index.add(np.arange(1, 9), np.eye(8, 4, dtype=np.float32))
    assert index.search(np.ones(4, dtype=np.float32), 3)
    assert calls == []  # the index leaves this thread's OpenMP setting alone

    embedder = SentenceTransformerEmbedder(load_settings({"embedding_threads": 2}))
    embedder.load()
    torch.set_num_threads(1)  # as another library on this thread may leave it
    embedder.encode(["ferry to Tróia"])
    assert torch.get_num_threads() == 2  # the embedder takes its threads back
