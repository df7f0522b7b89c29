"""FuseGPT: the fused layer's formula, its zero start, the window rule, distillation and the pruning loop."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch import nn

from tools.common import InputError
from tools.compress.block_scores import block_influence, sleb_scores
from tools.compress.decoder import (
    block_inputs,
    embed,
    layer_context,
    layers_of,
    lm_logits,
    remove_blocks,
    run_layers,
)
from tools.compress.fusegpt import (
    FusedLinear,
    FusionSchedule,
    distill_loss,
    distill_window,
    fold_window,
    fuse_into_window,
    fusion_window,
    prune_blocks,
)
from tools.compress.loading import load_model

CALIB = torch.randint(3, 300, (4, 16), generator=torch.Generator().manual_seed(2))
STREAM = torch.randint(3, 300, (400,), generator=torch.Generator().manual_seed(3))
SCORE = CALIB[:2]


@pytest.fixture(scope="module")
def tiny(tiny_llama: Path):
    return load_model(str(tiny_llama))


def _linear(seed: int, bias: bool = True) -> nn.Linear:
    torch.manual_seed(seed)
    return nn.Linear(6, 5, bias=bias)


def test_fused_linear_starts_as_the_target_exactly() -> None:
    target, pruned = _linear(0), _linear(1)
    fused = FusedLinear(target, pruned, rank=3, generator=torch.Generator().manual_seed(0))
    x = torch.randn(4, 6)
    assert torch.equal(fused(x), target(x))


def test_fused_linear_computes_the_paper_formula() -> None:
    target, pruned = _linear(0), _linear(1)
    fused = FusedLinear(target, pruned, rank=3, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for p in (fused.lora_b, fused.coef_l, fused.coef_b):
            p.normal_()
    w = target.weight + fused.lora_b @ fused.lora_a + (fused.coef_l @ fused.coef_r) * pruned.weight
    b = target.bias + fused.coef_b * pruned.bias
    x = torch.randn(4, 6)
    torch.testing.assert_close(fused(x), x @ w.T + b)
    folded = fused.to_linear()
    assert type(folded) is nn.Linear
    torch.testing.assert_close(folded(x), fused(x))


def test_fused_linear_without_a_twin_is_lora() -> None:
    target = _linear(0)
    lora = FusedLinear(target, None, rank=3, generator=torch.Generator().manual_seed(0))
    x = torch.randn(4, 6)
    assert torch.equal(lora(x), target(x))
    assert {n for n, _ in lora.named_parameters()} == {"lora_a", "lora_b"}
    with torch.no_grad():
        lora.lora_b.normal_()
    torch.testing.assert_close(lora(x), x @ (target.weight + lora.lora_b @ lora.lora_a).T + target.bias)
    torch.testing.assert_close(lora.to_linear()(x), lora(x))


def test_fused_linear_refuses_different_shapes() -> None:
    with pytest.raises(InputError, match="identical shapes"):
        FusedLinear(nn.Linear(6, 5), nn.Linear(6, 4), rank=2, generator=torch.Generator())


@pytest.mark.parametrize(
    "n,idx,expected",
    [(30, 0, list(range(0, 8))), (30, 15, list(range(11, 19))), (30, 29, list(range(22, 30))), (5, 2, list(range(5)))],
)
def test_fusion_window_follows_the_authors_placement(n: int, idx: int, expected: list[int]) -> None:
    # FuseGPT code: window of group_size + 1 = 8 blocks from idx - 4, clamped at both ends
    assert fusion_window(n, idx, 7) == expected


@pytest.mark.parametrize("loss", ["kl", "mse"])
def test_distillation_lowers_the_window_loss(tiny, loss: str) -> None:
    model, _ = tiny
    model = copy.deepcopy(model).requires_grad_(False)
    layers = layers_of(model)
    window, idx = fusion_window(len(layers), 2, 3), 2
    hidden = embed(model, CALIB)
    ctx = layer_context(model, hidden)
    with torch.no_grad():
        inputs = run_layers(layers[: window[0]], hidden, ctx)
        targets = run_layers([layers[j] for j in window], inputs, ctx)
    fuse_into_window(layers, idx, window, rank=4, generator=torch.Generator().manual_seed(0))
    kept = [layers[j] for j in window if j != idx]
    head = lambda h: lm_logits(model, h)  # noqa: E731
    sched = FusionSchedule(rank=4, epochs=8, lr=1e-2, batch_size=4, loss=loss)
    before, after = distill_window(kept, inputs, targets, ctx, sched, head)
    assert after < 0.9 * before
    fold_window(kept)
    assert not any(isinstance(m, FusedLinear) for b in kept for m in b.modules())
    with torch.no_grad():
        folded = distill_loss(run_layers(kept, inputs, ctx), targets, loss, head).item()
    assert folded == pytest.approx(after, rel=1e-4)


def test_kl_loss_is_the_kl_of_the_read_out_distributions(tiny) -> None:
    model, _ = tiny
    head = lambda h: lm_logits(model, h)  # noqa: E731
    gen = torch.Generator().manual_seed(0)
    target, out = torch.randn(2, 5, 32, generator=gen), torch.randn(2, 5, 32, generator=gen)
    p = torch.softmax(head(target), -1).flatten(0, 1)
    q = torch.softmax(head(out), -1).flatten(0, 1)
    expected = (p * (p.log() - q.log())).sum(-1).mean()
    torch.testing.assert_close(distill_loss(out, target, "kl", head), expected, rtol=1e-4, atol=1e-6)
    assert distill_loss(target, target, "kl", head).abs() < 1e-6
    torch.testing.assert_close(distill_loss(out, target, "mse", None), ((out - target) ** 2).mean())
    with pytest.raises(InputError, match="LM head"):
        distill_loss(out, target, "kl", None)


def test_fusegpt_without_training_equals_plain_mi_removal(tiny) -> None:
    model, _ = tiny
    plain, fused = copy.deepcopy(model), copy.deepcopy(model)
    r_plain = prune_blocks(plain, SCORE, 2, "mi", FusionSchedule())
    r_fused = prune_blocks(fused, SCORE, 2, "fusegpt", FusionSchedule(rank=4, samples=4, epochs=0), STREAM)
    assert r_plain.removed == r_fused.removed
    with torch.no_grad():
        torch.testing.assert_close(fused(input_ids=CALIB).logits, plain(input_ids=CALIB).logits)


def test_mi_removal_is_iterative_and_shortgpt_one_shot(tiny) -> None:
    model, _ = tiny
    short = copy.deepcopy(model)
    bi = block_influence(model, SCORE)
    report = prune_blocks(short, SCORE, 2, "shortgpt", FusionSchedule())
    assert sorted(report.removed) == sorted(sorted(range(6), key=bi.__getitem__)[:2])
    mi_model = copy.deepcopy(model)
    report = prune_blocks(mi_model, SCORE, 2, "mi", FusionSchedule())
    assert report.removed[0] == min(range(6), key=report.first_scores.__getitem__)
    assert len(layers_of(mi_model)) == 4 and len(set(report.removed)) == 2


def test_fusegpt_changes_the_neighbours(tiny) -> None:
    model, _ = tiny
    fused = copy.deepcopy(model)
    sched = FusionSchedule(group_size=2, rank=4, samples=8, epochs=2, lr=1e-2)
    report = prune_blocks(fused, SCORE, 1, "fusegpt", sched, STREAM)
    ((kl_before, kl_after),) = report.distill_loss
    assert kl_after < kl_before
    assert report.distill_tokens == 8 * 16 * 2
    states, _ = block_inputs(fused, CALIB)
    assert len(states) == 6  # 5 blocks left


def test_cannot_remove_every_block(tiny) -> None:
    with pytest.raises(InputError, match="between 1 and 5"):
        prune_blocks(copy.deepcopy(tiny[0]), SCORE, 6, "mi", FusionSchedule())


def test_fusegpt_needs_a_distillation_stream(tiny) -> None:
    with pytest.raises(InputError, match="distill_stream"):
        prune_blocks(copy.deepcopy(tiny[0]), SCORE, 1, "fusegpt", FusionSchedule())


def test_each_fusion_distils_on_fresh_windows(tiny, monkeypatch: pytest.MonkeyPatch) -> None:
    import tools.compress.fusegpt as fusegpt

    seen: list[torch.Tensor] = []
    real = fusegpt._fuse_step
    monkeypatch.setattr(fusegpt, "_fuse_step", lambda model, ids, *a: (seen.append(ids), real(model, ids, *a))[1])
    prune_blocks(copy.deepcopy(tiny[0]), SCORE, 2, "fusegpt", FusionSchedule(rank=2, samples=3, epochs=0), STREAM)
    assert [ids.shape for ids in seen] == [(3, 16), (3, 16)]
    assert not torch.equal(seen[0], seen[1])


def test_sleb_removes_the_block_whose_absence_costs_least(tiny) -> None:
    model, _ = tiny
    scores = sleb_scores(model, SCORE)
    expected = []
    for i in range(len(layers_of(model))):
        without = copy.deepcopy(model)
        remove_blocks(without, [i])
        with torch.no_grad():
            expected.append(without(input_ids=SCORE, labels=SCORE).loss.item())
    assert scores == pytest.approx(expected, rel=1e-4)
    report = prune_blocks(copy.deepcopy(model), SCORE, 2, "sleb", FusionSchedule())
    assert report.removed[0] == min(range(len(scores)), key=scores.__getitem__)
    assert len(set(report.removed)) == 2


def test_windows_are_distilled_towards_the_original_model(tiny, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fusion k's target is the ORIGINAL model's hidden state where the window ends, not the pruned model's."""
    import tools.compress.fusegpt as fusegpt

    model, _ = tiny
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []
    real = fusegpt.distill_window
    monkeypatch.setattr(
        fusegpt, "distill_window", lambda b, i, t, *a: (seen.append((i, t)), real(b, i, t, *a))[1]
    )
    pruned = copy.deepcopy(model)
    sched = FusionSchedule(group_size=2, rank=2, samples=3, epochs=1)
    report = prune_blocks(pruned, SCORE, 2, "fusegpt", sched, STREAM)
    first, second = report.removed
    ids = [fusegpt.windows(STREAM, SCORE.shape[1], 3, seed=k + 1) for k in range(2)]
    # second fusion: the window around `second` among the 5 blocks left; its target is the original state
    # entering the first original block after the window (or the last block's output)
    left = [i for i in range(6) if i != first]
    pos = left.index(second)
    window = fusion_window(5, pos, 2)
    exit_at = left[window[-1] + 1] if window[-1] + 1 < 5 else 6
    states, _ = block_inputs(model, ids[1])
    torch.testing.assert_close(seen[1][1], states[exit_at])


def test_healing_pulls_the_whole_pruned_model_towards_the_original(tiny) -> None:
    """After the fusions, the healing pass trains every block so the pruned model's next-token distributions
    approach the original's; it is folded into plain linears and the tokens are reported."""
    model, _ = tiny
    sched = FusionSchedule(group_size=2, rank=2, samples=3, epochs=0, heal_samples=8, heal_epochs=4, heal_lr=1e-2)
    pruned = copy.deepcopy(model)
    report = prune_blocks(pruned, SCORE, 2, "fusegpt", sched, STREAM)
    unhealed = copy.deepcopy(model)
    prune_blocks(unhealed, SCORE, 2, "fusegpt", replace(sched, heal_samples=0), STREAM)
    assert report.heal_tokens == 8 * 16 * 4 and report.heal_loss is not None
    before, after = report.heal_loss
    assert after < 0.9 * before
    assert not any(isinstance(m, FusedLinear) for m in pruned.modules())
    head = lambda h: lm_logits(model, h)  # noqa: E731
    with torch.no_grad():
        target = block_inputs(model, CALIB)[0][-1]
        gaps = [distill_loss(block_inputs(m, CALIB)[0][-1], target, "kl", head).item() for m in (pruned, unhealed)]
    assert gaps[0] < gaps[1]
