"""Tool: print a clip as drawn (mask = target) and report what comes out, at one corner or all three."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, Field

from tools.common import ProgressFn, Timer, ToolResult, package_versions, report, run_dir
from tools.litho.clips import load_clip
from tools.litho.metrics import l2, pv_band
from tools.litho.raster import rasterize

if TYPE_CHECKING:
    import torch

__all__ = ("LithoSimulateArgs", "LithoSimulateResult", "run_litho_simulate", "sync")


class LithoSimulateArgs(BaseModel):
    """Arguments of ``run_litho_simulate``."""

    clip: str = Field(
        description="Clip name (M1_test1..M1_test10 or case1..case10, a via1 clip such as aes_via1__217_754, "
        "a contact clip such as AND2_X4__0_0) or a path to a .glp/.gds/.oas file."
    )
    corner: Literal["nominal", "max", "min", "all"] = Field(
        default="nominal",
        description="Process corner: nominal (focus, dose 1.00), max (focus, 1.02), min (defocus, 0.98), or all three.",
    )
    raster: Literal["exact", "inclusive"] = Field(
        default="exact", description="Target rasterisation: exact (pixel count = area) or inclusive (cv2/OpenILT)."
    )
    layer: int | None = Field(default=None, description="GDS/OASIS layer of the target (file clips only).")
    datatype: int = Field(default=0, description="GDS/OASIS datatype of the target (file clips only).")
    out_dir: str | None = Field(default=None, description="Folder for mask.npy, intensity.npy, print.png.")
    device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="Torch device; auto = CUDA if present.")


class LithoSimulateResult(ToolResult):
    """What printing the drawn clip gives. ``seconds`` is the simulation call alone, on a warm engine."""

    clip: str
    suite: str
    corner: str
    raster: str
    device: str
    target_px: int = Field(description="Target pixels (nm^2) in the chosen rasterisation.")
    printed_px: dict[str, int] = Field(description="Printed pixels per simulated corner (I >= 0.225).")
    l2: int | None = Field(default=None, description="Nominal print vs target, differing pixels (if nominal ran).")
    pv_band: int | None = Field(default=None, description="Max vs min print, differing pixels (corner=all).")
    setup_seconds: float = Field(
        description="Loading the clip and kernels, building and warming the engine. In seconds."
    )


def sync(device: torch.device) -> None:
    """Wait for queued CUDA work so wall-clock timings are honest."""
    if device.type == "cuda":
        import torch

        torch.cuda.synchronize(device)


def run_litho_simulate(args: LithoSimulateArgs, progress: ProgressFn | None = None) -> LithoSimulateResult:
    """Rasterise a clip, image it through the ICCAD 2013 optics and threshold it.

    Writes ``mask.npy`` (float32 2048 x 2048 target as rasterised), ``intensity.npy`` (the requested corner,
    nominal for ``all``; with ``all`` also ``intensity_max.npy`` and ``intensity_min.npy``), ``print.png``
    (print over target) and, for ``all``, ``pvband.png``. The engine is built and run once before the
    timed call, so ``seconds`` is what a repeated call (e.g. inside an optimisation loop) costs.
    """
    import torch

    from tools.litho.images import save_print_png, save_pvband_png
    from tools.litho.simulator import CORNERS, THRESHOLD, LithoSim, resolve_device

    report(progress, f"loading {args.clip}", 0.0)
    with Timer() as setup:
        clip = load_clip(args.clip, layer=args.layer, datatype=args.datatype)
        target = rasterize(clip.layout, convention=args.raster)
        device = resolve_device(args.device)
        sim = LithoSim(device=device)
        mask = torch.from_numpy(target).to(device)
        corners = list(CORNERS) if args.corner == "all" else [args.corner]
        with torch.no_grad():  # warm-up: FFT plans and kernel caches, so `seconds` times a warm engine
            sim.intensity(mask, corners[0])
            sync(device)
    report(progress, f"simulating {', '.join(corners)}", 0.2)
    with torch.no_grad(), Timer() as timer:
        if len(corners) == 1:
            images = {corners[0]: sim.intensity(mask, corners[0])}
        else:
            images = sim.simulate(mask)
        sync(device)
    report(progress, "writing artefacts", 0.8)
    folder = run_dir(args.out_dir, "litho-simulate")
    arrays = {k: v.cpu().numpy().astype(np.float32) for k, v in images.items()}
    prints = {k: v >= THRESHOLD for k, v in arrays.items()}
    artifacts = {"mask": str(folder / "mask.npy"), "intensity": str(folder / "intensity.npy")}
    np.save(folder / "mask.npy", target)
    shown = corners[0]
    np.save(folder / "intensity.npy", arrays[shown])
    if len(corners) > 1:
        for extra in ("max", "min"):
            np.save(folder / f"intensity_{extra}.npy", arrays[extra])
            artifacts[f"intensity_{extra}"] = str(folder / f"intensity_{extra}.npy")
        artifacts["pvband"] = str(save_pvband_png(target, prints["max"], prints["min"], folder / "pvband.png"))
    artifacts["print"] = str(save_print_png(target, prints[shown], folder / "print.png"))
    report(progress, "done", 1.0)
    return LithoSimulateResult(
        clip=clip.name,
        suite=clip.suite,
        corner=args.corner,
        raster=args.raster,
        device=str(device),
        target_px=int(target.sum()),
        printed_px={k: int(v.sum()) for k, v in prints.items()},
        l2=l2(prints["nominal"], target) if "nominal" in prints else None,
        pv_band=pv_band(prints["max"], prints["min"]) if len(corners) > 1 else None,
        setup_seconds=round(setup.seconds, 4),
        seconds=round(timer.seconds, 4),
        versions=package_versions("torch", "numpy"),
        artifacts=artifacts,
    )
