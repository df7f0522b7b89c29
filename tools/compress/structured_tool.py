"""Tool ``prune_structured``: remove key-value head groups and MLP channels by MoreauPruner or Taylor importance.

``precision`` says which weights the importance is computed from: the fp32 weights, or the same weights rounded
to bf16/fp16 (MoreauPruner's robustness setting). The pruned model always keeps the fp32 weights, so runs at
different precisions differ only in their masks; ``artifacts["plan"]`` holds the mask for comparing them
(``tools.compress.structured.mask_overlap``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from tools.common import ProgressFn, Timer, ToolResult, package_versions, report, run_dir
from tools.compress.args import PROMPT, EvalArgs, ModelQuality, Precision

if TYPE_CHECKING:
    from tools.compress.structured import PrunePlan

__all__ = ("PruneStructuredArgs", "PruneStructuredResult", "run_prune_structured", "read_plan")


class PruneStructuredArgs(EvalArgs):
    """Importance method, target sparsity, the precision the importance sees, and MoreauPruner's constants."""

    method: Literal["moreau", "taylor"] = Field(
        "moreau", description="'moreau' (MoreauPruner) or 'taylor' (LLM-Pruner)."
    )
    sparsity: float = Field(0.2, gt=0.0, lt=1.0, description="Fraction of the decoder blocks' parameters removed.")
    precision: Precision = Field("fp32", description="Weights the importance is computed from: fp32, bf16 or fp16.")
    calib_samples: int = Field(4, ge=1, le=1024, description="Calibration windows for the loss gradient.")
    batch_size: int = Field(4, ge=1, le=256, description="Windows per forward/backward pass.")
    steps: int = Field(10, ge=1, le=100, description="MoreauPruner: noisy proximal steps (authors: 10).")
    std: float = Field(0.05, ge=0.0, le=1.0, description="MoreauPruner: relative weight-noise std (authors: 0.05).")
    lr: float = Field(2e-4, gt=0.0, le=1.0, description="MoreauPruner: step size of δ (authors: 2e-4).")
    soft: float = Field(5e-6, ge=0.0, le=1.0, description="MoreauPruner: group soft-threshold (authors: 5e-6).")
    average_last: int = Field(5, ge=1, le=100, description="MoreauPruner: iterates of δ averaged (authors: 5).")
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
    from tools.compress.corpus import load_split, windows
    from tools.compress.decoder import block_params, layers_of
    from tools.compress.loading import load_model
    from tools.compress.metrics import generate_text
    from tools.compress.moreau import MoreauSchedule, cast_weights, moreau_gradients, taylor_gradients
    from tools.compress.quality import measure
    from tools.compress.structured import (
        apply_plan,
        load_structured,
        plan_pruning,
        prunable_blocks,
        save_structured,
        unit_scores,
    )

    with Timer() as timer:
        report(progress, "loading the model", 0.0)
        model, tok = load_model(args.model, args.cache_dir, args.device)
        split, calib_stream, heldout = load_split(tok, args.corpus)
        before = measure(model, tok, args, split, heldout) if args.compare_base else None
        calib = windows(calib_stream, args.seq_len, args.calib_samples, seed=args.seed).to(args.device)
        original = {n: p.detach().clone() for n, p in model.named_parameters()}
        cast_weights(model, args.precision)
        report(progress, f"{args.method} importance on {args.precision} weights", 0.1)
        if args.method == "moreau":
            schedule = MoreauSchedule(args.steps, args.std, args.lr, args.soft, args.average_last)
            grads = moreau_gradients(
                model, calib, schedule, args.seed, args.batch_size, lambda m, f: report(progress, m, 0.1 + 0.6 * f)
            )
        else:
            grads = taylor_gradients(model, calib, args.batch_size)
        plan = plan_pruning(model, unit_scores(model, grads), args.sparsity)
        model.load_state_dict(original, strict=False)  # back to fp32: the mask is the only difference
        total = block_params(model)
        apply_plan(model, plan)
        report(progress, "measuring the pruned model", 0.75)
        after = measure(model, tok, args, split, heldout)
        folder = run_dir(args.out_dir, "prune_structured")
        (folder / "plan.json").write_text(json.dumps(plan.to_json()))
        artifacts = {"plan": str(folder / "plan.json")}
        saved = sample = None
        if args.save:
            meta = {"method": args.method, "precision": args.precision, "sparsity": args.sparsity}
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


def read_plan(path: str) -> PrunePlan:
    """The mask a run wrote to ``artifacts["plan"]``."""
    from tools.compress.structured import PrunePlan

    return PrunePlan.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
