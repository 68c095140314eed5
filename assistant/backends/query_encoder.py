"""A NumPy forward pass of a BERT sentence encoder, for queries from a cold process.

`import sentence_transformers` (torch, transformers) alone takes seconds; a search
from a fresh `satchel search` process needs one short query vector. This reads the
same safetensors weights with NumPy and the same word-piece tokenizer with the
`tokenizers` library, and computes the same mean-pooled, normalised vector (checked
against sentence-transformers to 1e-3 in tests/test_query_encoder.py). Ingestion
still uses sentence-transformers, batched, where torch pays for itself.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from assistant.backends.tokenizer import MAX_SEQUENCE_TOKENS, load_tokenizer


def supported(model_dir: Path) -> bool:
    """Plain BERT with mean pooling (all-MiniLM-L6-v2 and its family)."""
    try:
        config = json.loads((model_dir / "config.json").read_text())
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return (
        config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and bool(pooling.get("pooling_mode_mean_tokens"))
        and not any(pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens"))
        and (model_dir / "model.safetensors").is_file()
        and (model_dir / "tokenizer.json").is_file()
    )


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _erf(x: np.ndarray) -> np.ndarray:
    """Vectorised erf (Abramowitz & Stegun 7.1.26, error < 1.5e-7): math.erf per
    element would cost tens of milliseconds a query."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


class NumpyBertEncoder:
    def __init__(self, model_dir: Path) -> None:
        from safetensors.numpy import load_file

        self.config = json.loads((model_dir / "config.json").read_text())
        self.tokenizer = load_tokenizer(model_dir)
        raw = load_file(str(model_dir / "model.safetensors"))
        prefix = "bert." if any(k.startswith("bert.") for k in raw) else ""
        # Linear-layer weights are kept transposed and contiguous, (in, out): x @ W is
        # about a quarter faster than x @ W.T on a strided view for one short query.
        self.w: dict[str, Any] = {}
        for key, value in raw.items():
            name = key[len(prefix) :]
            linear = name.startswith("encoder.layer.") and name.endswith(".weight") and value.ndim == 2
            self.w[name] = np.ascontiguousarray(value.T if linear else value, dtype=np.float32)
        self.heads = int(self.config["num_attention_heads"])
        self.layers = int(self.config["num_hidden_layers"])
        self.eps = float(self.config.get("layer_norm_eps", 1e-12))

    def encode(self, text: str) -> np.ndarray:
        ids = self.tokenizer.encode(text).ids
        if len(ids) > MAX_SEQUENCE_TOKENS:  # truncate the text, keep the closing [SEP]
            ids = ids[: MAX_SEQUENCE_TOKENS - 1] + ids[-1:]
        w = self.w
        n = len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        hidden = x.shape[-1]
        head = hidden // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def dense(t: np.ndarray, name: str, p: str = p) -> np.ndarray:
                return t @ w[p + name + ".weight"] + w[p + name + ".bias"]

            q = dense(x, "attention.self.query").reshape(n, self.heads, head).transpose(1, 0, 2)
            k = dense(x, "attention.self.key").reshape(n, self.heads, head).transpose(1, 0, 2)
            v = dense(x, "attention.self.value").reshape(n, self.heads, head).transpose(1, 0, 2)
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(head)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, hidden)
            x = _layer_norm(
                dense(context, "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            inner = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(
                dense(inner, "output.dense") + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self.eps,
            )
        pooled = x.mean(0)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)
