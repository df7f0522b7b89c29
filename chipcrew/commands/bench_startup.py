"""``chipcrew bench startup``: how long each command takes to start, as a new process, against its budget."""

from __future__ import annotations

import shlex
from typing import Annotated, Optional

import typer

from chipcrew.commands import terminal
from chipcrew.commands.bench import JsonOpt, OutOpt, QuickOpt, show

__all__ = ("command",)


def command(
    out: OutOpt = None,
    quick: QuickOpt = False,
    runs: Annotated[Optional[int], typer.Option(min=1, help="Runs per command (default 5; quick 3).")] = None,
    chipcrew: Annotated[
        Optional[str],
        typer.Option(help="Command line that starts the CLI to time, e.g. another install's 'chipcrew' (default: this one)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Time chipcrew's start-up per command (new processes) against its budgets."""
    from eval.bench_startup import run_bench, to_markdown
    from tools.common import run_dir

    folder = out or run_dir(None, "bench_startup")
    with terminal.run_folder(folder), terminal.progress_bar(log=not as_json) as progress:
        result = run_bench(folder, quick, progress, runs=runs, chipcrew=shlex.split(chipcrew) if chipcrew else None)
    show(result, to_markdown, as_json, folder / "bench_startup.json")
    if not result["all_pass"]:
        raise typer.Exit(1)
