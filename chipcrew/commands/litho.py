"""``chipcrew litho``: lithography simulation and mask scoring from the terminal (thin layer over tools.litho)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from chipcrew.commands import terminal
from chipcrew.commands.choices import choices
from tools.litho.clips import Suite, list_clips
from tools.litho.evaluate_tool import LithoEvaluateArgs, run_litho_evaluate
from tools.litho.simulate_tool import LithoSimulateArgs, run_litho_simulate

__all__ = ("app",)

app = typer.Typer(
    help="Lithography on the ICCAD 2013 model (SOCS, 24 kernels, threshold 0.225): print clips, score masks.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

Corner = choices(LithoSimulateArgs, "corner")
Raster = choices(LithoSimulateArgs, "raster")
Device = choices(LithoSimulateArgs, "device")


@app.command()
def simulate(
    clip: str = typer.Option(
        ..., "--clip", help="Clip name (M1_test1, case3, aes_via1__217_754, AND2_X4__0_0) or .glp/.gds path."
    ),
    out: Path = typer.Option(..., "--out", help="Folder for mask.npy, intensity.npy, print.png."),
    corner: Annotated[Corner, typer.Option("--corner", help="Process corner, or all three.")] = "nominal",
    raster: Annotated[Raster, typer.Option("--raster", help="Target rasterisation convention.")] = "exact",
    layer: Optional[int] = typer.Option(None, "--layer", help="GDS/OASIS layer of the target (file clips)."),
    device: Annotated[Device, typer.Option("--device", help="Torch device.")] = "auto",
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON."),
) -> None:
    """Print a clip as drawn (mask = target) and report printed area, L2 and PV band."""
    with terminal.run_folder(out):
        result = run_litho_simulate(
            LithoSimulateArgs(clip=clip, corner=corner, raster=raster, layer=layer, out_dir=str(out), device=device)
        )
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    typer.echo(f"{result.clip} ({result.suite}), raster={result.raster}, device={result.device}")
    typer.echo(f"{'corner':<8} {'printed px':>11}")
    for name, px in result.printed_px.items():
        typer.echo(f"{name:<8} {px:>11}")
    typer.echo(f"target px {result.target_px}; L2 {result.l2}; PV band {result.pv_band}; {result.seconds:.3f} s")
    typer.echo(f"written to {out}")


@app.command()
def evaluate(
    clip: str = typer.Option(..., "--clip", help="Clip whose target the mask is scored against."),
    mask: Path = typer.Option(..., "--mask", help="Mask file: .npy, .png, .gds or .oas."),
    raster: Annotated[Raster, typer.Option("--raster", help="Target rasterisation convention.")] = "exact",
    shot_grid: Optional[int] = typer.Option(None, "--shot-grid", help="Count shots on an NxN down-sampling (e.g. 512)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for print.png and pvband.png."),
    device: Annotated[Device, typer.Option("--device", help="Torch device.")] = "auto",
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON."),
) -> None:
    """Score a mask: L2, PV band, EPE (contest and OpenILT counts), shots, mask-rule violations."""
    with terminal.run_folder(out):
        result = run_litho_evaluate(
            LithoEvaluateArgs(
                clip=clip,
                mask=str(mask),
                raster=raster,
                shot_grid=shot_grid,
                out_dir=None if out is None else str(out),
                device=device,
            )
        )
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    m = result.metrics
    typer.echo(f"{result.clip}: mask {result.mask}, raster={result.raster}")
    typer.echo(f"{'L2':>8} {'PVB':>8} {'EPE':>5} {'EPE(oi)':>8} {'shots':>6} {'MRC':>4}")
    typer.echo(f"{m.l2:>8} {m.pvb:>8} {m.epe_contest:>5} {m.epe_openilt:>8} {m.shots:>6} {m.mrc_violations:>4}")


@app.command()
def clips(suite: Annotated[Suite, typer.Argument(help="Which suite to list.")] = "iccad13") -> None:
    """List the clip names of a suite."""
    typer.echo("\n".join(list_clips(suite)))
