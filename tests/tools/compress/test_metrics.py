"""Perplexity against its definition, latency and generation on the tiny model."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from tools.compress.loading import load_model
from tools.compress.metrics import generate_text, latency_ms, perplexity

WINDOWS = torch.randint(3, 300, (3, 9), generator=torch.Generator().manual_seed(6))


def test_perplexity_is_exp_of_mean_token_nll(tiny_llama: Path) -> None:
    model, _ = load_model(str(tiny_llama))
    with torch.no_grad():
        nll = [F.cross_entropy(model(input_ids=w[None]).logits[0, :-1], w[1:], reduction="sum").item() for w in WINDOWS]
    expected = math.exp(sum(nll) / (3 * 8))
    assert perplexity(model, WINDOWS, batch_size=2) == pytest.approx(expected, rel=1e-5)
    assert perplexity(model, WINDOWS) > 50  # a random model is near the 320-token vocabulary's uniform 320


def test_latency_and_generation(tiny_llama: Path) -> None:
    model, tok = load_model(str(tiny_llama))
    assert latency_ms(model, seq_len=16, repeats=2) > 0
    text = generate_text(model, tok, "The assert", max_new_tokens=5)
    assert isinstance(text, str) and text == generate_text(model, tok, "The assert", max_new_tokens=5)
