"""The sentence embedder: the numpy forward pass against the transformers model, and the on-disk vector cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.common import DataNotFoundError
from tools.embedding import Embedder, default_embedder_path, encode_cached, load_embedder

TEXTS = [
    "simulate M1_test3 at the defocus corner",
    "How much faster is W4A16 than FP16 on LLaMA-2-13B?",
    "x",
    "global placement density " * 150,  # past MAX_TOKENS: both paths truncate at 256 tokens
]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    try:
        return load_embedder(default_embedder_path())
    except DataNotFoundError as err:
        pytest.skip(str(err))


def test_numpy_forward_matches_the_transformers_model(embedder: Embedder) -> None:
    import torch

    assert embedder._numpy is not None  # the shipped MiniLM has model.safetensors and tokenizer.json
    ours = embedder.encode(TEXTS, batch_size=3)  # batches of mixed lengths: padding must not leak into the mean
    batch = embedder.tokenizer(TEXTS, padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.no_grad():
        hidden = embedder.model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    reference = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    assert ours.shape == (len(TEXTS), embedder.dim) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, reference, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-6)


def test_cached_vectors_are_read_back_and_new_texts_miss(embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = encode_cached(embedder, TEXTS[:2], tmp_path)
    assert len(list(tmp_path.glob("*.npy"))) == 1

    def no_model(texts: list[str], batch_size: int = 64) -> np.ndarray:
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(embedder, "encode", no_model)
    np.testing.assert_array_equal(encode_cached(embedder, TEXTS[:2], tmp_path), first)
    with pytest.raises(AssertionError, match="cache should have answered"):
        encode_cached(embedder, TEXTS[1:3], tmp_path)


def test_a_folder_without_a_model_says_so(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="config.json"):
        Embedder(tmp_path)


def test_concurrent_requests_are_encoded_together_and_get_their_own_vectors(embedder: Embedder) -> None:
    """Threads that ask while a pass runs share the next pass; each gets exactly its own texts' vectors."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from tools.embedding import _GroupEncoder

    alone = {t: embedder.encode([t])[0] for t in TEXTS[:3]}
    release, passes = threading.Event(), []

    def encode(texts: list[str]) -> np.ndarray:
        passes.append(list(texts))
        if len(passes) == 1:
            release.wait(10)  # the first pass holds on until the other callers are queued behind it
        return embedder._numpy._encode(texts, len(texts))

    group = _GroupEncoder(encode)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(group.encode, [TEXTS[0]])
        while not passes:
            pass
        rest = [pool.submit(group.encode, [t]) for t in (TEXTS[1], TEXTS[2], TEXTS[0])]
        while len(group._waiting) < 3:
            pass
        release.set()
        results = [first.result(), *(f.result() for f in rest)]
    assert len(passes) == 2 and sorted(passes[1]) == sorted([TEXTS[1], TEXTS[2], TEXTS[0]])
    for text, got in zip([TEXTS[0], TEXTS[1], TEXTS[2], TEXTS[0]], results, strict=True):
        assert got.shape == (1, embedder.dim)
        np.testing.assert_allclose(got[0], alone[text], atol=1e-5)


def test_an_error_in_a_shared_pass_reaches_every_request_of_it() -> None:
    from tools.embedding import _GroupEncoder

    def encode(texts: list[str]) -> np.ndarray:
        raise ValueError(f"cannot encode {len(texts)} texts")

    with pytest.raises(ValueError, match="cannot encode 1 texts"):
        _GroupEncoder(encode).encode(["a"])
