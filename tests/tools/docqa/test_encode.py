"""One encoder pass: pooled vectors equal the shared Embedder's, token vectors are unit and punctuation-free."""

from __future__ import annotations

import numpy as np
import torch

from tools.docqa.encode import encode_texts, query_threads

TEXTS = ["global_placement [-density target_density]", "Set target density.", "a much longer sentence " * 5]


def test_pooled_vectors_match_the_shared_embedder(embedder) -> None:
    pooled, tokens = encode_texts(embedder, TEXTS)
    assert tokens is None
    np.testing.assert_allclose(pooled, embedder.encode(TEXTS), atol=1e-5)


def test_token_vectors_are_unit_and_skip_specials_and_punctuation(embedder) -> None:
    eye = np.eye(embedder.dim, dtype=np.float32)
    _, with_punct = encode_texts(embedder, TEXTS, eye)
    _, without = encode_texts(embedder, TEXTS, eye, skip_punctuation=True)
    n_tokens = len(embedder.tokenizer.tokenize(TEXTS[0]))
    assert with_punct[0].shape == (n_tokens, embedder.dim)
    assert without[0].shape[0] == n_tokens - 5  # '_', '[', '-', '_', ']' of the 10 word pieces
    assert np.allclose(np.linalg.norm(without[1], axis=1), 1.0, atol=1e-5)


def test_query_threads_restores_the_thread_count() -> None:
    before = torch.get_num_threads()
    with query_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
