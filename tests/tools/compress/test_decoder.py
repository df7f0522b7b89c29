"""Block-by-block execution matches the model's own forward; block removal keeps a loadable checkpoint."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from tools.common import InputError
from tools.compress.decoder import (
    block_inputs,
    block_params,
    check_decoder,
    count_params,
    embed,
    layer_context,
    layers_of,
    lm_logits,
    remove_blocks,
    run_layers,
)
from tools.compress.loading import load_model

IDS = torch.randint(3, 300, (2, 12), generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope="module")
def tiny(tiny_llama: Path):
    return load_model(str(tiny_llama))


def test_manual_block_run_equals_model_forward(tiny) -> None:
    model, _ = tiny
    hidden = embed(model, IDS)
    manual = lm_logits(model, run_layers(layers_of(model), hidden, layer_context(model, hidden)))
    with torch.no_grad():
        torch.testing.assert_close(manual, model(input_ids=IDS).logits, rtol=1e-5, atol=1e-5)


def test_causal_mask_makes_early_positions_ignore_later_tokens(tiny) -> None:
    model, _ = tiny
    changed = IDS.clone()
    changed[:, -1] = 5
    a, _ = block_inputs(model, IDS)
    b, _ = block_inputs(model, changed)
    torch.testing.assert_close(a[-1][:, :-1], b[-1][:, :-1])
    assert not torch.allclose(a[-1][:, -1], b[-1][:, -1])


def test_remove_blocks_renumbers_and_reloads(tiny, tmp_path: Path) -> None:
    model, tok = tiny
    pruned = copy.deepcopy(model)
    remove_blocks(pruned, [1, 4])
    assert pruned.config.num_hidden_layers == 4
    assert [b.self_attn.layer_idx for b in layers_of(pruned)] == [0, 1, 2, 3]
    hidden = embed(model, IDS)
    kept = [layers_of(model)[i] for i in (0, 2, 3, 5)]
    expected = lm_logits(model, run_layers(kept, hidden, layer_context(model, hidden)))
    pruned.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    reloaded, _ = load_model(str(tmp_path))
    with torch.no_grad():
        torch.testing.assert_close(reloaded(input_ids=IDS).logits, expected, rtol=1e-5, atol=1e-5)


def test_remove_all_blocks_is_refused(tiny) -> None:
    model, _ = tiny
    with pytest.raises(InputError, match="blocks"):
        remove_blocks(copy.deepcopy(model), range(6))


def test_parameter_counts(tiny) -> None:
    model, _ = tiny
    d, m, n = 32, 64, 6
    per_block = 4 * 8 * d + 2 * 2 * 8 * d + 4 * 8 * d + 3 * d * m + 2 * d  # q, k+v, o, mlp, two norms
    assert block_params(model) == n * per_block
    assert count_params(model) == n * per_block + model.config.vocab_size * d + d  # tied head, final norm


def test_unsupported_architecture_names_the_type(tmp_path: Path) -> None:
    from transformers import GPT2Config, GPT2LMHeadModel

    model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=50))
    with pytest.raises(InputError, match="gpt2.*LLaMA-style"):
        check_decoder(model)
