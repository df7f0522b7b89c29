"""Taylor and Moreau-envelope gradient estimates, the group soft-threshold and the precision casts."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from tools.common import InputError
from tools.compress.loading import load_model
from tools.compress.moreau import (
    MoreauSchedule,
    cast_weights,
    group_soft_threshold,
    moreau_gradients,
    perturb_weights,
    taylor_gradients,
)

IDS = torch.randint(3, 300, (2, 12), generator=torch.Generator().manual_seed(5))


@pytest.fixture(scope="module")
def tiny(tiny_llama: Path):
    return load_model(str(tiny_llama))[0]


def test_group_soft_threshold_shrinks_rows_by_their_rms() -> None:
    delta = torch.tensor([[3.0, 4.0], [0.1, -0.1]])  # row RMS: sqrt(12.5), 0.1
    out = group_soft_threshold(delta, threshold=0.5)
    rms0 = 12.5**0.5
    torch.testing.assert_close(out[0], delta[0] * (1 - 0.5 / rms0))
    assert torch.equal(out[1], torch.zeros(2))  # RMS below the threshold: the whole row goes
    torch.testing.assert_close(group_soft_threshold(torch.tensor([2.0, -0.2]), 0.5), torch.tensor([1.5, 0.0]))


@pytest.mark.parametrize("precision,dtype", [("bf16", torch.bfloat16), ("fp16", torch.float16)])
def test_cast_rounds_every_weight(tiny, precision: str, dtype: torch.dtype) -> None:
    model = copy.deepcopy(tiny)
    cast_weights(model, precision)
    for (_, p), (_, q) in zip(model.named_parameters(), tiny.named_parameters(), strict=True):
        assert torch.equal(p, q.to(dtype).float())
    assert any(not torch.equal(p, q) for p, q in zip(model.parameters(), tiny.parameters(), strict=True))


def test_taylor_gradient_is_the_loss_gradient(tiny) -> None:
    model = copy.deepcopy(tiny).requires_grad_(True)
    model(input_ids=IDS, labels=IDS).loss.backward()
    expected = {n: p.grad.clone() for n, p in model.named_parameters()}
    grads = taylor_gradients(copy.deepcopy(tiny), IDS, batch_size=1)  # two half-batches, averaged
    for name, g in expected.items():
        torch.testing.assert_close(grads[name], g, rtol=1e-4, atol=1e-6)


def test_one_noiseless_unthresholded_step_is_a_gradient_step(tiny) -> None:
    grads = taylor_gradients(copy.deepcopy(tiny), IDS)
    model = copy.deepcopy(tiny)
    moreau = moreau_gradients(model, IDS, MoreauSchedule(steps=1, std=0.0, lr=0.1, soft=0.0, average_last=1))
    for name, g in grads.items():
        torch.testing.assert_close(moreau[name], -0.1 * g, rtol=1e-4, atol=1e-7)
    for p, q in zip(model.parameters(), tiny.parameters(), strict=True):  # the weights are restored
        assert torch.equal(p, q)


def test_moreau_is_deterministic_for_a_seed(tiny) -> None:
    sched = MoreauSchedule(steps=3, std=0.05, lr=0.05, soft=1e-6, average_last=2)
    a = moreau_gradients(copy.deepcopy(tiny), IDS, sched, seed=7)
    b = moreau_gradients(copy.deepcopy(tiny), IDS, sched, seed=7)
    c = moreau_gradients(copy.deepcopy(tiny), IDS, sched, seed=8)
    name = "model.layers.2.mlp.up_proj.weight"
    assert torch.equal(a[name], b[name]) and a[name].abs().sum() > 0
    assert not torch.equal(a[name], c[name])


def test_a_large_penalty_zeroes_delta(tiny) -> None:
    sched = MoreauSchedule(steps=2, std=0.0, lr=0.05, soft=1e3, average_last=2)
    assert all(g.abs().sum() == 0 for g in moreau_gradients(copy.deepcopy(tiny), IDS, sched).values())


def test_each_step_draws_its_own_batch(tiny) -> None:
    sched = MoreauSchedule(steps=3, std=0.0, lr=0.05, soft=0.0, average_last=3)
    other = torch.randint(3, 300, (2, 12), generator=torch.Generator().manual_seed(6))
    same = moreau_gradients(copy.deepcopy(tiny), IDS, sched)
    stacked = moreau_gradients(copy.deepcopy(tiny), torch.stack([IDS, IDS, IDS]), sched)
    fresh = moreau_gradients(copy.deepcopy(tiny), torch.stack([IDS, other, IDS]), sched)
    name = "model.layers.2.mlp.up_proj.weight"
    torch.testing.assert_close(stacked[name], same[name])  # (steps, B, T) of one batch = reusing it
    assert not torch.allclose(fresh[name], same[name])  # step 2 saw other text
    # without noise or threshold the first step is a gradient step on batch 0 alone
    first = moreau_gradients(copy.deepcopy(tiny), torch.stack([IDS, other]), MoreauSchedule(1, 0.0, 0.1, 0.0, 1))
    torch.testing.assert_close(first[name], -0.1 * taylor_gradients(copy.deepcopy(tiny), IDS)[name])


def test_fewer_batches_than_steps_is_an_input_error(tiny) -> None:
    with pytest.raises(InputError, match="one batch per Moreau step"):
        moreau_gradients(copy.deepcopy(tiny), torch.stack([IDS, IDS]), MoreauSchedule(steps=3))


def test_perturbation_is_relative_small_and_seeded(tiny) -> None:
    a, b, c = copy.deepcopy(tiny), copy.deepcopy(tiny), copy.deepcopy(tiny)
    perturb_weights(a, 2**-9, seed=1)
    perturb_weights(b, 2**-9, seed=1)
    perturb_weights(c, 2**-9, seed=2)
    for p, q, r, w in zip(a.parameters(), b.parameters(), c.parameters(), tiny.parameters(), strict=True):
        assert torch.equal(p, q)
        assert ((p - w).abs() <= 6 * 2**-9 * w.abs() + 1e-12).all()  # six sd at most: relative to |w|
    assert any(not torch.equal(p, r) for p, r in zip(a.parameters(), c.parameters(), strict=True))
