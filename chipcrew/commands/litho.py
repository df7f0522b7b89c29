"""``chipcrew litho``: lithography simulation and mask scoring from the terminal (thin layer over tools.litho)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import NoReturn

import typer

from tools.common import ChipCrewError
from tools.litho.clips import list_clips
from tools.litho.evaluate_tool import LithoEvaluateArgs, run_litho_evaluate
from tools.litho.simulate_tool import LithoSimulateArgs, run_litho_simulate

__all__ = ("app",)

app = typer.Typer(
    help="Lithography on the ICCAD 2013 model (SOCS, 24 kernels, threshold 0.225): print clips, score masks.",
    no_args_is_help=True,
)


class Corner(str, Enum):
    nominal = "nominal"
    max = "max"
    min = "min"
    all = "all"


class Raster(str, Enum):
    exact = "exact"
    inclusive = "inclusive"


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class SuiteName(str, Enum):
    iccad13 = "iccad13"
    via = "via"
    contact = "contact"


def _fail(err: ChipCrewError) -> NoReturn:
    typer.echo(f"Error: {err}", err=True)
    raise typer.Exit(code=2)


@app.command()
def simulate(
    clip: str = typer.Option(
        ..., "--clip", help="Clip name (M1_test1, case3, aes_via1__217_754, AND2_X4__0_0) or .glp/.gds path."
    ),
    out: Path = typer.Option(..., "--out", help="Folder for mask.npy, intensity.npy, print.png."),
    corner: Corner = typer.Option(Corner.nominal, "--corner", help="Process corner, or all three."),
    raster: Raster = typer.Option(Raster.exact, "--raster", help="Target rasterisation convention."),
    layer: int | None = typer.Option(None, "--layer", help="GDS/OASIS layer of the target (file clips)."),
    device: Device = typer.Option(Device.auto, "--device", help="Torch device."),
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON."),
) -> None:
    """Print a clip as drawn (mask = target) and report printed area, L2 and PV band."""
    try:
        result = run_litho_simulate(
            LithoSimulateArgs(
                clip=clip, corner=corner.value, raster=raster.value, layer=layer, out_dir=str(out), device=device.value
            )
        )
    except ChipCrewError as err:
        _fail(err)
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
    raster: Raster = typer.Option(Raster.exact, "--raster", help="Target rasterisation convention."),
    shot_grid: int | None = typer.Option(None, "--shot-grid", help="Count shots on an NxN down-sampling (e.g. 512)."),
    out: Path | None = typer.Option(None, "--out", help="Folder for print.png and pvband.png."),
    device: Device = typer.Option(Device.auto, "--device", help="Torch device."),
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON."),
) -> None:
    """Score a mask: L2, PV band, EPE (contest and OpenILT counts), shots, mask-rule violations."""
    try:
        result = run_litho_evaluate(
            LithoEvaluateArgs(
                clip=clip,
                mask=str(mask),
                raster=raster.value,
                shot_grid=shot_grid,
                out_dir=None if out is None else str(out),
                device=device.value,
            )
        )
    except ChipCrewError as err:
        _fail(err)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    m = result.metrics
    typer.echo(f"{result.clip}: mask {result.mask}, raster={result.raster}")
    typer.echo(f"{'L2':>8} {'PVB':>8} {'EPE':>5} {'EPE(oi)':>8} {'shots':>6} {'MRC':>4}")
    typer.echo(f"{m.l2:>8} {m.pvb:>8} {m.epe_contest:>5} {m.epe_openilt:>8} {m.shots:>6} {m.mrc_violations:>4}")


@app.command()
def clips(suite: SuiteName = typer.Argument(SuiteName.iccad13, help="Which suite to list.")) -> None:
    """List the clip names of a suite."""
    typer.echo("\n".join(list_clips(suite.value)))
