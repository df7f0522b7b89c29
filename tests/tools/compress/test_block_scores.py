"""Macro Influence and Block Influence against their definitions."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from tools.compress.block_scores import block_influence, macro_influence, mean_cosine
from tools.compress.decoder import block_inputs, layers_of, remove_blocks
from tools.compress.loading import load_model

IDS = torch.randint(3, 300, (2, 10), generator=torch.Generator().manual_seed(3))


@pytest.fixture(scope="module")
def tiny(tiny_llama: Path):
    return load_model(str(tiny_llama))[0]


def test_mean_cosine_of_parallel_and_orthogonal_states() -> None:
    a = torch.tensor([[[1.0, 0.0], [0.0, 2.0]]])
    assert mean_cosine(a, 3 * a) == pytest.approx(1.0)
    assert mean_cosine(a, a.flip(-1)) == pytest.approx(0.0)


@pytest.mark.parametrize("block", [0, 3, 5])
def test_macro_influence_is_one_minus_cosine_with_the_block_removed(tiny, block: int) -> None:
    full, _ = block_inputs(tiny, IDS)
    without = copy.deepcopy(tiny)
    remove_blocks(without, [block])
    pruned, _ = block_inputs(without, IDS)
    expected = 1 - F.cosine_similarity(full[-1].double(), pruned[-1].double(), dim=-1).mean().item()
    assert macro_influence(tiny, IDS)[block] == pytest.approx(expected, abs=1e-6)


def test_an_identity_block_has_zero_influence(tiny) -> None:
    model = copy.deepcopy(tiny)
    block = layers_of(model)[2]
    with torch.no_grad():  # no attention output and no MLP output: the block passes its input through
        block.self_attn.o_proj.weight.zero_()
        block.mlp.down_proj.weight.zero_()
    assert block_influence(model, IDS)[2] == pytest.approx(0.0, abs=1e-9)
    assert macro_influence(model, IDS)[2] == pytest.approx(0.0, abs=1e-6)
    assert min(block_influence(model, IDS)[i] for i in (0, 1, 3, 4, 5)) > 1e-4
