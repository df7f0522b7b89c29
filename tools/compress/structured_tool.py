"""Tool ``prune_structured``: remove key-value head groups and MLP channels by MoreauPruner or Taylor importance.

``precision`` and ``perturb`` say which weights the importance is computed from: the fp32 weights, the same
weights rounded to bf16/fp16, or with small relative noise added (MoreauPruner's robustness settings). The
pruned model always keeps the fp32 weights, so runs at different precisions differ only in their masks;
``artifacts["plan"]`` holds the mask for comparing them (``tools.compress.structured.mask_overlap``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from tools.common import ProgressFn, Timer, ToolResult, package_versions, report, run_dir
from tools.compress.args import PROMPT, EvalArgs, ModelQuality, Precision

if TYPE_CHECKING:
    import torch

    from tools.compress.structured import PrunePlan

__all__ = (
    "StructuredArgs",
    "PruneStructuredArgs",
    "PruneStructuredResult",
    "run_prune_structured",
    "importance_plan",
    "calibration_batches",
    "read_plan",
)


class StructuredArgs(EvalArgs):
    """Target sparsity, calibration budget and MoreauPruner's constants (shared with the robustness study)."""

    sparsity: float = Field(0.2, gt=0.0, lt=1.0, description="Fraction of the decoder blocks' parameters removed.")
    calib_samples: int = Field(
        4, ge=1, le=1024, description="Calibration windows per gradient (MoreauPruner: a fresh batch at every step)."
    )
    batch_size: int = Field(4, ge=1, le=256, description="Windows per forward/backward pass.")
    steps: int = Field(10, ge=1, le=100, description="MoreauPruner: noisy proximal steps (authors: 10).")
    std: float = Field(0.05, ge=0.0, le=1.0, description="MoreauPruner: relative weight-noise std (authors: 0.05).")
    lr: float = Field(2e-4, gt=0.0, le=1.0, description="MoreauPruner: step size of δ (authors: 2e-4).")
    soft: float = Field(5e-6, ge=0.0, le=1.0, description="MoreauPruner: group soft-threshold (authors: 5e-6).")
    average_last: int = Field(5, ge=1, le=100, description="MoreauPruner: iterates of δ averaged (authors: 5).")


class PruneStructuredArgs(StructuredArgs):
    """Importance method, the weights the importance sees, and what to do with the pruned model."""

    method: Literal["moreau", "taylor"] = Field(
        "moreau", description="'moreau' (MoreauPruner) or 'taylor' (LLM-Pruner)."
    )
    precision: Precision = Field("fp32", description="Weights the importance is computed from: fp32, bf16 or fp16.")
    perturb: float = Field(
        0.0,
        ge=0.0,
        le=0.1,
        description="Relative Gaussian noise std added to the weights the importance sees (0: none).",
    )
    compare_base: bool = Field(True, description="Also measure the model before pruning.")
    save: bool = Field(True, description="Save the pruned model (with structure.json) and check that it reloads.")


class PruneStructuredResult(ToolResult):
    """Sizes and quality before and after, and the mask."""

    method: str
    precision: str
    sparsity_target: float
    sparsity: float = Field(description="Achieved fraction of decoder-block parameters removed.")
    pruned_blocks: list[int] = Field(description="Blocks that were allowed to lose units.")
    kv_groups_removed: dict[int, list[int]] = Field(description="Removed key-value groups per block.")
    channels_removed: dict[int, int] = Field(description="Number of removed MLP channels per block.")
    before: ModelQuality | None = None
    after: ModelQuality
    saved_to: str | None = None
    sample_text: str | None = Field(None, description=f"Greedy continuation of {PROMPT!r} by the reloaded model.")


def run_prune_structured(args: PruneStructuredArgs, progress: ProgressFn | None = None) -> PruneStructuredResult:
    """Estimate importance, choose the units, remove them, measure, save and reload.

    Example:
        >>> r = run_prune_structured(PruneStructuredArgs(method="taylor", sparsity=0.2))  # doctest: +SKIP
        >>> round(r.sparsity, 3)  # doctest: +SKIP
        0.2
    """
    from tools.compress.corpus import load_split
    from tools.compress.decoder import block_params, layers_of
    from tools.compress.loading import load_model
    from tools.compress.metrics import generate_text
    from tools.compress.quality import measure
    from tools.compress.structured import apply_plan, load_structured, prunable_blocks, save_structured

    with Timer() as timer:
        report(progress, "loading the model", 0.0)
        model, tok = load_model(args.model, args.cache_dir, args.device)
        split, calib_stream, heldout = load_split(tok, args.corpus)
        before = measure(model, tok, args, split, heldout) if args.compare_base else None
        calib = calibration_batches(calib_stream, args, args.method, args.seed).to(args.device)
        report(progress, f"{args.method} importance on {args.precision} weights", 0.1)
        plan = importance_plan(
            model, calib, args, args.method, args.precision, args.perturb, args.seed,
            lambda m, f: report(progress, m, 0.1 + 0.6 * f),
        )
        total = block_params(model)
        apply_plan(model, plan)
        report(progress, "measuring the pruned model", 0.75)
        after = measure(model, tok, args, split, heldout)
        folder = run_dir(args.out_dir, "prune_structured")
        (folder / "plan.json").write_text(json.dumps(plan.to_json()))
        artifacts = {"plan": str(folder / "plan.json")}
        saved = sample = None
        if args.save:
            meta = {"method": args.method, "precision": args.precision, "perturb": args.perturb}
            meta["sparsity"] = args.sparsity
            saved = str(save_structured(model, tok, folder / "model", meta))
            reloaded, reloaded_tok = load_structured(saved, args.device)
            sample = generate_text(reloaded, reloaded_tok, PROMPT)
            artifacts["model"] = saved
    return PruneStructuredResult(
        method=args.method,
        precision=args.precision,
        sparsity_target=args.sparsity,
        sparsity=1.0 - block_params(model) / total,
        pruned_blocks=list(prunable_blocks(len(layers_of(model)))),
        kv_groups_removed={b: g for b, g in plan.kv_groups.items() if g},
        channels_removed={b: len(c) for b, c in plan.channels.items()},
        before=before,
        after=after,
        saved_to=saved,
        sample_text=sample,
        seed=args.seed,
        seconds=timer.seconds,
        versions=package_versions("torch", "transformers"),
        artifacts=artifacts,
    )


def calibration_batches(stream: torch.Tensor, args: StructuredArgs, method: str, seed: int) -> torch.Tensor:
    """``(n, calib_samples, seq_len)`` windows at random starts (``seed``): one batch per Moreau step (fresh data
    at every step), one batch for Taylor; batch 0 is the same for both, so Taylor's gradient is MoreauPruner's
    first step's."""
    from tools.compress.corpus import windows

    n = args.steps if method == "moreau" else 1
    return windows(stream, args.seq_len, n * args.calib_samples, seed=seed).view(n, args.calib_samples, args.seq_len)


def importance_plan(
    model: Any,
    calib: torch.Tensor,
    args: StructuredArgs,
    method: str,
    precision: Precision,
    perturb: float,
    seed: int,
    progress: ProgressFn | None = None,
) -> PrunePlan:
    """The mask ``method`` chooses from the weights rounded to ``precision`` (and perturbed by ``perturb``);
    the model's own weights are restored before returning."""
    from tools.compress.moreau import (
        MoreauSchedule,
        cast_weights,
        moreau_gradients,
        perturb_weights,
        taylor_gradients,
    )
    from tools.compress.structured import plan_pruning, unit_scores

    original = {n: p.detach().clone() for n, p in model.named_parameters()}
    cast_weights(model, precision)
    if perturb:
        perturb_weights(model, perturb, seed)
    if method == "moreau":
        schedule = MoreauSchedule(args.steps, args.std, args.lr, args.soft, args.average_last)
        grads = moreau_gradients(model, calib, schedule, seed, args.batch_size, progress)
    else:
        grads = taylor_gradients(model, calib[0], args.batch_size)
    plan = plan_pruning(model, unit_scores(model, grads), args.sparsity)
    model.load_state_dict(original, strict=False)  # back to fp32: the mask is the only difference
    return plan


def read_plan(path: str) -> PrunePlan:
    """The mask a run wrote to ``artifacts["plan"]``."""
    from tools.compress.structured import PrunePlan

    return PrunePlan.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
