"""Structured pruning: removing units equals zeroing them, the budget is met, the folder round-trips."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from tools.common import InputError
from tools.compress.decoder import block_params, layers_of
from tools.compress.loading import load_model
from tools.compress.structured import (
    PrunePlan,
    UnitScores,
    apply_plan,
    kv_group_size,
    mask_overlap,
    plan_pruning,
    prunable_blocks,
    save_structured,
    unit_scores,
)

IDS = torch.randint(3, 300, (2, 10), generator=torch.Generator().manual_seed(4))


@pytest.fixture(scope="module")
def tiny(tiny_llama: Path):
    return load_model(str(tiny_llama))


def _random_scores(model, seed: int = 0) -> UnitScores:
    gen = torch.Generator().manual_seed(seed)
    blocks = prunable_blocks(len(layers_of(model)))
    return UnitScores(
        {b: torch.rand(2, generator=gen) for b in blocks}, {b: torch.rand(64, generator=gen) for b in blocks}
    )


@pytest.mark.parametrize("n,expected", [(32, range(4, 30)), (30, range(4, 28)), (6, range(1, 5))])
def test_prunable_blocks_keep_the_first_and_last_as_the_authors(n: int, expected: range) -> None:
    assert prunable_blocks(n) == expected


def test_removing_units_equals_zeroing_their_weights(tiny) -> None:
    model, _ = tiny
    plan = PrunePlan({1: [0], 3: [1]}, {1: [0, 5, 9], 2: [63], 4: list(range(10))})
    zeroed = copy.deepcopy(model)
    with torch.no_grad():
        for b, groups in plan.kv_groups.items():
            _, rep, hd = kv_group_size(layers_of(zeroed)[b])
            for g in groups:  # the group's query heads write nothing to o_proj
                layers_of(zeroed)[b].self_attn.o_proj.weight[:, g * rep * hd : (g + 1) * rep * hd] = 0
        for b, chans in plan.channels.items():
            layers_of(zeroed)[b].mlp.down_proj.weight[:, chans] = 0
    pruned = copy.deepcopy(model)
    apply_plan(pruned, plan)
    assert layers_of(pruned)[1].self_attn.k_proj.out_features == 8
    assert layers_of(pruned)[4].mlp.gate_proj.out_features == 54
    with torch.no_grad():
        torch.testing.assert_close(pruned(input_ids=IDS).logits, zeroed(input_ids=IDS).logits, rtol=1e-5, atol=1e-5)


def test_unit_scores_sum_weight_times_gradient(tiny) -> None:
    model, _ = tiny
    grads = {n: torch.full_like(p, 2.0) for n, p in model.named_parameters()}
    scores = unit_scores(model, grads)
    block = layers_of(model)[1]
    sa, m = block.self_attn, block.mlp
    g1 = (
        sa.q_proj.weight[16:32].abs().sum()
        + sa.o_proj.weight[:, 16:32].abs().sum()
        + sa.k_proj.weight[8:16].abs().sum()
        + sa.v_proj.weight[8:16].abs().sum()
    )
    assert scores.attn[1][1].item() == pytest.approx(2 * g1.item(), rel=1e-5)
    c7 = m.gate_proj.weight[7].abs().sum() + m.up_proj.weight[7].abs().sum() + m.down_proj.weight[:, 7].abs().sum()
    assert scores.mlp[1][7].item() == pytest.approx(2 * c7.item(), rel=1e-5)
    assert set(scores.attn) == {1, 2, 3, 4}


@pytest.mark.parametrize("sparsity", [0.1, 0.2, 0.4])
def test_plan_meets_the_parameter_budget(tiny, sparsity: float) -> None:
    model, _ = tiny
    pruned = copy.deepcopy(model)
    total = block_params(pruned)
    plan = plan_pruning(pruned, _random_scores(pruned), sparsity)
    apply_plan(pruned, plan)
    assert 1 - block_params(pruned) / total == pytest.approx(sparsity, abs=0.01)
    assert all(kv_group_size(b)[0] >= 1 for b in layers_of(pruned))
    assert plan.kv_groups.keys() == {1, 2, 3, 4}


def test_plan_drops_the_least_important_units(tiny) -> None:
    model, _ = tiny
    scores = _random_scores(model)
    scores.mlp[2][:] = 1.0
    scores.mlp[2][[3, 30]] = 0.0
    plan = plan_pruning(model, scores, 0.05)
    assert {3, 30} <= set(plan.channels[2])


def test_too_much_sparsity_is_refused_with_the_limit(tiny) -> None:
    with pytest.raises(InputError, match="sparsity.*at most 0.545"):
        plan_pruning(tiny[0], _random_scores(tiny[0]), 0.95)


def test_mask_overlap() -> None:
    a = PrunePlan({1: [0]}, {1: [1, 2, 3, 4]})
    b = PrunePlan({1: [1]}, {1: [1, 2, 8, 9]})
    assert mask_overlap(a, b) == {"kv_groups": 0.0, "channels": 0.5}
    assert mask_overlap(a, a) == {"kv_groups": 1.0, "channels": 1.0}
    assert PrunePlan.from_json(a.to_json()) == a


def test_saved_structure_reloads_with_the_same_outputs(tiny, tmp_path: Path) -> None:
    model, tok = tiny
    pruned = copy.deepcopy(model)
    apply_plan(pruned, plan_pruning(pruned, _random_scores(pruned, 1), 0.3))
    save_structured(pruned, tok, tmp_path / "m", {"method": "test"})
    reloaded, _ = load_model(str(tmp_path / "m"))
    with torch.no_grad():
        torch.testing.assert_close(reloaded(input_ids=IDS).logits, pruned(input_ids=IDS).logits)
