"""``chipcrew bench opc``: run an OPC method over the ICCAD13, via or held-out contact clips and print the table
(over eval.bench_opc); ``--compare`` puts CAMO, its ablations and the baselines side by side."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from tools.common import ChipCrewError, InputError

__all__ = ("command",)


class Suite(str, Enum):
    iccad13 = "iccad13"
    via = "via"
    contact = "contact"


class Method(str, Enum):
    diffopc = "diffopc"
    ilt = "ilt"
    mbopc = "mbopc"
    camo = "camo"


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
    checkpoint: Annotated[Optional[str], typer.Option("--checkpoint", help="camo: checkpoint path or 'random'.")] = None,
    compare: Annotated[bool, typer.Option("--compare", help="CAMO, random policy, --variant runs and baselines.")] = False,
    variant: Annotated[Optional[list[str]], typer.Option("--variant", help="--compare: extra CAMO checkpoint "
                                                         "name=path (e.g. nognn=..., seed1=...); repeatable.")] = None,
    baselines: Annotated[str, typer.Option("--baselines", help="--compare: comma-separated methods.")] = "mbopc,diffopc",
) -> None:
    """Optimise every selected clip with one method; report L2, PV band, EPE, shots, MRC and time per case."""
    from eval.bench_opc import camo_markdown, run_camo_comparison, run_opc_bench, to_markdown

    def progress(message: str, fraction: float) -> None:
        typer.echo(f"[{fraction:4.0%}] {message}", err=True)

    try:
        if compare:
            pairs = [v.split("=", 1) for v in variant or []]
            if any(len(p) != 2 for p in pairs):
                raise InputError("variant", variant, "name=path pairs, e.g. nognn=runs/nognn/camo_via.pt")
            result = run_camo_comparison(suite.value, cases, out, tuple(b for b in baselines.split(",") if b),
                                         dict(pairs), progress=progress, device=device.value)  # type: ignore[arg-type]
            typer.echo(json.dumps(result, indent=2) if as_json else camo_markdown(result))
            return
        result = run_opc_bench(
            suite.value, cases, method.value, raster.value, out, iterations, progress=progress, device=device.value,
            checkpoint=checkpoint,
        )
    except ChipCrewError as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from err
    typer.echo(json.dumps(result, indent=2) if as_json else to_markdown(result))
