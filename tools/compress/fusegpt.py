"""FuseGPT: iterative block removal with learnable fusion of the removed block into its neighbours.

Pan et al., "FuseGPT: Learnable Layers Fusion of Generative Pre-trained Transformers", arXiv 2411.14507.
One iteration:

1. score every remaining block by Macro Influence (``tools.compress.block_scores``) and pick the lowest;
2. take the fusion window around it: the block plus ``group_size`` neighbours (paper: 7; the authors' code
   counts the removed block too, window of 8 starting 4 blocks before it, clamped at both ends);
3. replace every linear layer ``W`` of the neighbours by
   ``W' = W + B A + (C_L C_R) ⊙ W_p``, where ``W_p`` is the removed block's linear layer of the same role and
   ``B A`` a LoRA term; ``B`` and ``C_L`` start at zero, so step 3 alone equals plain removal;
4. local distillation: train ``C_L, C_R`` (and ``A, B`` and the norms, at a much smaller rate) so that the window
   without the block reproduces the original window's output on calibration activations;
5. fold ``W'`` into a dense weight: no inference overhead, a standard checkpoint.

Training constants follow the authors' code (Adam, betas (0.9, 0.95), eps 1e-8, cosine annealing over all
steps, a separate learning rate for the coefficients and for the other trainable parameters). The loss is the mean
squared error of the window's output (the error the authors print before and after each update). The schedule
(samples, sequence length, epochs, rank) is scaled down for a CPU and the learning rates scaled up to match
(see ``FusionSchedule``); the algorithm is unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tools.common import InputError, ProgressFn, report
from tools.compress.args import BlockMethod
from tools.compress.block_scores import block_influence, macro_influence
from tools.compress.decoder import ATTN_PROJ, MLP_PROJ, embed, layer_context, layers_of, remove_blocks, run_layers

__all__ = (
    "FusionSchedule",
    "FusedLinear",
    "BlockPruneReport",
    "fusion_window",
    "fuse_into_window",
    "distill_window",
    "fold_window",
    "prune_blocks",
)

_BETAS = (0.9, 0.95)  # FuseGPT code, Fuser.update
_EPS = 1e-8


@dataclass(frozen=True)
class FusionSchedule:
    """Hyper-parameters of FuseGPT's fusion and local distillation."""

    group_size: int = 7
    """Neighbours that receive the removed block (paper: 7)."""
    rank: int = 16
    """Rank of ``B A`` and ``C_L C_R``. The authors use 128 for d=4096; 16 keeps the same ratio for d=576."""
    epochs: int = 4
    """Passes over the calibration activations per fusion (authors: 20 on a GPU)."""
    batch_size: int = 4
    lr: float = 1e-2
    """Learning rate of the fusion coefficients ``C_L, C_R, c_b``. The authors use 1e-3 for 80 steps; with the
    16 steps a CPU affords, 1e-2 lowers the window error 40 % on SmolLM2 block 25 where 1e-3 manages 7 %."""
    base_lr: float = 1e-4
    """Learning rate of LoRA ``A, B`` and the norm weights (authors: 9.65e-6 for 80 steps; scaled likewise)."""


class FusedLinear(nn.Module):
    """``y = x W'^T + b'`` with ``W' = W + B A + (C_L C_R) ⊙ W_p`` and ``b' = b + c_b ⊙ b_p``.

    ``W`` and ``W_p`` are frozen buffers ``(out, in)``; ``A, C_R`` ``(r, in)`` start uniform in
    ``±1/sqrt(in)`` (PyTorch's default Linear init, as in LoRA) and ``B, C_L`` ``(out, r)`` at zero, so the
    layer starts as ``W`` exactly.
    """

    def __init__(self, target: nn.Linear, pruned: nn.Linear, rank: int, generator: torch.Generator):
        super().__init__()
        if target.weight.shape != pruned.weight.shape:
            raise InputError(
                "model",
                f"linear shapes {tuple(target.weight.shape)} vs {tuple(pruned.weight.shape)}",
                "blocks of identical shapes (fuse before any structured pruning)",
            )
        out_f, in_f = target.weight.shape
        w = target.weight.detach()
        bound = 1.0 / math.sqrt(in_f)
        self.register_buffer("weight_base", w.clone())
        self.register_buffer("weight_pruned", pruned.weight.detach().clone())
        self.lora_a = nn.Parameter(torch.empty(rank, in_f, dtype=w.dtype).uniform_(-bound, bound, generator=generator))
        self.lora_b = nn.Parameter(torch.zeros(out_f, rank, dtype=w.dtype))
        self.coef_l = nn.Parameter(torch.zeros(out_f, rank, dtype=w.dtype))
        self.coef_r = nn.Parameter(torch.empty(rank, in_f, dtype=w.dtype).uniform_(-bound, bound, generator=generator))
        if target.bias is not None:
            self.register_buffer("bias_base", target.bias.detach().clone())
            pruned_bias = pruned.bias.detach().clone() if pruned.bias is not None else torch.zeros_like(target.bias)
            self.register_buffer("bias_pruned", pruned_bias)
            self.coef_b = nn.Parameter(torch.zeros(out_f, dtype=w.dtype))
        self.to(w.device)

    def merged(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The dense ``(W', b')`` this layer computes with."""
        weight = self.weight_base + self.lora_b @ self.lora_a + (self.coef_l @ self.coef_r) * self.weight_pruned
        bias = self.bias_base + self.coef_b * self.bias_pruned if hasattr(self, "coef_b") else None
        return weight, bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight, bias = self.merged()
        return F.linear(x, weight, bias)

    @torch.no_grad()
    def to_linear(self) -> nn.Linear:
        """Fold into a plain ``nn.Linear`` (step 5)."""
        weight, bias = self.merged()
        out = nn.Linear(
            weight.shape[1], weight.shape[0], bias=bias is not None, device=weight.device, dtype=weight.dtype
        )
        out.weight.copy_(weight)
        if bias is not None:
            out.bias.copy_(bias)
        return out


@dataclass
class BlockPruneReport:
    """What a block-pruning run did, step by step."""

    removed: list[int] = field(default_factory=list)
    """Original indices of the removed blocks, in removal order."""
    first_scores: list[float] = field(default_factory=list)
    """Scores of all original blocks at the first step (MI or BI)."""
    distill_mse: list[tuple[float, float]] = field(default_factory=list)
    """Per fusion: the window's output MSE against the original window before and after distillation."""


def fusion_window(n_blocks: int, idx: int, group_size: int) -> list[int]:
    """Indices of the window: block ``idx`` plus ``group_size`` neighbours, starting ``(group_size+1)//2``
    blocks before it and shifted to stay inside ``[0, n_blocks)``."""
    size = min(group_size + 1, n_blocks)
    start = min(max(idx - size // 2, 0), n_blocks - size)
    return list(range(start, start + size))


_PROJ_PATHS = tuple(("self_attn", n) for n in ATTN_PROJ) + tuple(("mlp", n) for n in MLP_PROJ)


def fuse_into_window(layers: nn.ModuleList, idx: int, window: list[int], rank: int, generator: torch.Generator) -> None:
    """Step 3: wrap each linear of the window's blocks (other than ``idx``) around block ``idx``'s twin."""
    pruned = layers[idx]
    for j in window:
        if j == idx:
            continue
        for parent, name in _PROJ_PATHS:
            owner = getattr(layers[j], parent)
            setattr(
                owner, name, FusedLinear(getattr(owner, name), getattr(getattr(pruned, parent), name), rank, generator)
            )


def distill_window(
    blocks: list[nn.Module],
    inputs: torch.Tensor,
    targets: torch.Tensor,
    ctx: Any,
    schedule: FusionSchedule,
    progress: ProgressFn | None = None,
) -> tuple[float, float]:
    """Step 4: train the fused blocks so that ``blocks(inputs) ≈ targets`` ``(B, T, D)``; MSE before and after."""
    coef, base = [], []
    for block in blocks:
        for name, p in block.named_parameters():
            p.requires_grad_(True)
            (coef if "coef" in name else base).append(p)
    optim = torch.optim.Adam(
        [{"params": coef, "lr": schedule.lr}, {"params": base, "lr": schedule.base_lr}], betas=_BETAS, eps=_EPS
    )
    n_batches = math.ceil(inputs.shape[0] / schedule.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optim, T_max=max(1, schedule.epochs * n_batches))
    before = _window_mse(blocks, inputs, targets, ctx)
    for epoch in range(schedule.epochs):
        for b in range(n_batches):
            rows = slice(b * schedule.batch_size, (b + 1) * schedule.batch_size)
            optim.zero_grad(set_to_none=True)
            loss = F.mse_loss(run_layers(blocks, inputs[rows], ctx), targets[rows])
            loss.backward()
            optim.step()
            sched.step()
        report(progress, f"distillation epoch {epoch + 1}/{schedule.epochs}", (epoch + 1) / schedule.epochs)
    for block in blocks:
        block.requires_grad_(False)
    return before, _window_mse(blocks, inputs, targets, ctx)


@torch.no_grad()
def _window_mse(blocks: list[nn.Module], inputs: torch.Tensor, targets: torch.Tensor, ctx: Any) -> float:
    return F.mse_loss(run_layers(blocks, inputs, ctx), targets).item()


def fold_window(blocks: list[nn.Module]) -> None:
    """Step 5: replace every ``FusedLinear`` by its dense ``nn.Linear``."""
    for block in blocks:
        for parent, name in _PROJ_PATHS:
            owner = getattr(block, parent)
            layer = getattr(owner, name)
            if isinstance(layer, FusedLinear):
                setattr(owner, name, layer.to_linear().requires_grad_(False))


def prune_blocks(
    model: Any,
    calib_ids: torch.Tensor,
    n_remove: int,
    method: BlockMethod,
    score_samples: int,
    schedule: FusionSchedule,
    seed: int = 0,
    progress: ProgressFn | None = None,
) -> BlockPruneReport:
    """Remove ``n_remove`` blocks in place.

    Args:
        model: a supported decoder (``tools.compress.decoder.check_decoder``).
        calib_ids: ``(B, T)`` calibration windows; the first ``score_samples`` score the blocks, all of them
            feed FuseGPT's distillation.
        n_remove: blocks to remove (at least one must stay).
        method: ``"fusegpt"`` (MI + fusion), ``"mi"`` (iterative MI, plain removal) or ``"shortgpt"``
            (one-shot BI, plain removal).
    """
    n_blocks = len(layers_of(model))
    if not 1 <= n_remove < n_blocks:
        raise InputError("blocks", n_remove, f"between 1 and {n_blocks - 1} for a {n_blocks}-block model")
    model.requires_grad_(False)
    score_ids = calib_ids[:score_samples]
    out = BlockPruneReport()
    if method == "shortgpt":
        out.first_scores = block_influence(model, score_ids)
        out.removed = sorted(range(n_blocks), key=out.first_scores.__getitem__)[:n_remove]
        remove_blocks(model, out.removed)
        return out
    original = list(range(n_blocks))
    generator = torch.Generator().manual_seed(seed)
    for step in range(n_remove):
        frac = step / n_remove

        def sub(msg: str, f: float, _frac: float = frac, _step: int = step) -> None:
            report(progress, f"block {_step + 1}/{n_remove}: {msg}", _frac + f / n_remove)

        scores = macro_influence(model, score_ids, lambda m, f: sub(m, 0.5 * f))
        if step == 0:
            out.first_scores = scores
        idx = min(range(len(scores)), key=scores.__getitem__)
        if method == "fusegpt":
            out.distill_mse.append(
                _fuse_step(model, calib_ids, idx, schedule, generator, lambda m, f: sub(m, 0.5 + 0.5 * f))
            )
        out.removed.append(original.pop(idx))
        remove_blocks(model, [idx])
    return out


def _fuse_step(
    model: Any,
    calib_ids: torch.Tensor,
    idx: int,
    schedule: FusionSchedule,
    generator: torch.Generator,
    progress: ProgressFn | None,
) -> tuple[float, float]:
    """Fuse block ``idx`` into its window, distil the window, fold it; the block itself is removed by the caller."""
    layers = layers_of(model)
    window = fusion_window(len(layers), idx, schedule.group_size)
    with torch.no_grad():
        hidden = embed(model, calib_ids)
        ctx = layer_context(model, hidden)
        inputs = run_layers(layers[: window[0]], hidden, ctx)
        targets = run_layers([layers[j] for j in window], inputs, ctx)
    fuse_into_window(layers, idx, window, schedule.rank, generator)
    kept = [layers[j] for j in window if j != idx]
    mse = distill_window(kept, inputs, targets, ctx, schedule, progress)
    fold_window(kept)
    return mse
