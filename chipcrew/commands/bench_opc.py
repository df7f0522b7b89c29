"""``chipcrew bench opc``: run an OPC method over the ICCAD13 or via clips and print the table (over eval.bench_opc)."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from tools.common import ChipCrewError

__all__ = ("command",)


class Suite(str, Enum):
    iccad13 = "iccad13"
    via = "via"


class Method(str, Enum):
    diffopc = "diffopc"
    ilt = "ilt"
    mbopc = "mbopc"


class Raster(str, Enum):
    exact = "exact"
    inclusive = "inclusive"


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


def command(
    out: Annotated[Path, typer.Option("--out", help="Folder for bench_opc.json/.md, masks (.npy, .gds) and PNGs.")],
    suite: Annotated[Suite, typer.Option("--suite", help="Clip suite.")] = Suite.iccad13,
    cases: Annotated[Optional[str], typer.Option("--cases", help="1-based case numbers, e.g. 1,3-5; default all.")] = None,
    method: Annotated[Method, typer.Option("--method", help="OPC method.")] = Method.diffopc,
    raster: Annotated[Raster, typer.Option("--raster", help="Target rasterisation (inclusive = OpenILT's cv2).")] = Raster.exact,
    iterations: Annotated[Optional[int], typer.Option("--iterations", min=1, help="Steps per case; default: the method's.")] = None,
    device: Annotated[Device, typer.Option("--device", help="Torch device.")] = Device.auto,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
) -> None:
    """Optimise every selected clip with one method; report L2, PV band, EPE, shots, MRC and time per case."""
    from eval.bench_opc import run_opc_bench, to_markdown

    def progress(message: str, fraction: float) -> None:
        typer.echo(f"[{fraction:4.0%}] {message}", err=True)

    try:
        result = run_opc_bench(
            suite.value, cases, method.value, raster.value, out, iterations, progress=progress, device=device.value
        )
    except ChipCrewError as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from err
    typer.echo(json.dumps(result, indent=2) if as_json else to_markdown(result))
