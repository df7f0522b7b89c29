"""``chipcrew bench opc``: run an OPC method over the ICCAD13, via or held-out contact clips and print the table
(over eval.bench_opc); ``--compare`` puts CAMO, its ablations and the baselines side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from chipcrew.commands import terminal
from chipcrew.commands.choices import check_each, choices
from eval.bench_opc import Suite
from tools.common import InputError
from tools.opc.optimize_tool import OPCOptimizeArgs

__all__ = ("command",)

Method = choices(OPCOptimizeArgs, "method")
Raster = choices(OPCOptimizeArgs, "raster")
Device = choices(OPCOptimizeArgs, "device")


def command(
    out: Annotated[Path, typer.Option("--out", help="Folder for bench_opc.json/.md, masks (.npy, .gds) and PNGs.")],
    suite: Annotated[Suite, typer.Option("--suite", help="Clip suite (contact = the held-out contact clips).")] = "iccad13",
    cases: Annotated[Optional[str], typer.Option("--cases", help="1-based case numbers, e.g. 1,3-5; default all.")] = None,
    method: Annotated[Method, typer.Option("--method", help="OPC method.")] = "diffopc",
    raster: Annotated[Raster, typer.Option("--raster", help="Target rasterisation (inclusive = OpenILT's cv2).")] = "exact",
    iterations: Annotated[Optional[int], typer.Option("--iterations", min=1, help="Steps per case; default: the method's.")] = None,
    device: Annotated[Device, typer.Option("--device", help="Torch device.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
    checkpoint: Annotated[Optional[str], typer.Option("--checkpoint", help="camo: checkpoint path or 'random'.")] = None,
    compare: Annotated[bool, typer.Option("--compare", help="CAMO, random policy, --variant runs and baselines.")] = False,
    variant: Annotated[Optional[list[str]], typer.Option("--variant", help="--compare: extra CAMO checkpoint "
                                                         "name=path (e.g. nognn=..., seed1=...); repeatable.")] = None,
    baselines: Annotated[str, typer.Option("--baselines", help="--compare: comma-separated methods.")] = "mbopc,diffopc",
    reuse: Annotated[bool, typer.Option("--reuse", help="--compare: keep entries already run into --out.")] = False,
) -> None:
    """Optimise every selected clip with one method; report L2, PV band, EPE, shots, MRC and time per case."""
    from eval.bench_opc import camo_markdown, run_camo_comparison, run_opc_bench, to_markdown

    if compare:
        pairs = [v.split("=", 1) for v in variant or []]
        if any(len(p) != 2 or not all(p) for p in pairs):
            raise InputError("variant", variant, "name=path pairs, e.g. nognn=runs/nognn/camo_via.pt")
        others = check_each("baselines", [b for b in baselines.split(",") if b], Method) or []
        with terminal.run_folder(out), terminal.progress_bar(log=not as_json) as progress:
            result = run_camo_comparison(suite, cases, out, tuple(others), dict(pairs), progress=progress,
                                         device=device, reuse=reuse)
        typer.echo(json.dumps(result, indent=2) if as_json else camo_markdown(result))
        return
    with terminal.run_folder(out), terminal.progress_bar(log=not as_json) as progress:
        result = run_opc_bench(suite, cases, method, raster, out, iterations, progress=progress, device=device,
                               checkpoint=checkpoint)
    typer.echo(json.dumps(result, indent=2) if as_json else to_markdown(result))
