"""Synthetic stores and vectors from real text, shared by the scale benchmarks.

Random unit vectors have no neighbourhood structure, so an approximate index looks
worse on them than on real embeddings, and the exact index not at all different. The
vectors here are a random projection of each text's bag of words (a fixed Gaussian
vector per word, summed with sublinear term frequency, normalised): texts that share
words lie close, as with a real embedder, and a million of them take seconds to make
instead of the hours a real encoder would need on two cores. Words are weighted by
tf-idf within the batch, as an embedder weighs content words above "the".
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SCIFACT = REPO.parent / "shared" / "corpora" / "retrieval" / "scifact"
DIMENSION = 384
_WORD = re.compile(r"[a-z0-9]+")


def scifact_documents(limit: int | None = None, skip: int = 0) -> Iterable[dict[str, str]]:
    """SciFact's abstracts ({"_id", "title", "text"}) in corpus order, from ``skip``."""
    with open(SCIFACT / "corpus.jsonl", encoding="utf-8") as handle:
        for n, line in enumerate(handle):
            if limit is not None and n >= skip + limit:
                return
            if n >= skip:
                yield json.loads(line)


def write_abstracts(folder: Path, limit: int | None = None, *, skip: int = 0, markdown: bool = False) -> int:
    """SciFact's abstracts as one file each, .txt (title, a blank line, the text) or
    .md (the title as a heading); returns how many were written."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for doc in scifact_documents(limit, skip):
        if markdown:
            (folder / f"{doc['_id']}.md").write_text(f"# {doc['title']}\n\n{doc['text']}\n", encoding="utf-8")
        else:
            (folder / f"{doc['_id']}.txt").write_text(f"{doc['title']}\n\n{doc['text']}\n", encoding="utf-8")
        count += 1
    return count


def scifact_words() -> list[str]:
    words: list[str] = []
    with open(SCIFACT / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            doc = json.loads(line)
            words += (doc["title"] + " " + doc["text"]).split()
    return words


def window(rng: random.Random, words: list[str]) -> str:
    """40 to 80 consecutive words of real text, as a chunk of the synthetic stores."""
    start = rng.randrange(0, len(words) - 90)
    return " ".join(words[start : start + rng.randint(40, 80)])


def windows(count: int, seed: int = 7) -> list[str]:
    words = scifact_words()
    rng = random.Random(seed)
    return [window(rng, words) for _ in range(count)]


def scifact_queries() -> list[str]:
    lines = (SCIFACT / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x)["text"] for x in lines if x.strip()]


class Projector:
    """Bag-of-words random projection to DIMENSION floats, deterministic per word."""

    def __init__(self, seed: int = 11) -> None:
        self.seed = seed
        self._rows: dict[str, np.ndarray] = {}

    def _row(self, word: str) -> np.ndarray:
        row = self._rows.get(word)
        if row is None:
            digest = hashlib.blake2b(word.encode(), digest_size=8, key=str(self.seed).encode()).digest()
            rng = np.random.default_rng(int.from_bytes(digest, "little"))
            row = rng.standard_normal(DIMENSION).astype(np.float32)
            self._rows[word] = row
        return row

    def vectors(self, texts: Iterable[str]) -> np.ndarray:
        """One unit vector per text: a sparse (texts x words) matrix of 1 + log(tf)
        times the (words x DIMENSION) Gaussian rows."""
        from scipy.sparse import csr_matrix

        vocabulary: dict[str, int] = {}
        indptr, indices, data = [0], [], []
        for text in texts:
            counts: dict[int, int] = {}
            for word in _WORD.findall(text.lower()):
                column = vocabulary.setdefault(word, len(vocabulary))
                counts[column] = counts.get(column, 0) + 1
            indices += counts.keys()
            data += [1.0 + float(np.log(c)) for c in counts.values()]
            indptr.append(len(indices))
        if len(indptr) == 1:
            return np.zeros((0, DIMENSION), np.float32)
        weights = csr_matrix((np.asarray(data, np.float32), indices, indptr), shape=(len(indptr) - 1, len(vocabulary)))
        # idf weighting, as an embedder attends to content words more than to "the"
        documents = weights.shape[0]
        frequency = np.bincount(weights.indices, minlength=len(vocabulary))
        weights = weights @ _diagonal(np.log((documents + 1) / (frequency + 1)).astype(np.float32))
        rows = np.stack([self._row(word) for word in vocabulary])
        vectors = np.asarray(weights @ rows, dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors


def _diagonal(values: np.ndarray):  # type: ignore[no-untyped-def]
    from scipy.sparse import diags

    return diags(values)
