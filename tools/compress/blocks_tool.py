"""Tools ``score_blocks`` and ``prune_blocks``: block importance, and block removal with or without FuseGPT fusion.

``prune_blocks`` removes ``ceil(fraction * N)`` blocks (the FuseGPT code's count) by

- ``fusegpt``: iterative Macro Influence, fusion into the 7 neighbours and local distillation, then (with
  ``heal_samples``) an end-to-end healing pass of the whole pruned model towards the original;
- ``mi``: iterative Macro Influence, plain removal (FuseGPT without fusion, the paper's ablation);
- ``sleb``: iteratively the block whose removal least raises the calibration loss, plain removal (SLEB);
- ``shortgpt``: one-shot Block Influence, plain removal (ShortGPT),

then saves a standard Hugging Face checkpoint, reloads it with ``from_pretrained`` and generates a few tokens.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import Field

from tools.common import InputError, ProgressFn, Timer, ToolResult, package_versions, report, run_dir
from tools.compress.args import PROMPT, BlockMethod, DistillLoss, EvalArgs, LLMArgs, ModelQuality

__all__ = (
    "ScoreBlocksArgs",
    "ScoreBlocksResult",
    "run_score_blocks",
    "PruneBlocksArgs",
    "PruneBlocksResult",
    "run_prune_blocks",
)


class ScoreBlocksArgs(LLMArgs):
    """Which importance score to compute for every block."""

    method: Literal["mi", "sleb", "shortgpt"] = Field(
        "mi", description="'mi' (FuseGPT Macro Influence), 'sleb' (loss without the block) or 'shortgpt' (BI)."
    )
    calib_samples: int = Field(4, ge=1, le=256, description="Calibration windows the scores average over (authors: 4).")


class ScoreBlocksResult(ToolResult):
    """Scores per block (low = safe to remove) and the blocks in removal order."""

    method: str
    scores: list[float] = Field(description="Score of block i at index i.")
    ranking: list[int] = Field(description="Block indices from most to least removable.")


def run_score_blocks(args: ScoreBlocksArgs, progress: ProgressFn | None = None) -> ScoreBlocksResult:
    """Score every block once on ``calib_samples`` calibration windows.

    Example:
        >>> r = run_score_blocks(ScoreBlocksArgs(method="shortgpt"))  # doctest: +SKIP
        >>> r.ranking[:3]  # doctest: +SKIP
        [25, 14, 13]
    """
    from tools.compress.block_scores import block_influence, macro_influence, sleb_scores
    from tools.compress.corpus import load_split, windows
    from tools.compress.loading import load_model

    with Timer() as timer:
        model, tok = load_model(args.model, args.cache_dir, args.device)
        _, calib_stream, _ = load_split(tok, args.corpus)
        ids = windows(calib_stream, args.seq_len, args.calib_samples, seed=args.seed).to(args.device)
        if args.method == "mi":
            scores = macro_influence(model, ids, progress)
        elif args.method == "sleb":
            scores = sleb_scores(model, ids, progress)
        else:
            scores = block_influence(model, ids)
    return ScoreBlocksResult(
        method=args.method,
        scores=scores,
        ranking=sorted(range(len(scores)), key=scores.__getitem__),
        seed=args.seed,
        seconds=timer.seconds,
        versions=package_versions("torch", "transformers"),
    )


class PruneBlocksArgs(EvalArgs):
    """How many blocks to remove, how, and FuseGPT's schedule (scaled for a CPU)."""

    method: BlockMethod = Field(
        "fusegpt", description="'fusegpt', 'mi' (plain removal by MI), 'sleb' (SLEB) or 'shortgpt'."
    )
    fraction: float = Field(0.25, gt=0.0, lt=1.0, description="Fraction of blocks to remove, in (0, 1).")
    blocks: int | None = Field(None, ge=1, description="Exact number of blocks to remove (overrides fraction).")
    score_samples: int = Field(4, ge=1, le=256, description="Calibration windows for block scores (authors: 4).")
    calib_samples: int = Field(
        64, ge=1, le=4096, description="FuseGPT: windows drawn afresh for each fusion's distillation (authors: 1024)."
    )
    group_size: int = Field(7, ge=1, le=64, description="FuseGPT: neighbours receiving a removed block (paper: 7).")
    rank: int = Field(
        128, ge=1, le=1024, description="FuseGPT: rank of the fusion coefficients and LoRA (authors: 128)."
    )
    epochs: int = Field(1, ge=0, le=100, description="FuseGPT: passes over each fusion's windows (authors: 20).")
    batch_size: int = Field(4, ge=1, le=256, description="FuseGPT: windows per distillation step.")
    lr: float = Field(1e-2, gt=0.0, le=1.0, description="FuseGPT: learning rate of the fusion coefficients.")
    base_lr: float = Field(1e-4, ge=0.0, le=1.0, description="FuseGPT: learning rate of LoRA and norm weights.")
    loss: DistillLoss = Field(
        "mse", description="FuseGPT: 'mse' (window output vs the original's hidden state) or 'kl' (LM-head read-outs)."
    )
    heal_samples: int = Field(
        64,
        ge=0,
        le=4096,
        description="FuseGPT: windows of the end-to-end healing pass after the last fusion (0: none).",
    )
    heal_epochs: int = Field(1, ge=1, le=100, description="FuseGPT: passes over the healing windows.")
    heal_lr: float = Field(5e-4, gt=0.0, le=1.0, description="FuseGPT: learning rate of the healing LoRA.")
    heal_loss: DistillLoss = Field(
        "kl", description="FuseGPT healing: 'kl' (next-token distributions, the authors' loss) or 'mse'."
    )
    compare_base: bool = Field(True, description="Also measure the model before pruning.")
    save: bool = Field(True, description="Save the pruned model and check it reloads and generates.")


class PruneBlocksResult(ToolResult):
    """The pruned model's numbers next to the original's, and where it was saved."""

    method: str
    blocks_before: int
    removed: list[int] = Field(description="Original indices of the removed blocks, in removal order.")
    first_scores: list[float] = Field(description="Block scores at the first step (MI or BI).")
    distill_loss: list[tuple[float, float]] = Field(
        default_factory=list,
        description="FuseGPT: distillation loss on the first windows before and after each fusion.",
    )
    distill_tokens: int = Field(0, description="FuseGPT: tokens each fusion distilled on (windows x length x epochs).")
    heal_loss: tuple[float, float] | None = Field(
        None, description="FuseGPT: healing loss on its first windows before and after (None: no healing)."
    )
    heal_tokens: int = Field(0, description="FuseGPT: tokens of the healing pass (windows x length x epochs).")
    before: ModelQuality | None = None
    after: ModelQuality
    saved_to: str | None = Field(None, description="Hugging Face folder of the pruned model.")
    sample_text: str | None = Field(None, description=f"Greedy continuation of {PROMPT!r} by the reloaded model.")


def run_prune_blocks(args: PruneBlocksArgs, progress: ProgressFn | None = None) -> PruneBlocksResult:
    """Remove blocks, measure, save, reload and generate.

    Example:
        >>> r = run_prune_blocks(PruneBlocksArgs(method="shortgpt", fraction=0.25))  # doctest: +SKIP
        >>> r.blocks_before, len(r.removed)  # doctest: +SKIP
        (30, 8)
    """
    from tools.compress.corpus import load_split, windows
    from tools.compress.decoder import layers_of
    from tools.compress.fusegpt import FusionSchedule, prune_blocks
    from tools.compress.loading import load_model
    from tools.compress.quality import measure

    with Timer() as timer:
        report(progress, "loading the model", 0.0)
        model, tok = load_model(args.model, args.cache_dir, args.device)
        split, calib_stream, heldout = load_split(tok, args.corpus)
        n_blocks = len(layers_of(model))
        n_remove = args.blocks if args.blocks is not None else math.ceil(args.fraction * n_blocks - 1e-9)
        if n_remove >= n_blocks:
            raise InputError("blocks", n_remove, f"fewer than the model's {n_blocks} blocks")
        before = measure(model, tok, args, split, heldout) if args.compare_base else None
        score_ids = windows(calib_stream, args.seq_len, args.score_samples, seed=args.seed).to(args.device)
        schedule = FusionSchedule(
            group_size=args.group_size,
            rank=args.rank,
            samples=args.calib_samples,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            base_lr=args.base_lr,
            loss=args.loss,
            heal_samples=args.heal_samples,
            heal_epochs=args.heal_epochs,
            heal_lr=args.heal_lr,
            heal_loss=args.heal_loss,
        )
        done = prune_blocks(
            model,
            score_ids,
            n_remove,
            args.method,
            schedule,
            calib_stream,
            args.seed,
            lambda m, f: report(progress, m, 0.1 + 0.7 * f),
        )
        report(progress, "measuring the pruned model", 0.8)
        after = measure(model, tok, args, split, heldout)
        saved = sample = None
        if args.save:
            folder = run_dir(args.out_dir, "prune_blocks") / "model"
            model.save_pretrained(folder)
            tok.save_pretrained(folder)
            saved, sample = str(folder), _reload_and_generate(folder, args.device)
    return PruneBlocksResult(
        method=args.method,
        blocks_before=n_blocks,
        removed=done.removed,
        first_scores=done.first_scores,
        distill_loss=done.distill_loss,
        distill_tokens=done.distill_tokens,
        heal_loss=done.heal_loss,
        heal_tokens=done.heal_tokens,
        before=before,
        after=after,
        saved_to=saved,
        sample_text=sample,
        seed=args.seed,
        seconds=timer.seconds,
        versions=package_versions("torch", "transformers"),
        artifacts={"model": saved} if saved else {},
    )


def _reload_and_generate(folder: Path, device: str) -> str:
    """Load the saved folder with plain ``from_pretrained`` (no ChipCrew code) and continue ``PROMPT``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tools.compress.metrics import generate_text

    model = AutoModelForCausalLM.from_pretrained(folder).to(device).eval()
    return generate_text(model, AutoTokenizer.from_pretrained(folder), PROMPT)
