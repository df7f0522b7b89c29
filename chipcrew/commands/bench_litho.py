"""``chipcrew bench litho``: exactness and speed of the lithography engine on one clip (over eval.bench_litho)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from chipcrew.commands import terminal
from chipcrew.commands.bench import JsonOpt, OutOpt, QuickOpt, show
from chipcrew.commands.choices import choices
from tools.litho.simulate_tool import LithoSimulateArgs

__all__ = ("command",)

Device = choices(LithoSimulateArgs, "device")


def command(
    out: OutOpt = None,
    quick: QuickOpt = False,
    clip: Annotated[str, typer.Option(help="Clip to print with mask = target (M1_test1 has the README's sanity values).")] = "M1_test1",
    repeats: Annotated[Optional[int], typer.Option(min=1, help="Timed repeats per measurement (default 5; quick 2).")] = None,
    device: Annotated[Device, typer.Option(help="Torch device.")] = "auto",
    threads: Annotated[Optional[int], typer.Option(min=1, help="Torch CPU threads (default: torch's own).")] = None,
    float64: Annotated[
        Optional[bool], typer.Option("--float64/--skip-float64", help="Also check exactness in float64 (~10 s; default: not in quick).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Lithography engine: band-limited SOCS vs 24 direct FFTs on one clip."""
    from eval.bench_litho import run_bench, to_markdown
    from tools.common import run_dir

    folder = out or run_dir(None, "bench_litho")
    with terminal.run_folder(folder), terminal.progress_bar(log=not as_json) as progress:
        result = run_bench(folder, quick, progress, clip=clip, repeats=repeats, device=device, threads=threads, float64=float64)
    show(result, to_markdown, as_json, folder / "bench_litho.json")
