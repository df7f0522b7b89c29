"""Tool: score a mask file (.npy, .png, .gds/.oas) against a clip's target with the contest metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from tools.common import InputError, ProgressFn, Timer, ToolResult, package_versions, report, run_dir
from tools.litho.clips import CANVAS, Clip, load_clip
from tools.litho.layout import read_gds
from tools.litho.metrics import MaskMetrics, corner_prints, evaluate_mask
from tools.litho.raster import rasterize

__all__ = ("LithoEvaluateArgs", "LithoEvaluateResult", "run_litho_evaluate", "load_mask")

MASK_SUFFIXES = (".npy", ".png", ".gds", ".oas")


class LithoEvaluateArgs(BaseModel):
    """Arguments of ``run_litho_evaluate``."""

    clip: str = Field(description="Clip whose target the mask is scored against (name or .glp/.gds/.oas path).")
    mask: str = Field(
        description="Mask file: .npy (2048 x 2048, >= 0.5 = clear), .png (grey >= 128 = clear) or .gds/.oas "
        "(in the clip's own coordinates, as write_gds(..., offset=clip.offset) writes them)."
    )
    raster: Literal["exact", "inclusive"] = Field(default="exact", description="Target rasterisation convention.")
    layer: int | None = Field(default=None, description="GDS/OASIS layer of the target (file clips only).")
    datatype: int = Field(default=0, description="GDS/OASIS datatype of the target (file clips only).")
    mask_layer: int = Field(default=0, description="GDS/OASIS layer of the mask shapes.")
    mask_datatype: int = Field(default=0, description="GDS/OASIS datatype of the mask shapes.")
    shot_grid: int | None = Field(
        default=None,
        description="Count shots on a grid x grid down-sampling (OpenILT 512, LithoBench 256); None = full resolution.",
    )
    min_width_nm: int = Field(default=20, ge=0, description="MRC minimum width. In nm.")
    min_space_nm: int = Field(default=20, ge=0, description="MRC minimum space. In nm.")
    min_area_nm2: int = Field(default=400, ge=0, description="MRC minimum shape area. In nm^2.")
    out_dir: str | None = Field(default=None, description="Folder for print.png and pvband.png.")
    device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="Torch device; auto = CUDA if present.")


class LithoEvaluateResult(ToolResult):
    """Contest metrics of the mask; ``seconds`` covers simulation and metrics (engine already built)."""

    clip: str
    mask: str
    raster: str
    device: str
    metrics: MaskMetrics


def load_mask(path: str | Path, clip: Clip, layer: int = 0, datatype: int = 0, size: int = CANVAS) -> np.ndarray:
    """A mask file as a float32 ``(size, size)`` array on the clip's canvas.

    Raises:
        InputError: unknown suffix, missing file, or a raster of the wrong shape.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MASK_SUFFIXES:
        raise InputError("mask", str(path), f"a file ending in one of {', '.join(MASK_SUFFIXES)}")
    if not path.is_file():
        raise InputError("mask", str(path), "an existing mask file")
    if suffix == ".npy":
        mask = np.load(path).astype(np.float32)
    elif suffix == ".png":
        from tools.litho.images import load_mask_png

        mask = load_mask_png(path)
    else:
        shapes = read_gds(path, layer, datatype).translated(*clip.offset)
        mask = rasterize(shapes, size, "exact")
    if mask.shape != (size, size):
        raise InputError("mask", f"{path.name} of shape {mask.shape}", f"shape ({size}, {size})")
    return mask


def run_litho_evaluate(args: LithoEvaluateArgs, progress: ProgressFn | None = None) -> LithoEvaluateResult:
    """Print a mask at the three corners and report L2, PV band, EPE (both conventions), shots and MRC."""
    from tools.litho.images import save_print_png, save_pvband_png
    from tools.litho.simulator import LithoSim, resolve_device

    report(progress, f"loading {args.clip} and {args.mask}", 0.0)
    clip = load_clip(args.clip, layer=args.layer, datatype=args.datatype)
    target = rasterize(clip.layout, convention=args.raster)
    mask = load_mask(args.mask, clip, args.mask_layer, args.mask_datatype)
    device = resolve_device(args.device)
    sim = LithoSim(device=device)
    report(progress, "simulating and scoring", 0.2)
    with Timer() as timer:
        prints = corner_prints(mask, sim)
        metrics = evaluate_mask(
            mask,
            target,
            sim,
            shot_grid=args.shot_grid,
            prints=prints,
            min_width_nm=args.min_width_nm,
            min_space_nm=args.min_space_nm,
            min_area_nm2=args.min_area_nm2,
        )
    report(progress, "writing pictures", 0.9)
    folder = run_dir(args.out_dir, "litho-evaluate")
    artifacts = {
        "print": str(save_print_png(target, prints["nominal"], folder / "print.png")),
        "pvband": str(save_pvband_png(target, prints["max"], prints["min"], folder / "pvband.png")),
    }
    report(progress, "done", 1.0)
    return LithoEvaluateResult(
        clip=clip.name,
        mask=str(args.mask),
        raster=args.raster,
        device=str(device),
        metrics=metrics,
        seconds=round(timer.seconds, 4),
        versions=package_versions("torch", "numpy"),
        artifacts=artifacts,
    )
