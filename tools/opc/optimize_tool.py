"""Tool: optimise a mask for a clip with DiffOPC, pixel ILT, EPE-feedback OPC or CAMO (RL), and score it.

All four methods run on the one lithography engine (``tools.litho``) and are scored by the one metrics
module at full resolution, so their numbers compare directly. Artefacts: the mask as GDS (in the clip's own
coordinates), ``<clip>_mask.npy`` (uint8 {0, 1}, 2048 x 2048, placed as ``litho simulate`` places the clip),
PNGs of the mask, the nominal print over the target and the PV band, and the loss history as JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

import numpy as np
from pydantic import BaseModel, Field

from tools.common import InputError, ProgressFn, Timer, ToolResult, package_versions, report, run_dir
from tools.litho.clips import Clip, load_clip
from tools.litho.layout import mask_to_rects, write_gds
from tools.litho.metrics import MaskMetrics, corner_prints, evaluate_mask
from tools.litho.raster import rasterize
from tools.opc.configs import DiffOPCConfig, ILTConfig, MBOPCConfig

if TYPE_CHECKING:
    from tools.litho.simulator import LithoSim

__all__ = ("OPCOptimizeArgs", "OPCOptimizeResult", "run_opc_optimize", "METHODS", "DEFAULT_ITERATIONS")

Method = Literal["diffopc", "ilt", "mbopc", "camo"]
METHODS: tuple[str, ...] = get_args(Method)
DEFAULT_ITERATIONS: dict[str, int] = {
    "diffopc": DiffOPCConfig().iterations,
    "ilt": ILTConfig().iterations,
    "mbopc": MBOPCConfig().iterations,
    "camo": 10,  # policy rounds (tools.opc.camo.DEFAULT_ROUNDS; imported lazily, it needs gymnasium)
}
# Optimised window (offset, side) of pixel ILT per suite: OpenILT's centre 1024 for ICCAD13 clips,
# LithoBench's centre 1280 at offset 384 for its via/contact clips (iccad13/README.md).
ILT_WINDOWS: dict[str, tuple[int, int]] = {"via": (384, 1280), "contact": (384, 1280)}
ILT_DEFAULT_WINDOW = (512, 1024)


class OPCOptimizeArgs(BaseModel):
    """Arguments of ``run_opc_optimize``."""

    clip: str = Field(
        description="Clip name (M1_test1..M1_test10 or case1..case10, a via1 clip such as aes_via1__217_754, "
        "a contact clip such as AND2_X4__0_0) or a path to a .glp/.gds/.oas file."
    )
    layer: int | None = Field(default=None, description="GDS/OASIS layer of the target (file clips only).")
    datatype: int = Field(default=0, description="GDS/OASIS datatype of the target (file clips only).")
    method: Method = Field(
        default="diffopc", description="diffopc (differentiable edge-based OPC), ilt (pixel ILT, OpenILT SimpleILT "
        "conventions), mbopc (EPE-feedback model-based OPC) or camo (reinforcement-learning segment OPC, CAMO)."
    )
    iterations: int | None = Field(
        default=None, ge=1, le=5000, description="Optimisation steps; None = the method's default "
        f"({', '.join(f'{k} {v}' for k, v in DEFAULT_ITERATIONS.items())})."
    )
    segment_length_nm: int = Field(
        default=60, ge=10, le=1000, description="Edge fragmentation length for diffopc and mbopc (DiffOPC: 60). In nm."
    )
    raster: Literal["exact", "inclusive"] = Field(
        default="exact", description="Target (and mask) rasterisation: exact (pixel count = area) or inclusive "
        "(cv2.fillPoly, as OpenILT/LithoBench)."
    )
    checkpoint: str | None = Field(
        default=None, description="camo only: a policy checkpoint from `chipcrew train camo`; None = the packaged "
        "one for the clip's layer (via for via/contact clips, metal otherwise); 'random' = the random masked policy."
    )
    move_range_nm: int | None = Field(
        default=None, description="camo only: largest move per segment and round, must match the checkpoint "
        "(packaged: 8). In nm."
    )
    seed: int = Field(default=0, description="Torch seed (the methods are deterministic; recorded for provenance).")
    out_dir: str | None = Field(default=None, description="Folder for the artefacts; None = a fresh run folder.")
    device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="Torch device; auto = CUDA if present.")


class OPCOptimizeResult(ToolResult):
    """Metrics of the optimised mask and of the uncorrected mask (mask = target), both at full resolution."""

    clip: str
    suite: str
    method: str
    raster: str
    device: str
    iterations: int = Field(description="Optimisation steps run.")
    best_iteration: int = Field(description="Iteration whose mask was kept (best loss or L2).")
    segments: int | None = Field(default=None, description="Movable segments (edge-based methods).")
    metrics: MaskMetrics = Field(description="Optimised mask: L2, PV band, EPE, shots, MRC.")
    baseline: MaskMetrics = Field(description="The target printed as drawn (no OPC).")
    optimize_seconds: float = Field(description="Wall time of the optimisation alone. In seconds.")


def run_opc_optimize(args: OPCOptimizeArgs, progress: ProgressFn | None = None) -> OPCOptimizeResult:
    """Optimise the clip's mask with the chosen method, score it and write the artefacts."""
    import torch

    from tools.litho.simulator import LithoSim, resolve_device

    report(progress, f"loading {args.clip}", 0.0)
    with Timer() as total:
        torch.manual_seed(args.seed)
        clip = load_clip(args.clip, layer=args.layer, datatype=args.datatype)
        target = rasterize(clip.layout, convention=args.raster)
        device = resolve_device(args.device)
        sim = LithoSim(device=device)
        iterations = args.iterations or DEFAULT_ITERATIONS[args.method]
        sub = _scaled(progress, 0.05, 0.85)
        with Timer() as opt_timer:
            mask, polygons, history, best_it, n_segments = _optimise(args, clip, target, sim, iterations, sub)
        report(progress, "scoring at full resolution", 0.86)
        prints = corner_prints(mask, sim)
        metrics = evaluate_mask(mask, target, sim, prints=prints)
        baseline = evaluate_mask(target, target, sim)
        report(progress, "writing artefacts", 0.95)
        artifacts = _write(run_dir(args.out_dir, "opc-optimize"), clip, mask, polygons, target, prints, history)
    report(progress, "done", 1.0)
    return OPCOptimizeResult(
        clip=clip.name,
        suite=clip.suite,
        method=args.method,
        raster=args.raster,
        device=str(device),
        iterations=iterations,
        best_iteration=best_it,
        segments=n_segments,
        metrics=metrics,
        baseline=baseline,
        optimize_seconds=round(opt_timer.seconds, 3),
        seed=args.seed,
        seconds=round(total.seconds, 3),
        versions=package_versions("torch", "numpy", "gdstk"),
        artifacts=artifacts,
    )


def _optimise(
    args: OPCOptimizeArgs, clip: Clip, target: np.ndarray, sim: LithoSim, iterations: int, progress: ProgressFn | None
) -> tuple[np.ndarray, list[np.ndarray] | None, list[dict[str, float]], int, int | None]:
    """(binary mask, mask polygons or None for pixel masks, history, best iteration, segment count)."""
    from tools.opc.diffopc import edge_model, optimize_edges
    from tools.opc.ilt import optimize_pixels
    from tools.opc.mbopc import optimize_mbopc

    if args.method == "ilt":
        offset, side = ILT_WINDOWS.get(clip.suite, ILT_DEFAULT_WINDOW)
        res = optimize_pixels(target, sim, ILTConfig(iterations=iterations, window_offset=offset, window_size=side), progress)
        return res.mask, None, res.history, res.best_iteration, None
    if args.method == "camo":
        return _camo(args, sim, iterations, progress)
    model = edge_model(clip.layout.polygons, args.segment_length_nm, sim.size, inclusive=args.raster == "inclusive")
    if args.method == "diffopc":
        edge = optimize_edges(model, target, sim, DiffOPCConfig(iterations=iterations), progress)
    else:
        edge = optimize_mbopc(model, target, sim, MBOPCConfig(iterations=iterations), progress)
    return edge.mask, edge.polygons, edge.history, edge.best_iteration, len(edge.segments)


def _camo(
    args: OPCOptimizeArgs, sim: LithoSim, rounds: int, progress: ProgressFn | None
) -> tuple[np.ndarray, list[np.ndarray], list[dict[str, float]], int, int]:
    """CAMO inference (lazy import: gymnasium and the policy load only when asked for)."""
    if args.raster != "exact":
        raise InputError("raster", args.raster, "exact for method camo (its environment scores the exact raster)")
    from tools.opc.camo import optimize_camo

    edge, _ = optimize_camo(
        args.clip, sim, checkpoint=args.checkpoint, rounds=rounds, move_range_nm=args.move_range_nm,
        gds_layer=args.layer, gds_datatype=args.datatype, seed=args.seed, progress=progress,
    )
    return edge.mask, edge.polygons, edge.history, edge.best_iteration, len(edge.segments)


def _write(
    folder: Path,
    clip: Clip,
    mask: np.ndarray,
    polygons: list[np.ndarray] | None,
    target: np.ndarray,
    prints: dict[str, np.ndarray],
    history: list[dict[str, float]],
) -> dict[str, str]:
    """Write GDS, NPY, PNGs and the history; return their paths by kind."""
    from tools.litho.images import save_mask_png, save_print_png, save_pvband_png

    stem = clip.name
    shapes = polygons if polygons is not None else mask_to_rects(mask)
    paths = {
        "gds": write_gds(folder / f"{stem}_mask.gds", shapes, offset=clip.offset),
        "mask_npy": folder / f"{stem}_mask.npy",
        "mask_png": save_mask_png(mask, folder / f"{stem}_mask.png"),
        "print_png": save_print_png(target, prints["nominal"], folder / f"{stem}_print.png"),
        "pvband_png": save_pvband_png(target, prints["max"], prints["min"], folder / f"{stem}_pvband.png"),
        "history": folder / f"{stem}_history.json",
    }
    np.save(paths["mask_npy"], (mask >= 0.5).astype(np.uint8))
    paths["history"].write_text(json.dumps(history, indent=1))
    return {k: str(v) for k, v in paths.items()}


def _scaled(progress: ProgressFn | None, start: float, end: float) -> ProgressFn | None:
    """A progress callback mapping an inner [0, 1] onto [start, end] of the outer one."""
    if progress is None:
        return None
    return lambda msg, frac: progress(msg, start + (end - start) * frac)
