"""``chipcrew bench opc``: run an OPC method over the ICCAD13 or via clips and print the table (over eval.bench_opc)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from chipcrew.commands import terminal
from chipcrew.commands.choices import choices
from eval.bench_opc import Suite
from tools.opc.optimize_tool import OPCOptimizeArgs

__all__ = ("command",)

Method = choices(OPCOptimizeArgs, "method")
Raster = choices(OPCOptimizeArgs, "raster")
Device = choices(OPCOptimizeArgs, "device")


def command(
    out: Annotated[Path, typer.Option("--out", help="Folder for bench_opc.json/.md, masks (.npy, .gds) and PNGs.")],
    suite: Annotated[Suite, typer.Option("--suite", help="Clip suite.")] = "iccad13",
    cases: Annotated[Optional[str], typer.Option("--cases", help="1-based case numbers, e.g. 1,3-5; default all.")] = None,
    method: Annotated[Method, typer.Option("--method", help="OPC method.")] = "diffopc",
    raster: Annotated[Raster, typer.Option("--raster", help="Target rasterisation (inclusive = OpenILT's cv2).")] = "exact",
    iterations: Annotated[Optional[int], typer.Option("--iterations", min=1, help="Steps per case; default: the method's.")] = None,
    device: Annotated[Device, typer.Option("--device", help="Torch device.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
) -> None:
    """Optimise every selected clip with one method; report L2, PV band, EPE, shots, MRC and time per case."""
    from eval.bench_opc import run_opc_bench, to_markdown

    with terminal.run_folder(out), terminal.progress_bar(log=not as_json) as progress:
        result = run_opc_bench(suite, cases, method, raster, out, iterations, progress=progress, device=device)
    typer.echo(json.dumps(result, indent=2) if as_json else to_markdown(result))
