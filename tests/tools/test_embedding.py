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
