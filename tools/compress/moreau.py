"""Gradient estimates for structured-pruning importance: plain (Taylor) and Moreau-envelope (MoreauPruner).

- Taylor (LLM-Pruner, Ma et al., arXiv 2305.11627): ``G = ∇L(w)``, the gradient of the language-modelling
  loss on a few calibration windows; importance ``|W ⊙ G|``.
- MoreauPruner (Wang et al., arXiv 2406.07017): the gradient of the Moreau envelope
  ``M_λ L(w) = min_z L(z) + ||z - w||^2 / (2λ)`` is ``(w - z*) / λ``, which is far less sensitive to small weight
  perturbations (such as a cast to bf16/fp16) than ``∇L(w)`` itself. The authors estimate ``-(z* - w) = -δ`` by
  a few noisy proximal-gradient steps and use the averaged ``δ`` in place of the gradient:

      ξ_k ~ N(0, (std · |w|)^2)                           relative Gaussian noise, redrawn every step
      δ  <- δ - lr · ∇L(w + ξ_k + δ)
      δ_g <- δ_g · max(0, 1 - lr · soft / rms(δ_g))       group soft-threshold, one group per output row
      G   = mean of δ over the last ``average_last`` steps

  The threshold step is the proximal operator of the group penalty ``soft · Σ_g rms(δ_g)`` for step size
  ``lr``; the authors' code zeroes a row exactly when ``rms(δ_g) <= lr · soft``, as this does (its shrink
  factor omits ``lr``, which flips the sign of rows just above the threshold; we use the proximal operator).

  Constants from the authors' ``start.sh`` for LLaMA-7B: 10 steps, std 0.05, lr 2e-4, soft 5e-6, the last 5
  iterates averaged; the noise and δ cover every parameter. Each step computes ``∇L`` on a fresh calibration
  batch, as the authors' loop draws a new batch per iteration (``moreau_gradients`` takes ``(steps, B, T)``
  windows; a ``(B, T)`` tensor reuses one batch at every step). The sign and the ``1/λ`` factor of ``G`` do not
  matter: importance takes ``|W ⊙ G|`` and compares units with each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from tools.common import InputError, ProgressFn, report
from tools.compress.args import Precision

__all__ = (
    "MoreauSchedule",
    "cast_weights",
    "perturb_weights",
    "taylor_gradients",
    "moreau_gradients",
    "group_soft_threshold",
)

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class MoreauSchedule:
    """MoreauPruner's estimation constants (authors' LLaMA-7B script)."""

    steps: int = 10
    std: float = 0.05
    """Noise standard deviation relative to each weight's magnitude."""
    lr: float = 2e-4
    soft: float = 5e-6
    """Weight of the group penalty on the rows of δ; the threshold per step is ``lr * soft``."""
    average_last: int = 5


@torch.no_grad()
def cast_weights(model: Any, precision: Precision) -> None:
    """Round every parameter to ``precision`` and back to its own dtype, in place (``fp32``: no change)."""
    if precision == "fp32":
        return
    for p in model.parameters():
        p.copy_(p.to(_DTYPES[precision]).to(p.dtype))


@torch.no_grad()
def perturb_weights(model: Any, std: float, seed: int) -> None:
    """Add relative Gaussian noise ``w <- w + N(0, (std · |w|)^2)`` to every parameter, in place: a small weight
    perturbation of the kind MoreauPruner's robustness claim is about (``std=2**-9`` is half a bf16 rounding step)."""
    gen = torch.Generator(device="cpu").manual_seed(seed)
    for p in model.parameters():
        p.add_(torch.randn(p.shape, generator=gen, dtype=p.dtype).to(p.device) * (std * p.abs()))


def _accumulate_loss_grad(model: Any, ids: torch.Tensor, batch_size: int) -> float:
    """Set ``p.grad`` to the gradient of the mean token loss over all windows ``ids`` ``(B, T)``."""
    model.zero_grad(set_to_none=True)
    total = 0.0
    for start in range(0, ids.shape[0], batch_size):
        batch = ids[start : start + batch_size].to(model.device)
        loss = model(input_ids=batch, labels=batch).loss * (batch.shape[0] / ids.shape[0])
        loss.backward()
        total += loss.item()
    return total


def taylor_gradients(model: Any, ids: torch.Tensor, batch_size: int = 4) -> dict[str, torch.Tensor]:
    """``∇L(w)`` per parameter name, on calibration windows ``ids``."""
    model.requires_grad_(True)
    _accumulate_loss_grad(model, ids, batch_size)
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    model.requires_grad_(False)
    return grads


def group_soft_threshold(delta: torch.Tensor, threshold: float) -> torch.Tensor:
    """Shrink each output row of ``delta`` towards zero by ``threshold`` in root-mean-square (the rows of a
    vector are its elements): ``δ_g · max(0, 1 - threshold / rms(δ_g))``."""
    rms = delta.abs() if delta.dim() == 1 else delta.pow(2).flatten(1).mean(1).sqrt()
    coeff = (1.0 - threshold / rms.clamp_min(1e-30)).clamp_min(0.0)
    return delta * coeff.view(-1, *([1] * (delta.dim() - 1)))


def moreau_gradients(
    model: Any,
    ids: torch.Tensor,
    schedule: MoreauSchedule,
    seed: int = 0,
    batch_size: int = 4,
    progress: ProgressFn | None = None,
) -> dict[str, torch.Tensor]:
    """MoreauPruner's ``G`` per parameter name (see the module docstring); the weights are left unchanged.

    Args:
        ids: ``(steps, B, T)``: step ``k`` computes its gradient on ``ids[k]`` (fresh batches, the authors'
            protocol); ``(B, T)``: the same windows at every step.
    """
    if ids.dim() == 3 and ids.shape[0] < schedule.steps:
        raise InputError("ids", tuple(ids.shape), f"one batch per Moreau step: at least {schedule.steps} batches")
    params = dict(model.named_parameters())
    original = {n: p.detach().clone() for n, p in params.items()}
    delta = {n: torch.zeros_like(p) for n, p in params.items()}
    acc = {n: torch.zeros_like(p) for n, p in params.items()}
    gen = torch.Generator(device="cpu").manual_seed(seed)
    model.requires_grad_(True)
    averaged = 0
    for step in range(schedule.steps):
        with torch.no_grad():
            for n, p in params.items():
                noise = torch.randn(p.shape, generator=gen, dtype=p.dtype).to(p.device) * (
                    schedule.std * original[n].abs()
                )
                p.copy_(original[n] + noise + delta[n])
        loss = _accumulate_loss_grad(model, ids[step] if ids.dim() == 3 else ids, batch_size)
        with torch.no_grad():
            for n, p in params.items():
                delta[n] = group_soft_threshold(delta[n] - schedule.lr * p.grad, schedule.lr * schedule.soft)
                if step >= schedule.steps - schedule.average_last:
                    acc[n] += delta[n]
        averaged += int(step >= schedule.steps - schedule.average_last)
        report(progress, f"Moreau step {step + 1}/{schedule.steps}: loss {loss:.3f}", (step + 1) / schedule.steps)
    with torch.no_grad():
        for n, p in params.items():
            p.copy_(original[n])
    model.zero_grad(set_to_none=True)
    model.requires_grad_(False)
    return {n: a / max(averaged, 1) for n, a in acc.items()}
