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
   without the block, fed the pruned model's hidden states, reproduces the ORIGINAL model's hidden state at the
   same point of the network (a copy of the unpruned model is the teacher); the window thus also corrects the
   error left by earlier removals instead of inheriting it. Only the window runs forward and backward (its
   input is computed once per fusion with the frozen blocks before it), so a step costs 7 blocks, not 30;
5. fold ``W'`` into a dense weight: no inference overhead, a standard checkpoint.

After the last removal, ``heal`` (when ``heal_samples`` > 0) trains the whole pruned model once more, end to end:
a LoRA term on every projection of every block (and the norm weights), so that its next-token distributions match
the original's (KL, the authors' loss), then folds it too. Local distillation cannot see what the later blocks
and the LM head make of a window's residual error; this pass can. On the 1.90x model (8 of 30 blocks, 16,384
local tokens per fusion), 32 healing steps of 4 x 128 tokens (lr 5e-4) took perplexity on a validation tail of the
calibration split from 1.91x to 1.58x dense; MSE on the normed last hidden state instead of KL: 1.79x.

Training constants follow the authors' code (Adam, betas (0.9, 0.95), eps 1e-8, cosine annealing over all
steps, a separate learning rate for the coefficients and for the other trainable parameters, rank 128 for both
low-rank terms). The default loss is the mean squared error of the window's output against the teacher's hidden
state (``loss="mse"``, the error the authors print before and after each update). ``loss="kl"`` is a
Kullback-Leibler divergence: both are read out through the model's final norm and LM head and the fused window's
next-token distribution is pulled towards the teacher's, ``KL(p_orig || p_fused)`` averaged over tokens (the
authors' code applies its KL to a softmax of the hidden states themselves). Measured on SmolLM2-135M, 8 of 30
blocks (ShortGPT's), held-out Wikipedia: KL on 2,048 tokens per fusion 3.24x dense perplexity, MSE on 6,144 tokens
(about the same CPU time: the read-out through the 49k-word head makes a KL step 2.7x dearer) 2.22x; the read-out
of a middle block's state through the final head is a poor proxy of what the later blocks make of it. Every
fusion distils on its own ``samples`` windows drawn afresh from the calibration stream, so 8 fusions see 8 times
as much text as one; samples, sequence length and epochs are scaled down for a CPU and the learning rates scaled
up to match (see ``FusionSchedule``; 3x / 10x larger rates made it worse: 5.03x); the algorithm is unchanged.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tools.common import InputError, ProgressFn, report
from tools.compress.args import BlockMethod, DistillLoss
from tools.compress.block_scores import block_influence, macro_influence, sleb_scores
from tools.compress.corpus import windows
from tools.compress.decoder import (
    ATTN_PROJ,
    MLP_PROJ,
    embed,
    layer_context,
    layers_of,
    lm_logits,
    remove_blocks,
    run_layers,
)

__all__ = (
    "FusionSchedule",
    "FusedLinear",
    "BlockPruneReport",
    "fusion_window",
    "fuse_into_window",
    "distill_window",
    "distill_loss",
    "fold_window",
    "heal",
    "prune_blocks",
)

_BETAS = (0.9, 0.95)  # FuseGPT code, Fuser.update
_EPS = 1e-8


@dataclass(frozen=True)
class FusionSchedule:
    """Hyper-parameters of FuseGPT's fusion and local distillation."""

    group_size: int = 7
    """Neighbours that receive the removed block (paper: 7)."""
    rank: int = 128
    """Rank of ``B A`` and ``C_L C_R`` (authors: 128)."""
    samples: int = 64
    """Windows drawn afresh from the calibration stream for each fusion (authors: 1,024 of 2,048 tokens)."""
    epochs: int = 1
    """Passes over a fusion's windows (authors: 20 on a GPU)."""
    batch_size: int = 4
    lr: float = 1e-2
    """Learning rate of the fusion coefficients ``C_L, C_R, c_b``. The authors use 1e-3 over 20 x 1,024 samples;
    the few hundred steps a CPU affords need a larger step."""
    base_lr: float = 1e-4
    """Learning rate of LoRA ``A, B`` and the norm weights (authors: 9.65e-6; scaled likewise)."""
    loss: DistillLoss = "mse"
    """``"mse"``: squared error of the window output; ``"kl"``: KL divergence of the LM-head read-outs."""
    heal_samples: int = 0
    """Windows of the end-to-end healing pass after the last fusion (0: none); see ``heal``."""
    heal_epochs: int = 1
    """Passes over the healing windows (the teacher's outputs are computed once)."""
    heal_lr: float = 5e-4
    """Learning rate of the healing LoRA and norm weights."""
    heal_loss: DistillLoss = "kl"
    """Loss of the healing pass on the model's last hidden state (``"kl"``: the authors' loss, on the logits)."""

class FusedLinear(nn.Module):
    """``y = x W'^T + b'`` with ``W' = W + B A + (C_L C_R) ⊙ W_p`` and ``b' = b + c_b ⊙ b_p``.

    ``W`` and ``W_p`` are frozen buffers ``(out, in)``; ``A, C_R`` ``(r, in)`` start uniform in
    ``±1/sqrt(in)`` (PyTorch's default Linear init, as in LoRA) and ``B, C_L`` ``(out, r)`` at zero, so the
    layer starts as ``W`` exactly. Without ``pruned`` it is a plain LoRA layer ``W' = W + B A`` (the healing pass).
    """

    def __init__(self, target: nn.Linear, pruned: nn.Linear | None, rank: int, generator: torch.Generator):
        super().__init__()
        if pruned is not None and target.weight.shape != pruned.weight.shape:
            raise InputError(
                "model",
                f"linear shapes {tuple(target.weight.shape)} vs {tuple(pruned.weight.shape)}",
                "blocks of identical shapes (fuse before any structured pruning)",
            )
        out_f, in_f = target.weight.shape
        w = target.weight.detach()
        bound = 1.0 / math.sqrt(in_f)
        self.register_buffer("weight_base", w.clone())
        self.lora_a = nn.Parameter(torch.empty(rank, in_f, dtype=w.dtype).uniform_(-bound, bound, generator=generator))
        self.lora_b = nn.Parameter(torch.zeros(out_f, rank, dtype=w.dtype))
        if target.bias is not None:
            self.register_buffer("bias_base", target.bias.detach().clone())
        self.fuses = pruned is not None
        if pruned is not None:
            self._add_fusion(target, pruned, rank, generator)
        self.to(w.device)

    def _add_fusion(self, target: nn.Linear, pruned: nn.Linear, rank: int, generator: torch.Generator) -> None:
        out_f, in_f = target.weight.shape
        w = target.weight
        bound = 1.0 / math.sqrt(in_f)
        self.register_buffer("weight_pruned", pruned.weight.detach().clone())
        self.coef_l = nn.Parameter(torch.zeros(out_f, rank, dtype=w.dtype))
        self.coef_r = nn.Parameter(torch.empty(rank, in_f, dtype=w.dtype).uniform_(-bound, bound, generator=generator))
        if target.bias is not None:
            pruned_bias = pruned.bias.detach().clone() if pruned.bias is not None else torch.zeros_like(target.bias)
            self.register_buffer("bias_pruned", pruned_bias)
            self.coef_b = nn.Parameter(torch.zeros(out_f, dtype=w.dtype))

    def merged(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The dense ``(W', b')`` this layer computes with."""
        weight = self.weight_base + self.lora_b @ self.lora_a
        if self.fuses:
            weight = weight + (self.coef_l @ self.coef_r) * self.weight_pruned
        bias = getattr(self, "bias_base", None)
        if bias is not None and self.fuses:
            bias = bias + self.coef_b * self.bias_pruned
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
    distill_loss: list[tuple[float, float]] = field(default_factory=list)
    """Per fusion: the distillation loss (the schedule's) on the first windows, before and after distillation."""
    distill_tokens: int = 0
    """Tokens each fusion distilled on (windows x sequence length x epochs)."""
    heal_loss: tuple[float, float] | None = None
    """The healing pass's loss on its first windows, before and after (None: no healing)."""
    heal_tokens: int = 0
    """Tokens the healing pass trained on (windows x sequence length x epochs)."""


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


Head = Callable[[torch.Tensor], torch.Tensor]
"""The model's final norm and LM head, ``(B, T, D) -> (B, T, V)``: the KL loss's read-out."""


def distill_loss(out: torch.Tensor, target: torch.Tensor, loss: DistillLoss, head: Head | None) -> torch.Tensor:
    """The distillation loss of a window output ``out`` against the original ``target`` ``(B, T, D)``.

    ``"kl"``: ``mean over tokens of KL(softmax(head(target)) || softmax(head(out)))`` (needs ``head``);
    ``"mse"``: ``mean((out - target)^2)``.
    """
    if loss == "mse":
        return F.mse_loss(out, target)
    if head is None:
        raise InputError("loss", loss, "'mse', or 'kl' with the model's LM head")
    with torch.no_grad():
        teacher = F.log_softmax(head(target).float().flatten(0, 1), dim=-1)
    student = F.log_softmax(head(out).float().flatten(0, 1), dim=-1)
    return F.kl_div(student, teacher, reduction="batchmean", log_target=True)


def distill_window(
    blocks: list[nn.Module],
    inputs: torch.Tensor,
    targets: torch.Tensor,
    ctx: Any,
    schedule: FusionSchedule,
    head: Head | None = None,
    progress: ProgressFn | None = None,
) -> tuple[float, float]:
    """Step 4: train the fused blocks so that ``blocks(inputs) ≈ targets`` ``(B, T, D)`` under
    ``schedule.loss``; the loss on the first ``batch_size`` windows before and after."""
    coef, base = [], []
    for block in blocks:
        for name, p in block.named_parameters():
            p.requires_grad_(True)
            (coef if "coef" in name else base).append(p)
    optim = torch.optim.Adam(
        [{"params": coef, "lr": schedule.lr}, {"params": base, "lr": schedule.base_lr}], betas=_BETAS, eps=_EPS
    )
    n_batches = math.ceil(inputs.shape[0] / schedule.batch_size)
    total = max(1, schedule.epochs * n_batches)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optim, T_max=total)
    probe = slice(0, schedule.batch_size)
    before = _window_loss(blocks, inputs[probe], targets[probe], ctx, schedule.loss, head)
    for epoch in range(schedule.epochs):
        for b in range(n_batches):
            rows = slice(b * schedule.batch_size, (b + 1) * schedule.batch_size)
            optim.zero_grad(set_to_none=True)
            distill_loss(run_layers(blocks, inputs[rows], ctx), targets[rows], schedule.loss, head).backward()
            optim.step()
            sched.step()
            step = epoch * n_batches + b + 1
            report(progress, f"distillation step {step}/{total}", step / total)
    for block in blocks:
        block.requires_grad_(False)
    return before, _window_loss(blocks, inputs[probe], targets[probe], ctx, schedule.loss, head)


@torch.no_grad()
def _window_loss(
    blocks: list[nn.Module], inputs: torch.Tensor, targets: torch.Tensor, ctx: Any, loss: DistillLoss, head: Head | None
) -> float:
    return distill_loss(run_layers(blocks, inputs, ctx), targets, loss, head).item()


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
    score_ids: torch.Tensor,
    n_remove: int,
    method: BlockMethod,
    schedule: FusionSchedule,
    distill_stream: torch.Tensor | None = None,
    seed: int = 0,
    progress: ProgressFn | None = None,
) -> BlockPruneReport:
    """Remove ``n_remove`` blocks in place.

    Args:
        model: a supported decoder (``tools.compress.decoder.check_decoder``).
        score_ids: ``(B, T)`` calibration windows the block scores are computed on.
        n_remove: blocks to remove (at least one must stay).
        method: ``"fusegpt"`` (MI + fusion), ``"mi"`` (iterative MI, plain removal), ``"sleb"`` (iterative,
            the block whose removal least raises the calibration loss) or ``"shortgpt"`` (one-shot BI).
        distill_stream: ``(N,)`` calibration tokens; fusion ``k`` distils on ``schedule.samples`` windows of
            ``T`` tokens drawn from it with seed ``(seed, k)``. Needed by ``"fusegpt"`` only.
    """
    n_blocks = len(layers_of(model))
    if not 1 <= n_remove < n_blocks:
        raise InputError("blocks", n_remove, f"between 1 and {n_blocks - 1} for a {n_blocks}-block model")
    if method == "fusegpt" and distill_stream is None:
        raise InputError("distill_stream", None, "a calibration token stream for FuseGPT's distillation")
    model.requires_grad_(False)
    out = BlockPruneReport()
    if method == "shortgpt":
        out.first_scores = block_influence(model, score_ids)
        out.removed = sorted(range(n_blocks), key=out.first_scores.__getitem__)[:n_remove]
        remove_blocks(model, out.removed)
        return out
    original = list(range(n_blocks))
    generator = torch.Generator().manual_seed(seed)
    teacher = copy.deepcopy(model) if method == "fusegpt" else None
    score = sleb_scores if method == "sleb" else macro_influence
    healing = method == "fusegpt" and schedule.heal_samples > 0
    span = _HEAL_FROM if healing else 1.0  # progress share of the removal loop
    for step in range(n_remove):
        frac = step / n_remove
        share = 0.5 if method == "fusegpt" else 1.0

        def sub(msg: str, f: float, _frac: float = frac, _step: int = step) -> None:
            report(progress, f"block {_step + 1}/{n_remove}: {msg}", span * (_frac + f / n_remove))

        scores = score(model, score_ids, lambda m, f, _s=share: sub(m, _s * f))
        if step == 0:
            out.first_scores = scores
        idx = min(range(len(scores)), key=scores.__getitem__)
        if method == "fusegpt":
            assert distill_stream is not None
            ids = windows(distill_stream, score_ids.shape[1], schedule.samples, seed=seed * 1000 + step + 1)
            out.distill_tokens = ids.numel() * schedule.epochs
            fused = _fuse_step(
                model,
                ids.to(score_ids.device),
                teacher,
                original,
                idx,
                schedule,
                generator,
                lambda m, f: sub(m, 0.5 + 0.5 * f),
            )
            out.distill_loss.append(fused)
        out.removed.append(original.pop(idx))
        remove_blocks(model, [idx])
    if healing:
        assert distill_stream is not None and teacher is not None
        ids = windows(distill_stream, score_ids.shape[1], schedule.heal_samples, seed=seed * 1000 + n_remove + 1)
        out.heal_tokens = ids.numel() * schedule.heal_epochs
        out.heal_loss = heal(
            model,
            teacher,
            ids.to(score_ids.device),
            schedule,
            generator,
            lambda m, f: report(progress, f"healing: {m}", _HEAL_FROM + (1 - _HEAL_FROM) * f),
        )
    return out


_HEAL_FROM = 0.8
"""Share of ``prune_blocks``' progress spent before the healing pass."""


def heal(
    model: Any,
    teacher: Any,
    ids: torch.Tensor,
    schedule: FusionSchedule,
    generator: torch.Generator,
    progress: ProgressFn | None = None,
) -> tuple[float, float]:
    """End-to-end healing after the last fusion: the pruned model as a whole is pulled towards the original.

    Local distillation fits each window to the original's state where the window ends, but no window sees
    what the later blocks and the LM head make of its residual error. Here every projection of every block
    gets a LoRA term of rank ``schedule.rank`` (``FusedLinear`` without a fused twin) and, with the norm
    weights, is trained on ``ids`` ``(B, T)`` so that the last hidden state matches the original's under
    ``schedule.heal_loss`` (``"kl"``: the authors' KL on the next-token distributions); then it is folded.
    The teacher's last hidden states are computed once. Returns the loss on the first windows before and after.
    """
    layers = list(layers_of(model))
    with torch.no_grad():
        inputs = embed(model, ids)
        ctx = layer_context(model, inputs)
        targets = run_layers(layers_of(teacher), embed(teacher, ids), ctx)
    for block in layers:
        for parent, name in _PROJ_PATHS:
            owner = getattr(block, parent)
            setattr(owner, name, FusedLinear(getattr(owner, name), None, schedule.rank, generator))
    healing = replace(
        schedule, epochs=schedule.heal_epochs, base_lr=schedule.heal_lr, loss=schedule.heal_loss
    )
    loss = distill_window(layers, inputs, targets, ctx, healing, lambda h: lm_logits(model, h), progress)
    fold_window(layers)
    return loss


def _fuse_step(
    model: Any,
    calib_ids: torch.Tensor,
    teacher: Any,
    original: list[int],
    idx: int,
    schedule: FusionSchedule,
    generator: torch.Generator,
    progress: ProgressFn | None,
) -> tuple[float, float]:
    """Fuse block ``idx`` into its window, distil the window, fold it; the block itself is removed by the caller.

    The window's input is the current (already pruned) model's hidden state entering it; its target is the
    original model's hidden state at the same point of the network, i.e. entering the original block that
    follows the window (``original[j]`` is current block ``j``'s index in ``teacher``). The window thus also
    learns to undo the error of the blocks removed before it, instead of copying it.
    """
    layers = layers_of(model)
    window = fusion_window(len(layers), idx, schedule.group_size)
    exit_at = original[window[-1] + 1] if window[-1] + 1 < len(original) else len(layers_of(teacher))
    with torch.no_grad():
        hidden = embed(model, calib_ids)
        ctx = layer_context(model, hidden)
        inputs = run_layers(layers[: window[0]], hidden, ctx)
        targets = run_layers(layers_of(teacher)[:exit_at], embed(teacher, calib_ids), ctx)
    fuse_into_window(layers, idx, window, schedule.rank, generator)
    kept = [layers[j] for j in window if j != idx]
    loss = distill_window(kept, inputs, targets, ctx, schedule, lambda h: lm_logits(model, h), progress)
    fold_window(kept)
    return loss
