"""One encoder pass that yields both the pooled sentence vector and the per-token vectors of a text.

The dense retriever needs the mean-pooled, normalised vector (all-MiniLM-L6-v2's model card); the
late-interaction reranker needs the token vectors of the same pass, projected and normalised (ColBERT,
Khattab & Zaharia, SIGIR 2020, section 3.1). Texts are batched in order of length so short pieces are not
padded to the longest one, which roughly halves indexing time on the CPU.
"""

from __future__ import annotations

import contextlib
import string
from collections.abc import Iterator, Sequence
from functools import lru_cache

import numpy as np

from tools.embedding import MAX_TOKENS, Embedder

__all__ = ("encode_texts", "query_threads", "QUERY_TOKENS")

QUERY_TOKENS = 128
"""Word pieces of a question that are encoded: long user questions (two or three sentences) run past 64."""


@contextlib.contextmanager
def query_threads(n: int = 1) -> Iterator[None]:
    """Run a block with ``n`` torch threads, then restore the previous count.

    A one-sentence query gains nothing from intra-op parallelism, and on a shared 2-core machine two threads
    wait on each other (measured here: 27 ms p50 with one thread, 137 ms with two, at load 6).
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@lru_cache(maxsize=8)
def _punctuation_ids(tokenizer: object) -> frozenset[int]:
    """Vocabulary ids of tokens made only of punctuation (``[``, ``-``, ``##.``...)."""
    vocab: dict[str, int] = tokenizer.get_vocab()  # type: ignore[attr-defined]
    marks = set(string.punctuation)
    return frozenset(i for tok, i in vocab.items() if tok.removeprefix("##") and set(tok.removeprefix("##")) <= marks)


def encode_texts(
    embedder: Embedder,
    texts: Sequence[str],
    projection: np.ndarray | None = None,
    max_len: int = MAX_TOKENS,
    batch_size: int = 32,
    skip_punctuation: bool = False,
) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """Pooled vectors ``(n, dim)`` and, with a ``projection`` ``(dim, p)``, token vectors ``[(T_i, p)]``.

    The projection acts on unit-normalised token states; token vectors skip [CLS], [SEP] and padding and
    have unit norm, so MaxSim sums cosines. ``projection = I`` gives the raw (normalised) token states.
    ``skip_punctuation`` also drops punctuation tokens, as ColBERT does on the document side (section 3.2):
    they rarely decide relevance and are a third of a Tcl synopsis.
    """
    import torch

    n = len(texts)
    pooled = np.zeros((n, embedder.dim), np.float32)
    tokens: list[np.ndarray] | None = [np.zeros((0, 0), np.float32)] * n if projection is not None else None
    proj = torch.from_numpy(projection.astype(np.float32)) if projection is not None else None
    order = sorted(range(n), key=lambda i: len(texts[i]))
    tok, model = embedder.tokenizer, embedder.model
    punct = _punctuation_ids(tok) if skip_punctuation else frozenset()
    with torch.no_grad():
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            enc = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=max_len, return_tensors="pt")
            hidden = model(**enc).last_hidden_state  # (B, T, dim)
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
            vec = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled[idx] = torch.nn.functional.normalize(vec, dim=-1).numpy()
            if proj is not None and tokens is not None:
                unit = torch.nn.functional.normalize(hidden, dim=-1)
                projected = torch.nn.functional.normalize(unit @ proj, dim=-1)  # (B, T, p)
                lengths = enc["attention_mask"].sum(1).tolist()
                for row, i in enumerate(idx):
                    ids = enc["input_ids"][row, 1 : int(lengths[row]) - 1].tolist()  # without [CLS], [SEP]
                    keep = [j + 1 for j, t in enumerate(ids) if t not in punct]
                    tokens[i] = projected[row, keep].numpy().copy()
    return pooled, tokens
