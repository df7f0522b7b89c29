"""Proxy tasks: well-formed items from held-out text, and scores that are the option log-likelihoods."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from tools.compress.corpus import load_documents, split_documents
from tools.compress.loading import load_model
from tools.compress.proxies import (
    N_OPTIONS,
    ProxyItem,
    _option_logprobs,
    build_cloze,
    build_next_sentence,
    proxy_accuracy,
)

HELDOUT = split_documents(load_documents(), 0.3, 0).heldout


def test_cloze_items_hide_the_last_word() -> None:
    items = build_cloze(HELDOUT, 20, seed=0)
    assert len(items) == 20
    for item in items:
        assert len(set(item.options)) == N_OPTIONS
        word = item.options[item.answer].strip()
        assert any(f"{item.context} {word}" in " ".join(d.split()) for d in HELDOUT)
    assert build_cloze(HELDOUT, 20, seed=0) == items


def test_next_sentence_items_take_the_following_sentence() -> None:
    for item in build_next_sentence(HELDOUT, 10, seed=1):
        right = item.options[item.answer].strip()
        assert any(f"{item.context} {right}" in " ".join(d.split()) for d in HELDOUT)


def test_option_scores_are_summed_token_log_probabilities(tiny_llama: Path) -> None:
    model, tok = load_model(str(tiny_llama))
    item = ProxyItem("The assert statement", (" is", " was", " are", " does"), 0)
    scores = _option_logprobs(model, tok, item)
    ctx = tok(item.context, add_special_tokens=False)["input_ids"]
    opt = tok(item.options[2], add_special_tokens=False)["input_ids"]
    ids = torch.tensor([ctx + opt])
    with torch.no_grad():
        logp = F.log_softmax(model(input_ids=ids).logits[0], -1)
    expected = sum(logp[len(ctx) - 1 + k, t].item() for k, t in enumerate(opt))
    assert scores[2].item() == pytest.approx(expected, abs=1e-4)
    acc = proxy_accuracy(model, tok, [item], per_char=False)
    assert acc == float(scores.argmax().item() == 0)
